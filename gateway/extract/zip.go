package extract

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"golang.org/x/text/encoding/japanese"

	"github.com/sekisho-dlp/sekisho/detectors/fileformat"
)

// ratioFloor is the uncompressed size below which the compression ratio
// is not checked: small members of repetitive text compress well and are
// harmless.
const ratioFloor = 1 << 20

// zip reports a zip archive (p, already identified as plain) and walks
// its members as files.
func (w *walker) zip(ra io.ReaderAt, size int64, p *Part, fi fileInfo) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		p.Uninspectable = "corrupt zip: " + err.Error()
		return w.emit(p, nil)
	}
	zr.RegisterDecompressor(zip.Deflate, newInflater)
	if len(zr.File) > w.lim.MaxEntries {
		p.Uninspectable = "entry limit"
		return w.emit(p, nil)
	}
	p.Container = true
	if err := w.emit(p, nil); err != nil {
		return err
	}
	for _, f := range zr.File {
		name := zipName(f)
		if strings.HasSuffix(name, "/") {
			continue // a directory
		}
		if err := w.zipMember(f, name, fi); err != nil {
			return err
		}
		if err := w.budgetLeft(); err != nil {
			return err
		}
	}
	return nil
}

// zipMember walks one zip member.
func (w *walker) zipMember(f *zip.File, name string, fi fileInfo) error {
	cfi := fi.child(name)
	if enc, scheme := fileformat.ZipEntryEncrypted(f); enc {
		p := w.filePart(cfi, "application/octet-stream")
		p.Encrypted, p.Encryption, p.Size = true, scheme, int64(f.UncompressedSize64)
		return w.emit(p, nil)
	}
	if reason := w.memberLimit(f.UncompressedSize64, f.CompressedSize64); reason != "" {
		p := w.filePart(cfi, "application/octet-stream")
		p.Uninspectable, p.Size = reason, int64(f.UncompressedSize64)
		return w.emit(p, nil)
	}
	rc, err := f.Open()
	if err != nil {
		p := w.filePart(cfi, "application/octet-stream")
		p.Uninspectable = "corrupt zip member: " + err.Error()
		return w.emit(p, nil)
	}
	defer rc.Close()
	return w.file(&labelReader{r: rc, label: "corrupt zip member"}, cfi)
}

// memberLimit checks an archive member's declared sizes before it is read:
// the remaining expanded-bytes budget and the compression ratio. The
// actual bytes are metered too, so a member lying about its size is still
// caught.
func (w *walker) memberLimit(uncompressed, compressed uint64) string {
	left := w.lim.MaxExpandedBytes - w.expanded.Load()
	if left < 0 || uncompressed > uint64(left) {
		return "expanded size limit"
	}
	if uncompressed >= ratioFloor && float64(uncompressed) > w.lim.MaxRatio*float64(max(compressed, 1)) {
		return "compression ratio limit"
	}
	return ""
}

// zipName returns a member's name as UTF-8: the Info-ZIP Unicode Path
// extra field when present and current, the name itself when it is UTF-8
// (flag bit 11, or valid UTF-8 anyway), else the name decoded as CP932
// (Shift_JIS), which is what Japanese Windows tools write. Backslashes
// become slashes.
func zipName(f *zip.File) string {
	name := f.Name
	if u := unicodePathExtra(f.Extra, name); u != "" {
		name = u
	} else if !utf8.ValidString(name) {
		if d, err := japanese.ShiftJIS.NewDecoder().String(name); err == nil {
			name = d
		} else {
			name = strings.ToValidUTF8(name, "\uFFFD")
		}
	}
	return strings.ReplaceAll(name, "\\", "/")
}

// unicodePathExtra returns the UTF-8 name of the Info-ZIP Unicode Path
// extra field (0x7075) when its CRC matches the header name.
func unicodePathExtra(extra []byte, name string) string {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return ""
		}
		field := extra[:n]
		extra = extra[n:]
		if id != 0x7075 || len(field) < 5 || field[0] != 1 {
			continue
		}
		if binary.LittleEndian.Uint32(field[1:]) != crc32.ChecksumIEEE([]byte(name)) {
			continue
		}
		if u := string(field[5:]); utf8.ValidString(u) {
			return u
		}
	}
	return ""
}

// labelReader prefixes the errors of an archive member's reader (other
// than io.EOF) with what was being read, keeping them unwrappable.
type labelReader struct {
	r     io.Reader
	label string
}

func (l *labelReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", l.label, err)
	}
	return n, err
}

// newInflater decompresses a deflated zip member with klauspost/compress's
// inflater, which is faster than compress/flate's (and reads the same
// streams; both report corrupt input as an error). A large member is read
// in 64 KiB blocks (not 4 KiB: one pread each from a spooled temp file); a
// small one with a buffer of its size.
func newInflater(r io.Reader) io.ReadCloser {
	size := int64(64 << 10)
	if sr, ok := r.(interface{ Size() int64 }); ok {
		size = min(size, sr.Size()+16)
	}
	return flate.NewReader(bufio.NewReaderSize(r, int(size)))
}
