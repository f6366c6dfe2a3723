package extract

import (
	"archive/tar"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/encoding/japanese"

	"github.com/sekisho-dlp/sekisho/detectors/fileformat"
)

// errRatio is returned by a decompressing reader whose output outgrows its
// input by more than Limits.MaxRatio.
var errRatio = fmt.Errorf("%w: compression ratio", ErrLimit)

// maxZstdWindow bounds the memory a zstd stream may ask for.
const maxZstdWindow = 64 << 20

// decompress reports a single-stream compressed file (gzip, bzip2, zstd)
// as a container and walks the decompressed content as one file.
func (w *walker) decompress(r io.Reader, fi fileInfo, info fileformat.Info) error {
	p := w.filePart(fi, partType(info, fi))
	in := &countReader{r: w.meter(r)}
	var (
		out   io.Reader
		name  = strings.TrimSuffix(fi.name, compressionSuffix(fi.name))
		close func()
	)
	switch info.Type {
	case "gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			if ferr := w.fatal(err); ferr != nil {
				return ferr
			}
			p.Uninspectable = "corrupt gzip: " + err.Error()
			return w.emit(p, nil)
		}
		zr.Multistream(true)
		if zr.Name != "" && utf8.ValidString(zr.Name) {
			name = zr.Name
		} else if zr.Name != "" {
			if d, err := japanese.ShiftJIS.NewDecoder().String(zr.Name); err == nil {
				name = d
			}
		}
		out = zr
	case "bzip2":
		out = bzip2.NewReader(in)
	case "zstd":
		zr, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
			zstd.WithDecoderLowmem(true))
		if err != nil {
			p.Uninspectable = "corrupt zstd: " + err.Error()
			return w.emit(p, nil)
		}
		close = zr.Close
		out = zr
	default: // xz: its dictionary size is attacker-chosen and allocated up front
		return w.opaque(r, fi, info, "unsupported compression format: "+info.Type)
	}
	if close != nil {
		defer close()
	}
	if name == "" || name == fi.name {
		name = "content"
	}
	p.Container = true
	if err := w.emit(p, nil); err != nil {
		return err
	}
	rr := &ratioReader{r: out, in: in, max: w.lim.MaxRatio}
	return w.file(&labelReader{r: rr, label: "corrupt " + info.Type}, fi.child(strings.ReplaceAll(name, "/", "_")))
}

// compressionSuffix returns the compression suffix of name (".gz", ...),
// which the decompressed content's name drops; its type is sniffed anyway.
func compressionSuffix(name string) string {
	lower := strings.ToLower(name)
	for _, ext := range []string{".gz", ".gzip", ".bz2", ".zst", ".xz", ".tgz"} {
		if strings.HasSuffix(lower, ext) {
			return name[len(name)-len(ext):]
		}
	}
	return ""
}

// tar reports a tar archive and walks its regular files, streaming.
func (w *walker) tar(r io.Reader, fi fileInfo, info fileformat.Info) error {
	p := w.filePart(fi, partType(info, fi))
	p.Container = true
	if err := w.emit(p, nil); err != nil {
		return err
	}
	tr := tar.NewReader(w.meter(r))
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ferr := w.fatal(err); ferr != nil {
				return ferr
			}
			q := w.filePart(fi.child("(tar)"), "application/octet-stream")
			q.Uninspectable = "corrupt tar: " + err.Error()
			if errors.Is(err, ErrLimit) {
				q.Uninspectable = "expanded size limit"
			}
			if err := w.emit(q, nil); err != nil {
				return err
			}
			return w.budgetLeft()
		}
		if n >= w.lim.MaxEntries {
			q := w.filePart(fi.child("(tar)"), "application/octet-stream")
			q.Uninspectable = "entry limit"
			return w.emit(q, nil)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		name := h.Name
		if !utf8.ValidString(name) {
			if d, err := japanese.ShiftJIS.NewDecoder().String(name); err == nil {
				name = d
			}
		}
		if err := w.file(&labelReader{r: tr, label: "corrupt tar member"}, fi.child(name)); err != nil {
			return err
		}
		if err := w.budgetLeft(); err != nil {
			return err
		}
	}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ratioReader fails with errRatio when the bytes it has produced exceed
// max times the compressed bytes consumed (past ratioFloor).
type ratioReader struct {
	r   io.Reader
	in  *countReader
	out int64
	max float64
}

func (z *ratioReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.out += int64(n)
	if z.out >= ratioFloor && float64(z.out) > z.max*float64(max(z.in.n, 1)) {
		return n, errRatio
	}
	return n, err
}
