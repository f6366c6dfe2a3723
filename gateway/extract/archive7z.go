package extract

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bodgit/sevenzip"

	"github.com/sekisho-dlp/sekisho/detectors/fileformat"
)

// max7zDict bounds the dictionary (or PPMd model) a 7z coder may ask
// for: the decoder allocates it up front when a member is opened, so a
// few header bytes could otherwise demand 4 GiB. 7-Zip's "ultra" preset
// uses 64 MiB.
const max7zDict = 64 << 20

// sevenZip reports a 7z archive (identified as not wholly encrypted) and
// walks its members as files. Members in AES-encrypted folders are
// reported encrypted.
func (w *walker) sevenZip(ra io.ReaderAt, size int64, p *Part, fi fileInfo) error {
	if dict, err := fileformat.SevenZipMaxDict(ra, size); err != nil {
		p.Uninspectable = "corrupt 7z: " + corruptDetail(err)
		return w.emit(p, nil)
	} else if dict > max7zDict {
		p.Uninspectable = "7z dictionary too large"
		return w.emit(p, nil)
	}
	zr, err := open7z(ra, size)
	if err != nil {
		var re *sevenzip.ReadError
		if errors.As(err, &re) && re.Encrypted {
			p.Encrypted, p.Encryption = true, "7z-aes-headers"
		} else {
			p.Uninspectable = "corrupt 7z: " + err.Error()
		}
		return w.emit(p, nil)
	}
	if len(zr.File) > w.lim.MaxEntries {
		p.Uninspectable = "entry limit"
		return w.emit(p, nil)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize
	}
	if total >= ratioFloor && float64(total) > w.lim.MaxRatio*float64(max(size, 1)) {
		p.Uninspectable = "compression ratio limit"
		return w.emit(p, nil)
	}
	p.Container = true
	if err := w.emit(p, nil); err != nil {
		return err
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if err := w.sevenZipMember(f, fi); err != nil {
			return err
		}
		if err := w.budgetLeft(); err != nil {
			return err
		}
	}
	return nil
}

func open7z(ra io.ReaderAt, size int64) (zr *sevenzip.Reader, err error) {
	defer func() {
		if x := recover(); x != nil {
			zr, err = nil, fmt.Errorf("malformed archive (%v)", x)
		}
	}()
	return sevenzip.NewReader(ra, size)
}

// sevenZipMember walks one 7z member.
func (w *walker) sevenZipMember(f *sevenzip.File, fi fileInfo) error {
	name := strings.ReplaceAll(f.Name, "\\", "/")
	cfi := fi.child(name)
	if reason := w.memberLimit(f.UncompressedSize, f.UncompressedSize); reason != "" {
		q := w.filePart(cfi, "application/octet-stream")
		q.Uninspectable, q.Size = reason, int64(f.UncompressedSize)
		return w.emit(q, nil)
	}
	rc, err := open7zMember(f)
	if err == nil {
		defer rc.Close()
		br := bufio.NewReader(&safeReader{r: rc, label: "corrupt 7z member"})
		if _, err = br.Peek(1); err == io.EOF {
			err = nil
		}
		if err == nil {
			lim := &sizeCheck{r: br, left: int64(f.UncompressedSize), label: "corrupt 7z member"}
			return w.file(lim, cfi)
		}
	}
	q := w.filePart(cfi, "application/octet-stream")
	q.Size = int64(f.UncompressedSize)
	var re *sevenzip.ReadError
	if errors.As(err, &re) && re.Encrypted {
		q.Encrypted, q.Encryption = true, "7z-aes"
	} else {
		q.Uninspectable = "corrupt 7z member: " + err.Error()
	}
	return w.emit(q, nil)
}

func open7zMember(f *sevenzip.File) (rc io.ReadCloser, err error) {
	defer func() {
		if x := recover(); x != nil {
			rc, err = nil, fmt.Errorf("malformed archive (%v)", x)
		}
	}()
	return f.Open()
}

// safeReader turns a panic of a third-party decoder into a read error
// and prefixes errors with label.
type safeReader struct {
	r     io.Reader
	label string
}

func (s *safeReader) Read(p []byte) (n int, err error) {
	defer func() {
		if x := recover(); x != nil {
			n, err = 0, fmt.Errorf("%s: malformed data (%v)", s.label, x)
		}
	}()
	n, err = s.r.Read(p)
	if err != nil && err != io.EOF {
		var re *sevenzip.ReadError
		if !errors.As(err, &re) {
			err = fmt.Errorf("%s: %w", s.label, err)
		}
	}
	return n, err
}

// sizeCheck fails when a member yields more bytes than it declared.
type sizeCheck struct {
	r     io.Reader
	left  int64
	label string
}

func (s *sizeCheck) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if s.left < 0 {
		return n, fmt.Errorf("%s: larger than its declared size", s.label)
	}
	return n, err
}
