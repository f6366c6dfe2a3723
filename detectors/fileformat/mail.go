package fileformat

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// knownMailFields are header fields of which at least one must appear
// for text to be taken as a mail message.
var knownMailFields = map[string]bool{
	"from": true, "to": true, "cc": true, "subject": true, "date": true, "received": true,
	"return-path": true, "mime-version": true, "message-id": true, "content-type": true,
	"delivered-to": true, "reply-to": true, "x-mailer": true, "sender": true,
}

// looksMail reports whether b starts with an RFC 5322 header block: at
// least two fields, one of them a common mail field.
func looksMail(b []byte) bool {
	fields, known := 0, false
	for n := 0; n < 200 && len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		line := b
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if fields == 0 {
				return false
			}
			continue
		}
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			return false
		}
		for _, ch := range line[:c] {
			if ch <= ' ' || ch >= 0x7F {
				return false
			}
		}
		fields++
		if knownMailFields[strings.ToLower(string(line[:c]))] {
			known = true
		}
	}
	return fields >= 2 && known
}

func sniffMailHead(head []byte) Info {
	return mailInfo(head)
}

func identifyMail(r io.ReaderAt, size int64, _ Info) (Info, error) {
	b, err := readAt(r, size, 0, min(size, maxMailBody), "mail message")
	if err != nil {
		return Info{Type: "eml"}, err
	}
	return mailInfo(b), nil
}

// mailInfo classifies a message by its top-level Content-Type:
// multipart/encrypted and S/MIME enveloped data are encrypted; a text body
// holding an armored OpenPGP message is encrypted inline; signed messages
// are not encrypted.
func mailInfo(b []byte) Info {
	info := Info{Type: "eml"}
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	hdr, err := tr.ReadMIMEHeader()
	if err != nil && len(hdr) == 0 {
		info.Detail = "mail message with an unreadable header"
		return info
	}
	body := b
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		body = b[i+4:]
	} else if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		body = b[i+2:]
	}
	mt, params, _ := mime.ParseMediaType(hdr.Get("Content-Type"))
	if mt == "" {
		mt = "text/plain"
	}
	cte := strings.ToLower(strings.TrimSpace(hdr.Get("Content-Transfer-Encoding")))
	switch mt {
	case "multipart/encrypted":
		proto := strings.ToLower(params["protocol"])
		info.Encrypted = true
		switch {
		case strings.Contains(proto, "pgp"):
			info.Encryption = "pgp"
			info.Detail = "PGP/MIME encrypted message (multipart/encrypted)"
		default:
			info.Encryption = "smime-enveloped"
			if proto == "" {
				proto = "unknown protocol"
			}
			info.Detail = "multipart/encrypted message (" + proto + ")"
		}
		return info
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		st := strings.ToLower(params["smime-type"])
		der := decodeBody(body, cte, 48<<10)
		kind := SMIMEKind(der)
		switch {
		case st == "enveloped-data" || kind == "enveloped":
			info.Encrypted, info.Encryption = true, "smime-enveloped"
			info.Detail = "S/MIME enveloped-data message"
		case st == "authenveloped-data" || kind == "auth-enveloped":
			info.Encrypted, info.Encryption = true, "smime-auth-enveloped"
			info.Detail = "S/MIME authEnveloped-data message"
		case kind == "encrypted-data":
			info.Encrypted, info.Encryption = true, "cms-encrypted-data"
			info.Detail = "S/MIME message with CMS EncryptedData"
		case st == "signed-data" || kind == "signed":
			if inner := oidKind(signedInner(der)); inner == "enveloped" || inner == "auth-enveloped" {
				info.Encrypted, info.Encryption = true, "smime-enveloped"
				info.Detail = "S/MIME signed-data wrapping an encrypted message"
				return info
			}
			info.Detail = "S/MIME opaque signed-data: not encrypted; the content is inside the signature and must be decoded and scanned"
		default:
			info.Detail = "S/MIME message of unknown type " + st
		}
		return info
	case "multipart/signed":
		info.Detail = "signed message (" + params["protocol"] + "): not encrypted; the first part is readable"
		return info
	}
	if strings.HasPrefix(mt, "text/") {
		text := decodeBody(body, cte, maxMailBody)
		switch PGPArmorKind(text) {
		case "message":
			i := bytes.Index(text, []byte("-----BEGIN PGP MESSAGE-----"))
			if a := pgpArmorInfo(text[i:]); a.Encrypted {
				info.Encrypted, info.Encryption = true, "pgp"
				info.Detail = "inline OpenPGP encrypted message in the text body (text outside the armor block is readable)"
				return info
			}
		case "signed":
			info.Detail = "inline OpenPGP cleartext-signed message: readable, not encrypted"
			return info
		}
	}
	if strings.HasPrefix(mt, "multipart/") {
		info.Detail = "multipart message: its parts must be walked"
	}
	return info
}

// decodeBody undoes a transfer encoding, up to limit bytes.
func decodeBody(body []byte, cte string, limit int) []byte {
	switch cte {
	case "base64":
		return decodeBase64Prefix(body, limit)
	case "quoted-printable":
		out, _ := io.ReadAll(io.LimitReader(quotedprintable.NewReader(bytes.NewReader(body)), int64(limit)))
		return out
	}
	return body[:min(len(body), limit)]
}
