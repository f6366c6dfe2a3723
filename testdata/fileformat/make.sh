#!/bin/sh
# Regenerates the fixtures of detectors/fileformat with real tools.
# Tested with Debian 12: Info-ZIP zip 3.0, 7-Zip 26.02, qpdf 11.3.0,
# OpenSSL 3.0, GnuPG 2.2.40, LibreOffice 7.4, gzip.
# Every secret used here is a throwaway made for these fixtures; the keys
# are generated in a temporary directory and deleted afterwards.
# Output is not byte-for-byte reproducible (random salts and IVs): the
# committed files are what the tests read; the expected verdicts live in
# detectors/fileformat/fixtures_test.go and do not depend on the random bytes.
set -eu
cd "$(dirname "$0")"
out=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# Payload: a check-digit-valid but obviously fake My Number.
printf 'Hello, this is a test file.\nマイナンバー: 1234 5678 9018\n' >hello.txt
printf 'public readme\n' >public.txt
printf '氏名,個人番号\n山田太郎,123456789018\n' >list.csv
mkdir -p dir/sub && cp hello.txt dir/sub/a.txt && cp hello.txt dir/b.txt

# --- zip (Info-ZIP and 7-Zip) ---
rm -f "$out"/zip-*.zip
zip -q -X "$out/zip-plain.zip" hello.txt public.txt
zip -q -X -P secret "$out/zip-zipcrypto.zip" hello.txt public.txt
zip -q -X "$out/zip-mixed.zip" public.txt
zip -q -X -P secret "$out/zip-mixed.zip" hello.txt
# Directory entries are never encrypted; all files are.
zip -q -X -r -P secret "$out/zip-zipcrypto-with-dirs.zip" dir
7z a -bd -bso0 -tzip -psecret -mem=AES256 "$out/zip-aes256.zip" hello.txt public.txt
7z a -bd -bso0 -tzip -psecret -mem=AES128 "$out/zip-aes128.zip" hello.txt

# --- 7z ---
rm -f "$out"/7z-*.7z
7z a -bd -bso0 -t7z "$out/7z-plain.7z" hello.txt public.txt
7z a -bd -bso0 -t7z -psecret -mhe=off "$out/7z-aes.7z" hello.txt public.txt
7z a -bd -bso0 -t7z -psecret -mhe=on "$out/7z-aes-mhe.7z" hello.txt public.txt
mkdir many && i=0 && while [ $i -lt 40 ]; do cp hello.txt "many/file-$i.txt"; i=$((i + 1)); done
7z a -bd -bso0 -t7z -psecret -mhe=off "$out/7z-aes-many.7z" many
7z a -bd -bso0 -t7z -m0=lzma2 "$out/7z-plain-many.7z" many
: >empty.txt
7z a -bd -bso0 -t7z -psecret "$out/7z-only-empty-file.7z" empty.txt

# --- PDF (LibreOffice writes the source, qpdf encrypts) ---
soffice -env:UserInstallation="file://$tmp/lo" --headless --convert-to pdf --outdir "$tmp" hello.txt >/dev/null 2>&1
cp hello.pdf "$out/pdf-lo-plain.pdf"
qpdf --encrypt userpw ownerpw 256 -- hello.pdf "$out/pdf-r6-user.pdf"
qpdf --encrypt "" ownerpw 256 --print=none --modify=none --extract=n -- hello.pdf "$out/pdf-r6-owneronly.pdf"
# Object streams force a cross-reference stream and an indirect /Encrypt
# that is only reachable through the xref stream (or by scanning).
qpdf --object-streams=generate --encrypt userpw ownerpw 128 --use-aes=y -- hello.pdf "$out/pdf-r4-user-xrefstream.pdf"
qpdf --object-streams=generate --encrypt "" ownerpw 128 --use-aes=y --print=none -- hello.pdf "$out/pdf-r4-owneronly-xrefstream.pdf"
qpdf --allow-weak-crypto --encrypt "" ownerpw 128 --use-aes=n --print=none -- hello.pdf "$out/pdf-r3-owneronly.pdf"
qpdf --allow-weak-crypto --encrypt userpw ownerpw 40 -- hello.pdf "$out/pdf-r2-user.pdf"
qpdf --object-streams=generate hello.pdf "$out/pdf-plain-xrefstream.pdf"
# Linearized: the last startxref points at the first-page section.
qpdf --linearize --encrypt userpw ownerpw 256 -- hello.pdf "$out/pdf-r6-user-linearized.pdf"
qpdf --linearize --encrypt "" ownerpw 128 --use-aes=y -- hello.pdf "$out/pdf-r4-owneronly-linearized.pdf"

