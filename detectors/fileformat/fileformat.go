// Package fileformat recognises what a file is and whether its content is
// encrypted, before anyone tries to open it.
//
// Encryption is recognised, not guessed: every verdict rests on a structure
// the format defines (a zip entry's flag bit, a 7z AES coder, a RAR header
// flag, a PDF /Encrypt dictionary whose user password is not empty, the
// EncryptionInfo stream of an OOXML package, a Word FIB flag, an Excel
// FILEPASS record, a CMS EnvelopedData OID, an OpenPGP encrypted-session-key
// packet). A file that carries an encryption structure but opens without a
// secret (a PDF with only an owner password, a zip where only some entries
// are encrypted) is not Encrypted: its readable content must still be
// scanned, and Detail says why.
//
// Sniff looks only at the first bytes of a file; Identify reads what it
// needs from the whole file (central directories, headers, trailers). Both
// are safe on hostile input: they never panic, bound every read, and report
// corruption as an error next to the best type found.
package fileformat

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Info is what a file is.
type Info struct {
	// Type is the file type sniffed from the content: "zip", "docx", "xlsx",
	// "pptx", "odt", "ods", "odp", "ooxml-encrypted", "cfb" (an OLE compound
	// file that is not Word, Excel or PowerPoint), "doc", "xls", "ppt",
	// "pdf", "7z", "rar", "gzip", "bzip2", "xz", "zstd", "tar", "lzh", "cab",
	// "smime", "pgp", "eml", "text", "html", "xml", "rtf", "png", "jpeg",
	// "gif", "bmp", "tiff", "webp", "exe", "octet-stream".
	Type string
	// Encrypted is true when the content cannot be read without a secret.
	Encrypted bool
	// Encryption names the scheme when Encrypted: "zip-zipcrypto",
	// "zip-aes", "zip-pkware-strong", "7z-aes", "7z-aes-headers", "rar4",
	// "rar4-headers", "rar5", "rar5-headers", "ooxml-agile",
	// "ooxml-standard", "ooxml-extensible", "ooxml-irm", "doc-rc4",
	// "doc-xor", "xls-filepass", "ppt-cryptoapi", "pdf-user-password",
	// "pdf-pubsec" (certificate security or another non-standard handler),
	// "smime-enveloped", "smime-auth-enveloped", "cms-encrypted-data",
	// "pgp", "odf".
	Encryption string
	// Partial is true when some members of a container are encrypted and
	// others are not (Encrypted is then false: the plain members must be
	// inspected). Detail says which.
	Partial bool
	// Detail explains the verdict for people, e.g. "owner password only:
	// opens without a password". It never holds file content.
	Detail string
}

// Limits on what Identify reads from a file, so that hostile input cannot
// make it allocate or loop without bound.
const (
	headLen         = 64 << 10  // bytes read from the start for sniffing
	maxMetaRead     = 4 << 20   // one header, directory or dictionary region
	maxDecodedHdr   = 64 << 20  // decoded 7z header
	maxContentTypes = 1 << 20   // [Content_Types].xml and ODF manifest
	maxPDFScan      = 256 << 20 // bytes scanned for a PDF object when the xref is unusable
	maxMailBody     = 4 << 20   // bytes of a mail body looked at
)

// ErrCorrupt is wrapped by the errors Identify returns for a container
// whose structure is broken or truncated.
var ErrCorrupt = errors.New("fileformat: corrupt container")

// corrupt returns an error wrapping ErrCorrupt that says what failed.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Sniff identifies a file from its first bytes (pass at least 8 KiB when
// the file has them). It is cheap and parses nothing beyond head; it sets
// Encrypted only when head alone proves it (RAR header encryption, OpenPGP
// and S/MIME messages). Call Identify for a verdict on containers.
func Sniff(head []byte) (info Info) {
	defer func() {
		if recover() != nil {
			info = Info{Type: "octet-stream", Detail: "fileformat: sniff failed on malformed input"}
		}
	}()
	return sniff(head)
}

