package fileformat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// PDFKey is what a decrypter needs to read a PDF of the standard security
// handler that opens with the empty user password.
type PDFKey struct {
	// Key is the file encryption key (32 bytes for V5; 5–16 bytes for
	// V1–V4, to be combined with each object's number as ISO 32000-1
	// algorithm 1 says). For V5 it is used as is for every string and
	// stream (AES-256-CBC, the IV being the first 16 bytes).
	Key []byte
	// V and R are the /V and /R entries of the encryption dictionary.
	V, R int
	// AES is true when strings and streams use AES (AESV2, AESV3), false
	// for RC4.
	AES bool
	// StmIdentity and StrIdentity are true when streams, or strings, are
	// not encrypted (the Identity crypt filter of V4/V5).
	StmIdentity, StrIdentity bool
	// EncryptMetadata is false when metadata streams are left in clear.
	EncryptMetadata bool
	// EncryptNum and EncryptGen locate the encryption dictionary when it
	// is an indirect object (its strings are not encrypted); EncryptNum is
	// -1 when the dictionary is direct (inside the trailer).
	EncryptNum, EncryptGen int64
}

// ErrPDFNeedsPassword is returned by PDFFileKey when the empty string is
// not the user password: the PDF cannot be opened without a secret.
var ErrPDFNeedsPassword = errors.New("fileformat: PDF needs a user password")

// PDFFileKey finds the encryption dictionary of the newest revision of a
// PDF and computes the file key with the empty user password: algorithm 2
// (R2–R4), R5's SHA-256 and algorithm 2.A with 2.B (R6), the /UE key
// being decrypted with AES-256-CBC and a zero IV and checked against
// /Perms. It returns (nil, nil) when the PDF is not encrypted. When the
// dictionary is found but no key can be computed (a password is needed:
// ErrPDFNeedsPassword; a non-standard handler; a broken dictionary), it
// returns the PDFKey with V and R set, without Key, and the error.
func PDFFileKey(r io.ReaderAt, size int64) (key *PDFKey, err error) {
	defer func() {
		if x := recover(); x != nil {
			err = corrupt("parser failure on malformed PDF input (%v)", x)
		}
	}()
	if r == nil || size <= 0 {
		return nil, errors.New("fileformat: PDFFileKey needs a reader and a size")
	}
	d := &pdfDoc{r: r, size: size, offsets: map[int64]int64{}}
	var enc any
	var id []byte
	if trailer, terr := d.trailer(); terr == nil {
		enc, id = trailer["Encrypt"], firstID(trailer)
	} else {
		t, encAt, err := d.scanForEncrypt()
		if err != nil {
			return nil, err
		}
		if t != nil {
			enc, id = t["Encrypt"], firstID(t)
		}
		if enc == nil {
			enc = encAt
		}
	}
	if enc == nil {
		return nil, nil
	}
	k := &PDFKey{EncryptNum: -1}
	if ref, ok := enc.(pdfRef); ok {
		k.EncryptNum, k.EncryptGen = ref.num, ref.gen
	}
	dict, err := d.resolveDict(enc)
	if err != nil {
		return k, err
	}
	k.V, k.R = int(dict.int("V", 0)), int(dict.int("R", 0))
	if f := dict.name("Filter"); f != "Standard" {
		return k, fmt.Errorf("fileformat: PDF security handler %q is not the standard one", f)
	}
	ok, err := pdfEmptyUserPassword(dict, id)
	if err != nil {
		return k, err
	}
	if !ok {
		return k, ErrPDFNeedsPassword
	}
	k.EncryptMetadata = dict.bool("EncryptMetadata", true)
	k.AES = k.V >= 5
	if k.V >= 4 {
		cfm := func(name string) string {
			if name == "" || name == "Identity" {
				return "Identity"
			}
			return dict.dict("CF").dict(name).name("CFM")
		}
		stm, str := cfm(dict.name("StmF")), cfm(dict.name("StrF"))
		k.StmIdentity = stm == "Identity" || stm == "None"
		k.StrIdentity = str == "Identity" || str == "None"
		k.AES = stm == "AESV2" || stm == "AESV3" || str == "AESV2" || str == "AESV3"
	}
	switch {
	case k.R >= 2 && k.R <= 4:
		n := 5
		if k.R >= 3 {
			n = int(dict.int("Length", 40) / 8)
			if k.V >= 4 && dict["Length"] == nil {
				n = 16
			}
		}
		k.Key = pdfKeyR234(nil, dict.str("O")[:32], int32(dict.int("P", 0)), id, int64(k.R), n, k.EncryptMetadata)
	case k.R == 5 || k.R == 6:
		key, err := pdfKeyAES256(dict, k.R)
		if err != nil {
			return k, err
		}
		k.Key = key
	default:
		return k, fmt.Errorf("fileformat: PDF security handler revision %d is not supported", k.R)
	}
	return k, nil
}

// pdfKeyAES256 is algorithm 2.A for the empty user password: the
// intermediate key (SHA-256 for R5, hash 2.B for R6, over the password and
// the user key salt /U[40:48]) decrypts /UE (AES-256-CBC, zero IV, no
// padding) to the file key, which /Perms confirms.
func pdfKeyAES256(dict pdfDict, rev int) ([]byte, error) {
	u, ue := dict.str("U"), dict.str("UE")
	if len(u) < 48 || len(ue) < 32 {
		return nil, fmt.Errorf("fileformat: PDF R%d /U or /UE is too short", rev)
	}
	var ik []byte
	if rev == 5 {
		s := sha256.Sum256(u[40:48])
		ik = s[:]
	} else {
		ik = pdfHash2B(nil, u[40:48], nil)
	}
	block, err := aes.NewCipher(ik)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	cipher.NewCBCDecrypter(block, make([]byte, 16)).CryptBlocks(key, ue[:32])
	if perms := dict.str("Perms"); len(perms) >= 16 {
		kb, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		var p [16]byte
		kb.Decrypt(p[:], perms[:16])
		if !bytes.Equal(p[9:12], []byte("adb")) {
			return nil, corrupt("PDF /Perms does not match the file key computed from /UE")
		}
	}
	return key, nil
}
