#!/usr/bin/env bash
# Regenerates the upload fixtures of the HTTP proxy tests with the real tools.
# The personal data is made up; the My Numbers are verified test vectors.
set -euo pipefail
cd "$(dirname "$0")"
cat > roster.csv <<'CSV'
氏名,住所,電話番号,個人番号
山田太郎,東京都千代田区千代田1-1,090-1234-5678,484238472595
佐藤花子,大阪府大阪市北区梅田3丁目1番1号,06-6345-1234,819312727438
CSV
cat > inventory.csv <<'CSV'
品番,品名,数量,単価
A-1001,コピー用紙 A4,120,450
B-2002,トナー カートリッジ,8,12800
C-3003,ファイル フォルダ,300,95
CSV
rm -f roster-zipcrypto.zip roster-plain.zip
zip -q -X -P himitsu123 roster-zipcrypto.zip roster.csv
zip -q -X roster-plain.zip roster.csv
