package fileformat

import (
	"bytes"
	"fmt"
	"io"
)

// OpenPGP packet tags (RFC 9580 §5).
const (
	pgpTagPKESK     = 1
	pgpTagSig       = 2
	pgpTagSKESK     = 3
	pgpTagOnePass   = 4
	pgpTagSecretKey = 5
	pgpTagPublicKey = 6
	pgpTagCompress  = 8
	pgpTagSED       = 9
	pgpTagLiteral   = 11
	pgpTagSEIPD     = 18
	pgpTagAEAD      = 20
)

// Armor header lines (RFC 9580 §6.2).
var pgpArmorKinds = []struct {
	header string
	kind   string
}{
	{"-----BEGIN PGP MESSAGE-----", "message"},
	{"-----BEGIN PGP SIGNED MESSAGE-----", "signed"},
	{"-----BEGIN PGP SIGNATURE-----", "signature"},
	{"-----BEGIN PGP PUBLIC KEY BLOCK-----", "public-key"},
	{"-----BEGIN PGP PRIVATE KEY BLOCK-----", "private-key"},
}

// PGPArmorKind returns the kind of the first OpenPGP armor block in text:
// "message" (an OpenPGP message, normally encrypted), "signed" (a
// cleartext-signed message: readable), "signature", "public-key",
// "private-key", or "" when text holds no armor header line.
func PGPArmorKind(text []byte) string {
	best, bestAt := "", -1
	for _, k := range pgpArmorKinds {
		i := bytes.Index(text, []byte(k.header))
		for i > 0 && text[i-1] != '\n' {
			// An armor header starts a line.
			j := bytes.Index(text[i+1:], []byte(k.header))
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i >= 0 && (bestAt < 0 || i < bestAt) {
			best, bestAt = k.kind, i
		}
	}
	return best
}

// pgpPacket is one parsed packet header.
type pgpPacket struct {
	tag  int
	body []byte // the available body bytes (may be cut by the end of data)
	next int    // offset of the following packet, -1 when unknown
}

// pgpReadPacket parses the packet header at b[0].
func pgpReadPacket(b []byte) (pgpPacket, bool) {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return pgpPacket{}, false
	}
	var tag, hdr, length int
	if b[0]&0x40 == 0 { // old format
		tag = int(b[0]>>2) & 0x0F
		switch b[0] & 3 {
		case 0:
			hdr, length = 2, int(b[1])
		case 1:
			if len(b) < 3 {
				return pgpPacket{}, false
			}
			hdr, length = 3, int(b[1])<<8|int(b[2])
		case 2:
			if len(b) < 5 {
				return pgpPacket{}, false
			}
			hdr, length = 5, int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4])
		default:
			hdr, length = 1, -1
		}
	} else {
		tag = int(b[0] & 0x3F)
		l := int(b[1])
		switch {
		case l < 192:
			hdr, length = 2, l
		case l < 224:
			if len(b) < 3 {
				return pgpPacket{}, false
			}
			hdr, length = 3, (l-192)<<8+int(b[2])+192
		case l == 255:
			if len(b) < 6 {
				return pgpPacket{}, false
			}
			hdr, length = 6, int(b[2])<<24|int(b[3])<<16|int(b[4])<<8|int(b[5])
		default: // partial body length
			hdr, length = 2, -1
		}
	}
	if tag == 0 || length < -1 {
		return pgpPacket{}, false
	}
	p := pgpPacket{tag: tag, next: -1}
	if length < 0 {
		p.body = b[hdr:]
		return p, true
	}
	end := min(len(b), hdr+length)
	p.body = b[hdr:end]
	if hdr+length <= len(b) {
		p.next = hdr + length
	}
	return p, true
}

// pgpPacketPlausible checks the version byte and algorithm fields that
// start the body of the packet types that can begin a message.
func pgpPacketPlausible(p pgpPacket) bool {
	if len(p.body) < 1 {
		return false
	}
	v := p.body[0]
	switch p.tag {
	case pgpTagPKESK:
		return (v == 3 && len(p.body) >= 10 && p.body[9] != 0) || v == 6
	case pgpTagSKESK:
		return (v == 4 && len(p.body) >= 3 && p.body[1] >= 1 && p.body[1] <= 13 && p.body[2] <= 4) || v == 5 || v == 6
	case pgpTagSEIPD:
		return v == 1 || v == 2
	case pgpTagAEAD:
		return v == 1
	case pgpTagSED:
		return len(p.body) >= 8
	case pgpTagOnePass:
		return v == 3 || v == 6
	case pgpTagSig:
		return v == 3 || v == 4 || v == 5 || v == 6
	case pgpTagCompress:
		return v <= 3
	case pgpTagLiteral:
		return v == 'b' || v == 't' || v == 'u' || v == 'l' || v == '1' || v == 'm'
	case pgpTagPublicKey, pgpTagSecretKey:
		return v == 4 || v == 5 || v == 6
	}
	return false
}

