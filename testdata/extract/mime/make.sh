#!/bin/sh
# Regenerates the MIME fixtures of gateway/extract (mime_test.go reads them).
# They are written by Python's standard email package (the system python3),
# the way a Japanese mail client would write them: ISO-2022-JP and Shift_JIS
# bodies, RFC 2047 subjects, RFC 2231 and RFC 2047 file names, HTML tables,
# a forwarded message with its own attachment. All personal data in them is
# made up (the My Number 123456789018 is the checksum test vector).
set -eu
cd "$(dirname "$0")"
/usr/bin/python3 - <<'PY'
import email.policy
from email import charset as cs
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

DATE = "Tue, 02 Sep 2025 10:00:00 +0900"
pol = email.policy.compat32.clone(linesep="\r\n")

def base(msg, subject, charset, mid):
    msg["From"] = "Taro Yamada <taro@Example.CO.JP>"
    msg["To"] = "hanako@EXAMPLE.jp, =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@Example.org>"
    msg["Cc"] = "kakari@city.example.lg.jp"
    msg["Subject"] = Header(subject, charset)
    msg["Date"] = DATE
    msg["Message-ID"] = "<%s@example.co.jp>" % mid
    return msg

def write(name, msg):
    with open(name, "wb") as f:
        f.write(msg.as_bytes(policy=pol))

# 1. ISO-2022-JP text with a Shift_JIS CSV attachment named in RFC 2231
#    (ISO-2022-JP charset, which Go's mime package cannot decode).
m = base(MIMEMultipart(), "個人番号の件", "iso-2022-jp", "iso2022jp")
m.attach(MIMEText("山田様\nマイナンバー：123456789018\n住所：東京都千代田区千代田1-1\n", "plain", "iso-2022-jp"))
att = MIMEApplication("氏名,個人番号\n山田太郎,123456789018\n".encode("cp932"), "octet-stream")
att.add_header("Content-Disposition", "attachment", filename=("iso-2022-jp", "", "名簿.csv"))
m.attach(att)
write("iso2022jp-rfc2231.eml", m)

# 2. Shift_JIS body, base64, Shift_JIS subject (Python would re-encode a
#    Shift_JIS body as ISO-2022-JP, so the part is put together by hand).
import base64
t = MIMEBase("text", "plain", charset="Shift_JIS")
t.set_payload(base64.encodebytes("電話番号：03-1234-5678\nよろしくお願いします。\n".encode("cp932")).decode())
t["Content-Transfer-Encoding"] = "base64"
write("sjis-base64.eml", base(t, "電話番号のお知らせ", "shift_jis", "sjis"))

# 3. multipart/alternative: UTF-8 plain and HTML with a table, both
#    quoted-printable (Python's modern EmailMessage API).
from email.message import EmailMessage
alt = EmailMessage(policy=email.policy.SMTP)
alt["From"] = "Taro Yamada <taro@Example.CO.JP>"
alt["To"] = "hanako@example.jp"
alt["Subject"] = "名簿（表）"
alt["Date"] = DATE
alt["Message-ID"] = "<html@example.co.jp>"
alt.set_content("氏名 個人番号\n", cte="quoted-printable")
alt.add_alternative(
    "<html><head><style>td{color:red}</style><script>var x='999999999999';</script></head>"
    "<body><p>名簿です&amp;ご確認ください</p><table>"
    "<tr><th>氏名</th><th>個人番号</th><th>電話</th></tr>"
    "<tr><td>山田&nbsp;太郎</td><td>123456789018</td><td>03-1234-5678</td></tr>"
    "</table></body></html>\n", subtype="html", cte="quoted-printable")
with open("alternative-html-table.eml", "wb") as f:
    f.write(alt.as_bytes())

# 4. A forwarded message (message/rfc822) with its own attachment, and an
#    Outlook-style RFC 2047 file name on a top-level attachment.
inner = base(MIMEMultipart(), "転送元の件名", "iso-2022-jp", "inner")
inner.attach(MIMEText("転送された本文 マイナンバー 123456789018\n", "plain", "iso-2022-jp"))
ia = MIMEText("氏名,電話\n鈴木一郎,090-1234-5678\n", "csv", "utf-8")
ia.add_header("Content-Disposition", "attachment", filename="list.csv")
inner.attach(ia)
outer = base(MIMEMultipart(), "Fw: 転送", "iso-2022-jp", "outer")
outer.attach(MIMEText("転送します。\n", "plain", "iso-2022-jp"))
fw = MIMEMessage(inner)
fw.add_header("Content-Disposition", "attachment", filename="forwarded.eml")
outer.attach(fw)
pdf = MIMEApplication(b"%PDF-1.4\n%fixture\n", "pdf")
pdf.add_header("Content-Disposition", "attachment")
pdf.set_param("filename", str(Header("資料.pdf", "iso-2022-jp").encode()), header="Content-Disposition")
outer.attach(pdf)
write("forwarded.eml", outer)
PY
