#!/usr/bin/env python3
"""Naive baseline of sekisho's end-to-end scan benchmark (issue 2).

What a quick script would do: parse the message with the standard library's
email package, walk its parts, decode each (base64, quoted-printable, the
declared charset), open zip attachments in memory, and run regular
expressions for two detectors: 12-digit numbers (My Number candidates,
without the check digit) and Japanese phone numbers. It prints counts of
distinct values only (never the values).

Usage: python3 naive.py MESSAGE.eml
"""

import email
import email.policy
import io
import re
import sys
import zipfile

TWELVE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
PHONE = re.compile(r"(?<![0-9])0[0-9]{1,4}-[0-9]{1,4}-[0-9]{4}(?![0-9])")


def decode_text(data, charset):
    for cs in (charset, "utf-8", "cp932", "euc-jp", "iso-2022-jp"):
        if not cs:
            continue
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def scan(text, found):
    for m in TWELVE.finditer(text):
        found["twelve_digits"].add(m.group())
    for m in PHONE.finditer(text):
        found["phone"].add(m.group())


def scan_bytes(name, data, found):
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    scan_bytes(info.filename, zf.read(info), found)
        return
    scan(decode_text(data, None), found)


def main():
    found = {"twelve_digits": set(), "phone": set()}
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    scan(str(msg.get("Subject", "")), found)
    for part in msg.walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        if part.get_content_maintype() == "text":
            scan(decode_text(data, part.get_content_charset()), found)
        else:
            scan_bytes(part.get_filename() or "", data, found)
    print({k: len(v) for k, v in found.items()})


if __name__ == "__main__":
    main()
