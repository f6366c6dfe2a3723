"""Composes the golden test mails from the files make.sh produced.

Usage: make_mail.py WORKDIR OUTDIR. Python's email package writes the MIME
structure; the charsets are those Japanese mail clients use (ISO-2022-JP,
Shift_JIS, UTF-8), including the mislabelled forms seen in the wild.
"""
import base64
import os
import sys
import urllib.parse
from email import policy
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.utils import encode_rfc2231

work, out = sys.argv[1], sys.argv[2]
pol = policy.SMTP.clone(max_line_length=76)
FROM = "tanaka@sample-joho.co.jp"
TO = "kakari@city.example.lg.jp"
SIG = "\n--\n株式会社サンプル情報 システム部 田中\n〒100-0005 東京都千代田区丸の内1-2-3\nTEL 03-5555-1234\n"
n = 0


def read(name):
    with open(os.path.join(work, name), "rb") as f:
        return f.read()


def head(msg, subject, to=TO, charset="utf-8"):
    global n
    n += 1
    msg["From"] = FROM
    msg["To"] = to
    msg["Subject"] = Header(subject, charset).encode() if any(ord(c) > 127 for c in subject) else subject
    msg["Date"] = "Wed, 25 Nov 2026 10:%02d:00 +0900" % n
    msg["Message-ID"] = "<golden-%02d@sample-joho.co.jp>" % n
    if "MIME-Version" not in msg:
        msg["MIME-Version"] = "1.0"
    return msg


def write(name, msg):
    data = msg.as_bytes(policy=pol) if not isinstance(msg, bytes) else msg
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def text(body, charset="utf-8"):
    return MIMEText(body, "plain", charset)


def attach(data, maintype, subtype, filename, rfc2231=False):
    p = MIMEBase(maintype, subtype)
    p.set_payload(base64.encodebytes(data).decode().replace("\n", "\r\n"))
    p["Content-Transfer-Encoding"] = "base64"
    if rfc2231:
        # RFC 2231 in ISO-2022-JP, split in two continuations as some clients write it.
        q = urllib.parse.quote(filename.encode("iso-2022-jp"), safe="")
        half = len(q) // 2
        while q[half - 1] == "%" or q[half - 2] == "%":
            half += 1
        p["Content-Disposition"] = "attachment;\r\n filename*0*=iso-2022-jp''%s;\r\n filename*1*=%s" % (q[:half], q[half:])
    else:
        p.add_header("Content-Disposition", "attachment", filename=filename)
    return p


def mixed(subject, body, *parts, to=TO, charset="utf-8"):
    m = MIMEMultipart("mixed")
    m.attach(text(body, charset))
    for p in parts:
        m.attach(p)
    return head(m, subject, to, charset)


PLAIN = "お世話になっております。\n第3四半期の作業報告をお送りします。\nご確認のほどよろしくお願いいたします。\n" + SIG
COVER = "名簿を添付します。パスワードは別途お電話でお伝えします。\n" + SIG

# Clean mail, and the signature alone: one phone and one address must pass.
write("clean-utf8.eml", head(text(PLAIN), "第3四半期 作業報告"))
write("signature-iso2022jp.eml", head(text(PLAIN, "iso-2022-jp"), "作業報告", charset="iso-2022-jp"))

# Personal information in the body.
MYNUM = "山田様の個人番号は 4842 3847 2595 です。\n" + SIG
write("mynumber-body-iso2022jp.eml", head(text(MYNUM, "iso-2022-jp"), "個人番号のご連絡", charset="iso-2022-jp"))
write("card-body-utf8.eml", head(text("決済用カード: 4111 1111 1111 1111 有効期限 12/28\n" + SIG), "お支払い"))
# Outlook sends ISO-2022-JP without a charset label.
m = head(text(MYNUM, "iso-2022-jp"), "ご連絡", charset="iso-2022-jp")
m.replace_header("Content-Type", "text/plain")
write("outlook-unlabelled-iso2022jp.eml", m)
# A label that lies: ISO-2022-JP bytes labelled iso-2022-kr; Shift_JIS labelled latin-1.
m = head(text(MYNUM, "iso-2022-jp"), "ご連絡", charset="iso-2022-jp")
m.replace_header("Content-Type", 'text/plain; charset="iso-2022-kr"')
write("mislabelled-iso2022kr.eml", m)
raw = MYNUM.encode("cp932")
m = MIMEBase("text", "plain", charset="iso-8859-1")
m.set_payload(base64.encodebytes(raw).decode())
m["Content-Transfer-Encoding"] = "base64"
write("mislabelled-sjis-latin1.eml", head(m, "ご連絡"))
# The Subject alone carries a My Number.
write("mynumber-subject.eml", head(text(PLAIN), "個人番号 8193-1272-7438 の件"))

# Text and HTML alternatives of one body count a value once: four distinct
# phones in both (threshold 5) pass.
phones = "連絡先一覧\n本社 03-5555-1234\n大阪 06-6345-9999\n名古屋 052-588-7777\n携帯 090-8765-4321\n"
alt = MIMEMultipart("alternative")
alt.attach(text(phones))
alt.attach(MIMEText("<html><body><p>" + phones.replace("\n", "<br>") + "</p></body></html>", "html", "utf-8"))
write("alternative-4phones.eml", head(alt, "連絡先"))
# Five distinct phones block.
write("body-5phones.eml", head(text(phones + "福岡 092-411-5555\n"), "連絡先"))

