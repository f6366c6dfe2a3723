#!/bin/sh
# Regenerates the file fixtures of gateway/extract from src/ with the real
# tools: Info-ZIP zip 3.0, 7-Zip (7z), LibreOffice (soffice, with
# fonts-ipafont-gothic), qpdf, gzip, python3 (only to write a zip with CP932
# names and no UTF-8 flag, as Japanese Windows tools do). RAR fixtures cannot
# be made with free tools: they are copied from libarchive's test suite (see
# README.md). Run from this directory: sh make.sh
set -eu
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export TZ=UTC SOURCE_DATE_EPOCH=1767225600

# --- zip ---------------------------------------------------------------
cp src/meibo.csv src/hello.txt "$T"/
(cd "$T" && zip -qX9 csv.zip meibo.csv) && cp "$T"/csv.zip zip-csv.zip
(cd "$T" && zip -qX -P secret enc.zip meibo.csv) && cp "$T"/enc.zip zip-zipcrypto.zip
(cd "$T" && zip -qX mixed.zip hello.txt && zip -qX -P secret mixed.zip meibo.csv) && cp "$T"/mixed.zip zip-mixed.zip
# CP932 member name without the UTF-8 flag (bit 11), as Windows Explorer writes.
python3 - <<'PY'
import zipfile
name = "名簿/個人番号一覧.csv".encode("cp932")
placeholder = "P" * len(name)
data = open("src/meibo.csv", "rb").read()
with zipfile.ZipFile("zip-cp932.zip", "w", zipfile.ZIP_DEFLATED) as z:
    zi = zipfile.ZipInfo(placeholder, date_time=(2026, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(zi, data)
b = open("zip-cp932.zip", "rb").read()
assert b.count(placeholder.encode()) == 2
open("zip-cp932.zip", "wb").write(b.replace(placeholder.encode(), name))
PY
# zip bomb: 10 MiB of zeros (ratio ~1000), and a 2-level nested one.
head -c 10485760 /dev/zero > "$T"/zeros.bin
(cd "$T" && zip -qX9 bomb.zip zeros.bin) && cp "$T"/bomb.zip zip-bomb.zip
(cd "$T" && cp bomb.zip inner1.zip && cp bomb.zip inner2.zip && zip -qX0 nestedbomb.zip inner1.zip inner2.zip) && cp "$T"/nestedbomb.zip zip-bomb-nested.zip

# --- LibreOffice documents ---------------------------------------------
SO="soffice -env:UserInstallation=file://$T/profile --headless --norestore"
$SO --convert-to xlsx:"Calc MS Excel 2007 XML" --infilter="CSV:44,34,76,1" --outdir "$T" src/meibo.csv >/dev/null 2>&1
cp "$T"/meibo.xlsx meibo.xlsx
$SO --convert-to xls:"MS Excel 97" --infilter="CSV:44,34,76,1" --outdir "$T" src/meibo.csv >/dev/null 2>&1
cp "$T"/meibo.xls meibo.xls
$SO --convert-to ods --infilter="CSV:44,34,76,1" --outdir "$T" src/meibo.csv >/dev/null 2>&1
cp "$T"/meibo.ods meibo.ods
$SO --convert-to docx:"MS Word 2007 XML" --infilter="HTML (StarWriter)" --outdir "$T" src/letter.html >/dev/null 2>&1
cp "$T"/letter.docx letter.docx
$SO --convert-to doc:"MS Word 97" --infilter="HTML (StarWriter)" --outdir "$T" src/letter.html >/dev/null 2>&1
cp "$T"/letter.doc letter.doc
$SO --convert-to odt --infilter="HTML (StarWriter)" --outdir "$T" src/letter.html >/dev/null 2>&1
cp "$T"/letter.odt letter.odt
$SO --convert-to pdf:writer_pdf_Export --infilter="HTML (StarWriter)" --outdir "$T" src/letter.html >/dev/null 2>&1
cp "$T"/letter.pdf letter.pdf
$SO --convert-to pptx:"Impress MS PowerPoint 2007 XML" --outdir "$T" src/slides.fodp >/dev/null 2>&1
cp "$T"/slides.pptx slides.pptx

# --- PDF encryption (qpdf) ---------------------------------------------
qpdf --allow-weak-crypto --encrypt "" owner 128 --use-aes=n -- letter.pdf pdf-rc4-owneronly.pdf
qpdf --allow-weak-crypto --encrypt "" owner 128 --use-aes=y -- letter.pdf pdf-aes128-owneronly.pdf
qpdf --encrypt "" owner 256 -- letter.pdf pdf-aes256-owneronly.pdf
qpdf --encrypt "" owner 256 --force-R5 -- letter.pdf pdf-aes256r5-owneronly.pdf
qpdf --object-streams=generate --encrypt "" owner 256 -- letter.pdf pdf-aes256-objstm-owneronly.pdf
qpdf --encrypt userpw owner 256 -- letter.pdf pdf-aes256-userpw.pdf
qpdf --allow-weak-crypto --encrypt userpw owner 128 --use-aes=y -- letter.pdf pdf-aes128-userpw.pdf
head -c 2000 letter.pdf > pdf-truncated.pdf

# --- nested and corrupt ------------------------------------------------
cp zip-csv.zip letter.docx "$T"/
(cd "$T" && zip -qX nested.zip zip-csv.zip letter.docx) && cp "$T"/nested.zip zip-nested.zip
head -c 120 zip-csv.zip > zip-truncated.zip

# --- 7z, gzip ----------------------------------------------------------
rm -f 7z-plain.7z 7z-aes.7z 7z-aes-headers.7z
(cd "$T" && 7z a -bso0 -bsp0 p.7z meibo.csv hello.txt) && cp "$T"/p.7z 7z-plain.7z
(cd "$T" && 7z a -bso0 -bsp0 -psecret e.7z meibo.csv) && cp "$T"/e.7z 7z-aes.7z
(cd "$T" && 7z a -bso0 -bsp0 -psecret -mhe=on h.7z meibo.csv) && cp "$T"/h.7z 7z-aes-headers.7z
gzip -9nc src/meibo.csv > meibo.csv.gz

# --- S/MIME (openssl; a throwaway self-signed key) ----------------------
# The inner entity is a MIME part with a header, as S/MIME signs it.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T"/key.pem -out "$T"/cert.pem \
  -days 36500 -subj "/CN=tanaka@sample-joho.co.jp" 2>/dev/null
printf 'Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' > "$T"/inner.txt
cat src/hello.txt src/meibo.csv | sed 's/$/\r/' >> "$T"/inner.txt
S="-signer $T/cert.pem -inkey $T/key.pem -md sha256"
# Opaque-signed message (application/pkcs7-mime; smime-type=signed-data, base64).
openssl smime -sign -nodetach $S -in "$T"/inner.txt -out smime-opaque-signed.eml
# The same as raw DER (definite lengths) and as streamed BER (indefinite
# lengths, the content split into a constructed OCTET STRING).
openssl cms -sign -nodetach -binary $S -in "$T"/inner.txt -outform DER -out smime-signed.p7m
openssl cms -sign -nodetach -binary -stream $S -in "$T"/inner.txt -outform DER -out smime-signed-ber.p7m
# Detached signature (multipart/signed with smime.p7s) and the bare .p7s.
openssl smime -sign $S -in "$T"/inner.txt -out smime-detached.eml
openssl cms -sign -binary $S -in "$T"/inner.txt -outform DER -out smime.p7s
# Enveloped (encrypted to the key): stays Encrypted.
openssl smime -encrypt -aes256 -in "$T"/inner.txt -out smime-enveloped.eml "$T"/cert.pem