# --- S/MIME (OpenSSL, throwaway certificate) ---
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=fileformat-test@example.jp" \
	-keyout key.pem -out cert.pem 2>/dev/null
openssl smime -encrypt -aes256 -in hello.txt -outform DER -out "$out/smime-enveloped.p7m" cert.pem
openssl smime -encrypt -aes256 -in hello.txt -outform PEM -out "$out/smime-enveloped.pem" cert.pem
openssl smime -encrypt -aes256 -in hello.txt -out "$out/smime-enveloped.eml" \
	-from sender@example.jp -to dlp-test@example.jp -subject "enveloped" cert.pem
openssl cms -encrypt -aes-256-gcm -in hello.txt -outform DER -out "$out/smime-authenveloped.p7m" cert.pem
openssl cms -EncryptedData_encrypt -aes128 -secretkey 000102030405060708090A0B0C0D0E0F \
	-in hello.txt -outform DER -out "$out/cms-encrypteddata.p7m"
openssl smime -sign -nodetach -in hello.txt -signer cert.pem -inkey key.pem -outform DER -out "$out/smime-signed.p7m"
openssl smime -sign -in hello.txt -signer cert.pem -inkey key.pem -out "$out/smime-signed-detached.eml" \
	-from sender@example.jp -to dlp-test@example.jp -subject "signed"
openssl smime -sign -nodetach -in hello.txt -signer cert.pem -inkey key.pem -out "$out/smime-signed-opaque.eml" \
	-from sender@example.jp -to dlp-test@example.jp -subject "signed opaque"

# --- OpenPGP (GnuPG, throwaway home) ---
export GNUPGHOME="$tmp/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg -q --batch --passphrase '' --quick-gen-key 'fileformat test <fileformat-test@example.jp>' future-default default never 2>/dev/null
rm -f "$out"/pgp-*
gpg -q --batch --pinentry-mode loopback --passphrase secret --symmetric -o "$out/pgp-symmetric.gpg" hello.txt
gpg -q --batch --pinentry-mode loopback --passphrase secret --symmetric --armor -o "$out/pgp-symmetric.asc" hello.txt
gpg -q --batch --trust-model always -r fileformat-test@example.jp --encrypt -o "$out/pgp-pubkey.gpg" hello.txt
gpg -q --batch --trust-model always -r fileformat-test@example.jp --encrypt --armor -o "$out/pgp-pubkey.asc" hello.txt
gpg -q --batch --clearsign -o "$out/pgp-clearsigned.asc" hello.txt
gpg -q --batch --sign -o "$out/pgp-signed-binary.gpg" hello.txt
gpg -q --batch --sign --armor -o "$out/pgp-signed-armored.asc" hello.txt
gpg -q --batch --detach-sign --armor -o "$out/pgp-detached.sig.asc" hello.txt
gpg -q --batch --export --armor -o "$out/pgp-public-key.asc" fileformat-test@example.jp
gpgconf --kill all 2>/dev/null || true

# --- Office documents written by LibreOffice (plain) ---
lo() { soffice -env:UserInstallation="file://$tmp/lo" --headless --convert-to "$1" --outdir "$tmp" "$2" >/dev/null 2>&1; }
lo docx hello.txt && cp hello.docx "$out/lo-plain.docx"
lo odt hello.txt && cp hello.odt "$out/lo-plain.odt"
lo doc hello.txt && cp hello.doc "$out/lo-plain.doc"
lo xlsx list.csv && cp list.xlsx "$out/lo-plain.xlsx"
lo ods list.csv && cp list.ods "$out/lo-plain.ods"
lo xls list.csv && cp list.xls "$out/lo-plain.xls"
soffice -env:UserInstallation="file://$tmp/lo" --headless --infilter=impress_pdf_import --convert-to pptx \
	--outdir "$tmp" hello.pdf >/dev/null 2>&1 && cp hello.pptx "$out/lo-plain.pptx"
lo ppt hello.pptx && cp hello.ppt "$out/lo-plain.ppt"

# --- other formats ---
gzip -9 -n -c hello.txt >"$out/hello.txt.gz"
cp list.csv "$out/list.csv"
echo "fixtures written to $out"