# Attachments.
write("sjis-csv-attachment.eml", mixed("名簿送付", COVER, attach(read("roster-sjis.csv"), "text", "csv", "名簿.csv", rfc2231=True)))
write("zipcrypto.eml", mixed("名簿送付", COVER, attach(read("roster-zipcrypto.zip"), "application", "zip", "roster.zip")))
write("zip-aes.eml", mixed("名簿送付", COVER, attach(read("roster-aes.zip"), "application", "zip", "roster.zip")))
write("7z-aes.eml", mixed("名簿送付", COVER, attach(read("roster-7z.7z"), "application", "x-7z-compressed", "roster.7z")))
write("7z-aes-mhe.eml", mixed("名簿送付", COVER, attach(read("roster-7z-mhe.7z"), "application", "x-7z-compressed", "roster.7z")))
write("plain-zip.eml", mixed("名簿送付", COVER, attach(read("roster-plain.zip"), "application", "zip", "roster.zip")))
write("nested-zip.eml", mixed("名簿送付", COVER, attach(read("nested.zip"), "application", "zip", "nested.zip")))
write("corrupt-zip.eml", mixed("名簿送付", COVER, attach(read("corrupt.zip"), "application", "zip", "roster.zip")))
# The file name says .txt; the content is a zip: types come from content.
write("renamed-zip.eml", mixed("資料", COVER, attach(read("roster-plain.zip"), "text", "plain", "memo.txt")))
write("xlsx.eml", mixed("名簿送付", COVER, attach(read("roster.xlsx"), "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet", "roster.xlsx")))
write("docx-table.eml", mixed("対象者一覧", COVER, attach(read("table.docx"), "application", "vnd.openxmlformats-officedocument.wordprocessingml.document", "対象者一覧.docx", rfc2231=True)))
write("pdf-userpw.eml", mixed("照会結果", COVER, attach(read("report-userpw.pdf"), "application", "pdf", "report.pdf")))
write("pdf-owneronly.eml", mixed("照会結果", COVER, attach(read("report-owneronly.pdf"), "application", "pdf", "report.pdf")))
write("pdf-plain.eml", mixed("照会結果", COVER, attach(read("report.pdf"), "application", "pdf", "report.pdf")))

# S/MIME: enveloped data is encryption; signed data is not.
enc = BytesParser(policy=pol).parsebytes(read("smime-enc.part"))
write("smime-enveloped.eml", head(enc, "名簿(暗号化)"))
sig = BytesParser(policy=pol).parsebytes(read("smime-signed.part"))
write("smime-signed-pii.eml", head(sig, "照会結果(署名付き)"))

# OpenPGP: inline armored message, and PGP/MIME (RFC 3156).
write("pgp-inline.eml", head(text(read("report.asc").decode()), "照会結果"))
pm = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
ctl = MIMEApplication("Version: 1\n", "pgp-encrypted", _encoder=lambda p: None)
pm.attach(ctl)
body = MIMEApplication(read("roster.csv.asc").decode(), "octet-stream", _encoder=lambda p: None)
body.add_header("Content-Disposition", "inline", filename="encrypted.asc")
pm.attach(body)
write("pgp-mime.eml", head(pm, "名簿"))

# FAX: an RFC 3192 gateway address and a listed email-to-FAX service; a
# mailbox merely named like fax-support@ is not a gateway.
write("fax-rfc3192.eml", head(text(PLAIN), "送付状", to="FAX=+81-3-1234-5678@faxgw.example.jp, " + TO))
write("fax-service.eml", head(text(PLAIN), "送付状", to="0312345678@fax.tc"))
write("fax-support-mailbox.eml", head(text(PLAIN), "問い合わせ", to="fax-support@example.co.jp"))

# A forwarded mail (message/rfc822) carrying personal information.
inner = head(text(MYNUM, "iso-2022-jp"), "個人番号のご連絡", charset="iso-2022-jp")
fw = MIMEMultipart("mixed")
fw.attach(text("転送します。\n" + SIG))
fp = MIMEMessage(inner)
fp.add_header("Content-Disposition", "attachment", filename="forwarded.eml")
fw.attach(fp)
write("forwarded-rfc822.eml", head(fw, "Fw: 個人番号のご連絡"))

# Broken base64 and an unknown transfer encoding are uninspectable.
bad = MIMEBase("application", "octet-stream")
bad.set_payload("UEsDBBQAAAAIAA!!!!not*base64@@@\r\n")
bad["Content-Transfer-Encoding"] = "base64"
bad.add_header("Content-Disposition", "attachment", filename="roster.zip")
write("broken-base64.eml", mixed("名簿送付", COVER, bad))
unk = MIMEText("個人番号 4842 3847 2595", "plain", "utf-8")
del unk["Content-Transfer-Encoding"]
unk["Content-Transfer-Encoding"] = "x-uuencode-special"
write("unknown-cte.eml", head(unk, "連絡"))