// Identify identifies r (size bytes), reading what it needs: the zip
// central directory, the CFB directory, the PDF trailer and encryption
// dictionary, 7z and RAR headers, a mail header. It never panics: a corrupt
// container returns the best type found and a non-nil error (wrapping
// ErrCorrupt) that says what is broken; the caller should then treat the
// file as uninspectable rather than as plain.
func Identify(r io.ReaderAt, size int64) (info Info, err error) {
	defer func() {
		if p := recover(); p != nil {
			if info.Type == "" {
				info.Type = "octet-stream"
			}
			err = corrupt("parser failure on malformed %s input (%v)", info.Type, p)
		}
	}()
	if r == nil || size < 0 {
		return Info{Type: "octet-stream"}, errors.New("fileformat: Identify needs a reader and a non-negative size")
	}
	n := int64(headLen)
	if size < n {
		n = size
	}
	buf := getScratch()
	defer putScratch(buf)
	head := (*buf)[:n]
	if k, err := r.ReadAt(head, 0); k < len(head) && err != nil && err != io.EOF {
		return Info{Type: "octet-stream"}, fmt.Errorf("fileformat: reading the first %d bytes: %w", n, err)
	} else {
		head = head[:k]
	}
	info = sniff(head)
	switch info.Type {
	case "zip", "docx", "xlsx", "pptx", "odt", "ods", "odp":
		return identifyZip(r, size, info)
	case "7z":
		return identify7z(r, size, info)
	case "rar":
		return identifyRAR(r, size, info)
	case "cfb":
		return identifyCFB(r, size)
	case "pdf":
		return identifyPDF(r, size)
	case "eml":
		return identifyMail(r, size, info)
	case "smime":
		return identifySMIME(r, size, info)
	case "pgp":
		return identifyPGP(r, size, info)
	case "exe", "octet-stream":
		// A self-extracting or prefixed zip keeps its central directory at
		// the end; archive/zip finds it from there (after a quick look for
		// its signature: most such files are no zip at all).
		if !zipEndNear(r, size) {
			break
		}
		if zi, zerr := identifyZip(r, size, Info{Type: "zip"}); zerr == nil {
			zi.Detail = joinDetail("zip data after a "+info.Type+" prefix", zi.Detail)
			return zi, nil
		}
	}
	return info, nil
}

// zipEndSearch is how far from its end archive/zip looks for the end of
// central directory record: 22 bytes of record and a 65,535-byte comment.
const zipEndSearch = 22 + 65535

// scratch holds the buffers Identify reads a file's head and tail into.
// Every attachment is identified, and a fresh 64 KiB buffer per read is an
// allocation the kernel faults in each time: at 2 MB per message that was
// 8 % of the relay's CPU. Nothing read into one outlives the call (sniff
// copies what it keeps into strings).
var scratch = sync.Pool{New: func() any { b := make([]byte, max(headLen, zipEndSearch)); return &b }}

func getScratch() *[]byte  { return scratch.Get().(*[]byte) }
func putScratch(b *[]byte) { scratch.Put(b) }

// zipEndNear reports whether the end-of-central-directory signature is in
// the last 65,557 bytes of r (22 bytes of record and a comment of at most
// 65,535), where archive/zip looks for it. Without it no zip opens.
func zipEndNear(r io.ReaderAt, size int64) bool {
	n := min(size, zipEndSearch)
	buf := getScratch()
	defer putScratch(buf)
	tail := (*buf)[:n]
	k, err := r.ReadAt(tail, size-n)
	if err != nil && err != io.EOF {
		return true // let archive/zip read and report it
	}
	return bytes.Contains(tail[:k], []byte("PK\x05\x06"))
}

// ZipEntryEncrypted reports whether one zip entry is encrypted and by which
// scheme ("zip-zipcrypto", "zip-aes", "zip-pkware-strong"), from its
// general-purpose flag bit 0, bit 6 and the WinZip AES extra field 0x9901
// (compression method 99). The extractor skips such entries and reports
// them as encrypted.
func ZipEntryEncrypted(f *zip.File) (bool, string) {
	if f == nil {
		return false, ""
	}
	return zipHeaderEncryption(f.Flags, f.Method, f.Extra)
}

// joinDetail joins two detail phrases with "; ".
func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// readAt reads n bytes at off, bounded by size and maxMetaRead; a short
// read is reported as corruption.
func readAt(r io.ReaderAt, size, off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > size {
		return nil, corrupt("%s at offset %d is outside the %d-byte file", what, off, size)
	}
	if n > maxMetaRead {
		return nil, corrupt("%s is %d bytes, more than the %d-byte limit", what, n, maxMetaRead)
	}
	if off+n > size {
		return nil, corrupt("%s (%d bytes at offset %d) runs past the end of the %d-byte file (truncated?)", what, n, off, size)
	}
	b := make([]byte, n)
	k, err := r.ReadAt(b, off)
	if k < len(b) {
		if err == nil || err == io.EOF {
			return nil, corrupt("%s: short read at offset %d (truncated?)", what, off)
		}
		return nil, fmt.Errorf("fileformat: reading %s: %w", what, err)
	}
	return b, nil
}
