package extract

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nwaples/rardecode/v2"
)

// maxRARDictionary bounds the dictionary a RAR archive may ask for (the
// decoder allocates it).
const maxRARDictionary = 64 << 20

// rar reports a RAR archive (identified as not wholly encrypted) and walks
// its members as files, streaming. Encrypted members are reported
// encrypted.
func (w *walker) rar(ra io.ReaderAt, size int64, p *Part, fi fileInfo) error {
	rr, err := openRAR(io.NewSectionReader(ra, 0, size))
	if err != nil {
		if errors.Is(err, rardecode.ErrArchiveEncrypted) {
			p.Encrypted, p.Encryption = true, "rar-headers"
		} else {
			p.Uninspectable = "corrupt rar: " + err.Error()
		}
		return w.emit(p, nil)
	}
	p.Container = true
	if err := w.emit(p, nil); err != nil {
		return err
	}
	for n := 0; ; n++ {
		h, err := rarNext(rr)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			q := w.filePart(fi.child("(rar)"), "application/octet-stream")
			q.Uninspectable = "corrupt rar: " + err.Error()
			if errors.Is(err, rardecode.ErrArchiveEncrypted) || errors.Is(err, rardecode.ErrArchivedFileEncrypted) {
				q.Uninspectable, q.Encrypted, q.Encryption = "", true, "rar"
			}
			return w.emit(q, nil)
		}
		if n >= w.lim.MaxEntries {
			q := w.filePart(fi.child("(rar)"), "application/octet-stream")
			q.Uninspectable = "entry limit"
			return w.emit(q, nil)
		}
		if h.IsDir {
			continue
		}
		cfi := fi.child(strings.ReplaceAll(h.Name, "\\", "/"))
		if h.Encrypted {
			q := w.filePart(cfi, "application/octet-stream")
			q.Encrypted, q.Encryption, q.Size = true, "rar", h.UnPackedSize
			if err := w.emit(q, nil); err != nil {
				return err
			}
			continue
		}
		if !h.UnKnownSize {
			if reason := w.memberLimit(uint64(max(h.UnPackedSize, 0)), uint64(max(h.PackedSize, 0))); reason != "" {
				q := w.filePart(cfi, "application/octet-stream")
				q.Uninspectable, q.Size = reason, h.UnPackedSize
				if err := w.emit(q, nil); err != nil {
					return err
				}
				continue
			}
		}
		var r io.Reader = &safeReader{r: rr, label: "corrupt rar member"}
		if !h.UnKnownSize {
			r = &sizeCheck{r: r, left: h.UnPackedSize, label: "corrupt rar member"}
		}
		if err := w.file(r, cfi); err != nil {
			return err
		}
		if err := w.budgetLeft(); err != nil {
			return err
		}
	}
}

func openRAR(r io.Reader) (rr *rardecode.Reader, err error) {
	defer func() {
		if x := recover(); x != nil {
			rr, err = nil, fmt.Errorf("malformed archive (%v)", x)
		}
	}()
	return rardecode.NewReader(r, rardecode.MaxDictionarySize(maxRARDictionary))
}

func rarNext(rr *rardecode.Reader) (h *rardecode.FileHeader, err error) {
	defer func() {
		if x := recover(); x != nil {
			h, err = nil, fmt.Errorf("malformed archive (%v)", x)
		}
	}()
	return rr.Next()
}
