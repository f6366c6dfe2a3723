#!/usr/bin/env bash
# Regenerates the golden test mails in this directory with the real tools:
# zip, 7z, qpdf, LibreOffice (soffice), openssl, gpg, swaks, and Python's
# email package for the MIME structure and the Japanese charsets.
# Needs: zip p7zip-full qpdf libreoffice-calc libreoffice-writer
#        fonts-ipafont-gothic openssl gnupg swaks python3.
# The personal data below is made up; the My Numbers are the verified test
# vectors of the domain reference (valid check digits, belonging to no one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"

# --- the roster (名簿) every attachment carries -------------------------------
cat > roster.csv <<'CSV'
氏名,フリガナ,生年月日,住所,電話番号,個人番号
山田太郎,ヤマダタロウ,1980/04/01,東京都千代田区千代田1-1,090-1234-5678,484238472595
佐藤花子,サトウハナコ,1975/12/24,大阪府大阪市北区梅田3丁目1番1号,06-6345-1234,819312727438
鈴木一郎,スズキイチロウ,1990/07/15,神奈川県横浜市中区山下町1-2-3,045-201-9876,163382486583
高橋美咲,タカハシミサキ,1988/02/29,愛知県名古屋市中村区名駅4-5-6,052-588-1111,113642541276
田中健,タナカケン,1965/09/09,福岡県福岡市博多区博多駅前2-3-4,092-411-2222,926480282230
CSV
iconv -f UTF-8 -t CP932 roster.csv > roster-sjis.csv
cat > notes.txt <<'TXT'
第3四半期 業務報告
対象: 住民情報システム改修 保守作業
作業件数 42 件、うち完了 40 件。残件は来週対応予定です。
TXT
cat > report.txt <<'TXT'
住民照会結果
氏名: 山田太郎
個人番号: 4842 3847 2595
住所: 東京都千代田区千代田1-1
TXT

# --- containers and encrypted forms ----------------------------------------
zip -q -X roster-plain.zip roster-sjis.csv notes.txt
zip -q -X -P himitsu123 roster-zipcrypto.zip roster-sjis.csv notes.txt
7z a -bd -bso0 -tzip -mem=AES256 -phimitsu123 roster-aes.zip roster-sjis.csv >/dev/null
7z a -bd -bso0 -phimitsu123 roster-7z.7z roster-sjis.csv >/dev/null
7z a -bd -bso0 -phimitsu123 -mhe=on roster-7z-mhe.7z roster-sjis.csv >/dev/null
cp roster.csv 名簿.csv; zip -q -X nested-inner.zip 名簿.csv; zip -q -X nested.zip nested-inner.zip notes.txt
head -c $(( $(stat -c%s roster-plain.zip) / 2 )) roster-plain.zip > corrupt.zip

soffice --headless --convert-to xlsx --infilter="CSV:44,34,76,1" --outdir . roster.csv >/dev/null 2>&1
soffice --headless --convert-to pdf --outdir . report.txt >/dev/null 2>&1
qpdf --encrypt himitsu123 ownerpw 256 -- report.pdf report-userpw.pdf
qpdf --encrypt "" ownerpw 256 -- report.pdf report-owneronly.pdf
cat > table.html <<'HTML'
<html><head><meta charset="utf-8"></head><body><p>対象者一覧</p>
<table border="1"><tr><th>氏名</th><th>個人番号</th></tr>
<tr><td>山田太郎</td><td>267380750682</td></tr>
<tr><td>佐藤花子</td><td>983413672523</td></tr></table></body></html>
HTML
soffice --headless --convert-to 'docx:MS Word 2007 XML' --outdir . table.html >/dev/null 2>&1

# --- S/MIME and PGP --------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 3650 \
  -subj "/CN=kakari@city.example.lg.jp" >/dev/null 2>&1
printf 'Content-Type: text/csv; charset=UTF-8\r\nContent-Disposition: attachment; filename="roster.csv"\r\n\r\n' > inner.txt
cat roster.csv >> inner.txt
openssl smime -encrypt -aes256 -in inner.txt -out smime-enc.part cert.pem
printf 'Content-Type: text/plain; charset=UTF-8\r\n\r\n' > signed-in.txt; cat report.txt >> signed-in.txt
openssl smime -sign -in signed-in.txt -signer cert.pem -inkey key.pem -out smime-signed.part
export GNUPGHOME="$work/gnupg"; mkdir -m 700 "$GNUPGHOME"
gpg --batch -q --pinentry-mode loopback --passphrase himitsu123 --symmetric --armor -o report.asc report.txt
gpg --batch -q --pinentry-mode loopback --passphrase himitsu123 --symmetric --armor -o roster.csv.asc roster.csv

python3 "$here/make_mail.py" "$work" "$here"

# swaks writes one message the way a command-line user sends it.
swaks --dump-mail --from tanaka@sample-joho.co.jp --to kakari@city.example.lg.jp \
  --h-Subject "roster (zip)" --body "Please find the roster attached." \
  --attach-type application/zip --attach-name roster.zip --attach @roster-plain.zip \
  --h-Date "Wed, 25 Nov 2026 10:00:00 +0900" --h-Message-Id "<swaks-plain-zip@sample-joho.co.jp>" \
  > "$here/swaks-plain-zip.eml"
echo "wrote $(ls "$here"/*.eml | wc -l) messages"