// pgpKind is the verdict on a binary OpenPGP packet sequence.
type pgpKind struct {
	ok        bool
	encrypted bool
	what      string
}

func (k pgpKind) info() Info {
	info := Info{Type: "pgp", Detail: k.what}
	if k.encrypted {
		info.Encrypted, info.Encryption = true, "pgp"
	}
	return info
}

// pgpBinaryKind classifies binary OpenPGP data from its first packets.
// An encrypted message is one or more session-key packets (tag 1 or 3)
// followed by encrypted data (tag 18, 9 or 20), or encrypted data alone.
func pgpBinaryKind(b []byte) pgpKind {
	p, ok := pgpReadPacket(b)
	if !ok || !pgpPacketPlausible(p) {
		return pgpKind{}
	}
	switch p.tag {
	case pgpTagPKESK, pgpTagSKESK:
		off := 0
		for i := 0; i < 64; i++ {
			if p.next < 0 {
				// The session-key packet runs past the data we have.
				if len(b) >= off+len(p.body)+2 {
					return pgpKind{}
				}
				return pgpKind{ok: true, encrypted: true, what: "OpenPGP encrypted message (session-key packet)"}
			}
			off += p.next
			if off >= len(b) {
				return pgpKind{ok: true, encrypted: true, what: "OpenPGP encrypted message (session-key packet)"}
			}
			q, ok := pgpReadPacket(b[off:])
			if !ok {
				return pgpKind{}
			}
			switch q.tag {
			case pgpTagPKESK, pgpTagSKESK:
				if !pgpPacketPlausible(q) {
					return pgpKind{}
				}
				p = q
				continue
			case pgpTagSEIPD, pgpTagSED, pgpTagAEAD:
				return pgpKind{ok: true, encrypted: true, what: fmt.Sprintf("OpenPGP encrypted message (session-key packets, then tag %d)", q.tag)}
			}
			return pgpKind{}
		}
		return pgpKind{}
	case pgpTagSEIPD, pgpTagAEAD:
		return pgpKind{ok: true, encrypted: true, what: "OpenPGP encrypted data packet"}
	case pgpTagOnePass, pgpTagSig:
		return pgpKind{ok: true, what: "OpenPGP signed message, not encrypted"}
	case pgpTagCompress, pgpTagLiteral:
		if len(b) < 8 {
			return pgpKind{}
		}
		return pgpKind{ok: true, what: "OpenPGP message, not encrypted (compressed or literal data)"}
	case pgpTagPublicKey, pgpTagSecretKey:
		return pgpKind{ok: true, what: "OpenPGP key"}
	}
	return pgpKind{}
}

// pgpArmorInfo classifies armored OpenPGP text that starts at b.
func pgpArmorInfo(b []byte) Info {
	switch PGPArmorKind(b[:min(len(b), 64)]) {
	case "message":
		der := decodeBase64Prefix(pemBody(b), 4096)
		if k := pgpBinaryKind(der); k.ok {
			info := k.info()
			info.Detail = "armored " + info.Detail
			return info
		}
		return Info{Type: "pgp", Detail: pgpUndecodable}
	case "signed":
		return Info{Type: "pgp", Detail: "OpenPGP cleartext-signed message: readable text, not encrypted"}
	case "signature":
		return Info{Type: "pgp", Detail: "OpenPGP signature"}
	case "public-key":
		return Info{Type: "pgp", Detail: "OpenPGP public key"}
	case "private-key":
		return Info{Type: "pgp", Detail: "OpenPGP private key"}
	}
	return Info{Type: "text"}
}

// pgpUndecodable is the Detail of an armored message whose first packet
// cannot be read: Identify reports it as corrupt rather than guess.
const pgpUndecodable = "armored OpenPGP message whose first packet cannot be decoded"

// identifyPGP reports an armored message whose packets cannot be decoded
// as corrupt: it is neither recognisably encrypted nor readable.
func identifyPGP(_ io.ReaderAt, _ int64, info Info) (Info, error) {
	if info.Detail == pgpUndecodable {
		return info, corrupt("%s", pgpUndecodable)
	}
	return info, nil
}
