package fileformat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// pdfPadding is the password padding string of ISO 32000-1 §7.6.3.3.
var pdfPadding = []byte{
	0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
	0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
}

// pdfEmptyUserPassword reports whether the empty string authenticates as
// the user password of a standard security handler dictionary.
func pdfEmptyUserPassword(enc pdfDict, id []byte) (bool, error) {
	return pdfCheckUserPassword(enc, id, nil)
}

// pdfCheckUserPassword runs the user-password check of the standard
// security handler: algorithms 6 (R2–R4), R5's SHA-256 and 11 (R6).
func pdfCheckUserPassword(enc pdfDict, id, password []byte) (bool, error) {
	rev := enc.int("R", 0)
	o, u := enc.str("O"), enc.str("U")
	switch {
	case rev >= 2 && rev <= 4:
		if len(o) < 32 || len(u) < 16 || (rev == 2 && len(u) < 32) {
			return false, errors.New("fileformat: PDF /O or /U is too short")
		}
		p := enc.int("P", 0)
		n := 5
		if rev >= 3 {
			n = int(enc.int("Length", 40) / 8)
			if enc.int("V", 0) >= 4 && enc["Length"] == nil {
				n = 16
			}
			if n < 5 || n > 16 {
				return false, fmt.Errorf("fileformat: PDF key length %d bytes is outside 5..16", n)
			}
		}
		key := pdfKeyR234(password, o[:32], int32(p), id, rev, n, enc.bool("EncryptMetadata", true))
		if rev == 2 {
			c, _ := rc4.NewCipher(key)
			out := make([]byte, 32)
			c.XORKeyStream(out, pdfPadding)
			return bytes.Equal(out, u[:32]), nil
		}
		h := md5.New()
		h.Write(pdfPadding)
		h.Write(id)
		x := h.Sum(nil)
		k := make([]byte, len(key))
		for i := 0; i < 20; i++ {
			for j := range key {
				k[j] = key[j] ^ byte(i)
			}
			c, _ := rc4.NewCipher(k)
			c.XORKeyStream(x, x)
		}
		return bytes.Equal(x, u[:16]), nil
	case rev == 5:
		if len(u) < 40 {
			return false, errors.New("fileformat: PDF R5 /U is shorter than 40 bytes")
		}
		pw := password[:min(len(password), 127)]
		h := sha256.New()
		h.Write(pw)
		h.Write(u[32:40])
		return bytes.Equal(h.Sum(nil), u[:32]), nil
	case rev == 6:
		if len(u) < 40 {
			return false, errors.New("fileformat: PDF R6 /U is shorter than 40 bytes")
		}
		pw := password[:min(len(password), 127)]
		return bytes.Equal(pdfHash2B(pw, u[32:40], nil), u[:32]), nil
	}
	return false, fmt.Errorf("fileformat: PDF security handler revision %d is not supported", rev)
}

// pdfKeyR234 is algorithm 2: the file key from a password.
func pdfKeyR234(password, o []byte, p int32, id []byte, rev int64, n int, encryptMetadata bool) []byte {
	padded := make([]byte, 32)
	k := copy(padded, password[:min(len(password), 32)])
	copy(padded[k:], pdfPadding)
	h := md5.New()
	h.Write(padded)
	h.Write(o)
	var pb [4]byte
	binary.LittleEndian.PutUint32(pb[:], uint32(p))
	h.Write(pb[:])
	h.Write(id)
	if rev >= 4 && !encryptMetadata {
		h.Write([]byte{0xFF, 0xFF, 0xFF, 0xFF})
	}
	key := h.Sum(nil)
	if rev >= 3 {
		for i := 0; i < 50; i++ {
			s := md5.Sum(key[:n])
			key = s[:]
		}
	}
	return key[:n]
}

// pdfHash2B is algorithm 2.B of ISO 32000-2 (R6). udata is the 48-byte /U
// for the owner-password variant and nil for the user password.
func pdfHash2B(pw, salt, udata []byte) []byte {
	h := sha256.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	for round := 0; ; round++ {
		seq := make([]byte, 0, len(pw)+len(k)+len(udata))
		seq = append(seq, pw...)
		seq = append(seq, k...)
		seq = append(seq, udata...)
		k1 := bytes.Repeat(seq, 64)
		block, _ := aes.NewCipher(k[:16])
		e := make([]byte, len(k1))
		cipher.NewCBCEncrypter(block, k[16:32]).CryptBlocks(e, k1)
		sum := 0
		for _, c := range e[:16] {
			sum += int(c)
		}
		var hh hash.Hash
		switch sum % 3 {
		case 0:
			hh = sha256.New()
		case 1:
			hh = sha512.New384()
		default:
			hh = sha512.New()
		}
		hh.Write(e)
		k = hh.Sum(nil)
		if round >= 63 && int(e[len(e)-1]) <= round+1-32 {
			break
		}
	}
	return k[:32]
}
