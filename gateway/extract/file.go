package extract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/sekisho-dlp/sekisho/detectors/fileformat"
)

// sniffLen is how many leading bytes of a file are looked at to sniff its
// type (fileformat.Sniff wants at least 8 KiB when the file has them).
const sniffLen = 8 << 10

// file sniffs one file from its content (never from its name), recognises
// encryption and opens containers. It reports the file itself as one part
// and then, for a container, its members as parts at depth+1.
//
// file meters what it reads from r (callers must not meter r themselves);
// the text of a text file is metered by emit instead, so every byte counts
// once per nesting level. It returns an error only when the walk must stop
// (visitor error, cancellation, part limit, expanded-bytes budget used up);
// anything wrong with the file itself becomes an uninspectable part.
func (w *walker) file(r io.Reader, fi fileInfo) error {
	if fi.depth > w.lim.MaxDepth {
		p := w.filePart(fi, "application/octet-stream")
		p.Uninspectable = "depth limit"
		return w.emit(p, nil)
	}
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < sniffLen {
		br = getBufReader(r)
		defer putBufReader(br) // the walk below is synchronous
	}
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return w.readFailed(fi, "application/octet-stream", err)
	}
	info := fileformat.Sniff(head)
	switch info.Type {
	case "eml":
		p := w.filePart(fi, partType(info, fi))
		p.Container = true
		if err := w.emit(p, nil); err != nil {
			return err
		}
		return w.messageIn(br, fi)
	case "text", "xml", "html", "rtf":
		return w.text(br, fi, info)
	case "smime", "pgp":
		p := w.filePart(fi, info.Type)
		if info.Encrypted {
			p.Encrypted, p.Encryption = true, info.Encryption
			n, err := io.Copy(io.Discard, w.meter(br))
			p.Size = n
			if err := w.fatal(err); err != nil {
				return err
			}
			return w.emit(p, nil)
		}
		if info.Type == "pgp" { // clear-signed or armoured text
			return w.text(br, fi, info)
		}
		return w.random(br, fi, info)
	case "gzip", "bzip2", "xz", "zstd":
		return w.decompress(br, fi, info)
	case "tar":
		return w.tar(br, fi, info)
	case "zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "ooxml-encrypted",
		"cfb", "doc", "xls", "ppt", "pdf", "7z", "rar", "exe", "octet-stream":
		return w.random(br, fi, info)
	case "lzh", "cab":
		return w.opaque(br, fi, info, "unsupported archive format: "+info.Type)
	default: // images and other binary formats: no text, nothing hidden
		return w.opaque(br, fi, info, "")
	}
}

// random handles a file that needs random access: it reads it whole (into
// memory or a temp file), identifies it and opens it.
func (w *walker) random(r io.Reader, fi fileInfo, sniffed fileformat.Info) error {
	sp, err := w.spool(r)
	if err != nil {
		return w.readFailed(fi, partType(sniffed, fi), err)
	}
	defer sp.Close()
	info, ierr := fileformat.Identify(sp, sp.size)
	p := w.filePart(fi, partType(info, fi))
	p.Size = sp.size
	if ierr != nil {
		p.Uninspectable = "corrupt " + info.Type + ": " + corruptDetail(ierr)
		return w.emit(p, nil)
	}
	if info.Encrypted {
		p.Encrypted, p.Encryption = true, info.Encryption
		return w.emit(p, nil)
	}
	switch info.Type {
	case "zip":
		return w.zip(sp, sp.size, p, fi)
	case "docx", "xlsx", "pptx", "odt", "ods", "odp":
		return w.office(sp, sp.size, p, fi, info.Type)
	case "pdf":
		return w.pdf(sp, sp.size, p)
	case "7z":
		return w.sevenZip(sp, sp.size, p, fi)
	case "rar":
		return w.rar(sp, sp.size, p, fi)
	case "doc", "xls", "ppt", "cfb":
		return w.cfb(sp, p, info.Type)
	case "smime": // signed (or compressed): not encrypted
		return w.smime(sp, sp.size, p, fi)
	case "text", "xml", "html", "rtf": // a prefix fooled the sniffer
		return w.text(io.NewSectionReader(sp, 0, sp.size), fi, info)
	}
	return w.emit(p, nil) // opaque binary
}

// text reports a text file with its text decoded to UTF-8, streamed.
func (w *walker) text(r io.Reader, fi fileInfo, info fileformat.Info) error {
	p := w.filePart(fi, partType(info, fi))
	tr, reason := textReader(r, "")
	if reason != "" {
		p.Uninspectable = reason
		return w.emit(p, nil)
	}
	if info.Type == "html" {
		tr = htmlText(tr)
	}
	return w.emit(p, tr)
}

// opaque reports a file without text (an image, an unknown binary),
// reading it to the end to learn its size. A non-empty reason makes it
// uninspectable (an archive format that cannot be opened).
func (w *walker) opaque(r io.Reader, fi fileInfo, info fileformat.Info, reason string) error {
	p := w.filePart(fi, partType(info, fi))
	n, err := io.Copy(io.Discard, w.meter(r))
	p.Size = n
	if err != nil {
		if ferr := w.fatal(err); ferr != nil {
			return ferr
		}
		reason = failReason(err)
	}
	p.Uninspectable = reason
	return w.emit(p, nil)
}

// readFailed reports a file that could not be read: the budget ran out or
// the underlying reader (a transfer decoding, an archive member) failed.
func (w *walker) readFailed(fi fileInfo, typ string, err error) error {
	if ferr := w.fatal(err); ferr != nil {
		return ferr
	}
	p := w.filePart(fi, typ)
	p.Uninspectable = failReason(err)
	if perr := w.emit(p, nil); perr != nil {
		return perr
	}
	return w.budgetLeft()
}

// fatal returns err when it must stop the walk (cancellation) or when
// the caller reports it (a broken transfer encoding), else nil.
func (w *walker) fatal(err error) error {
	if err == nil {
		return nil
	}
	var te *transferError
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if cerr := w.ctx.Err(); cerr != nil {
		return cerr
	}
	return nil
}

// budgetLeft returns an error wrapping ErrLimit once the expanded-bytes
// budget is used up: every further read would fail, so the walk stops and
// the whole item becomes uninspectable.
func (w *walker) budgetLeft() error {
	if w.expanded.Load() > w.lim.MaxExpandedBytes {
		return fmt.Errorf("%w: more than %d expanded bytes", ErrLimit, w.lim.MaxExpandedBytes)
	}
	return nil
}

// failReason turns a read error into an Uninspectable reason.
func failReason(err error) string {
	if errors.Is(err, errRatio) {
		return "compression ratio limit"
	}
	if errors.Is(err, ErrLimit) {
		return "expanded size limit"
	}
	return "read failed: " + err.Error()
}

// corruptDetail strips fileformat's generic prefix from a corruption error.
func corruptDetail(err error) string {
	return strings.TrimPrefix(err.Error(), fileformat.ErrCorrupt.Error()+": ")
}

// filePart returns the part for the file fi with the given type.
func (w *walker) filePart(fi fileInfo, typ string) *Part {
	return &Part{
		Path:       fi.path,
		Name:       fi.name,
		Declared:   fi.declared,
		Type:       typ,
		Role:       fi.role,
		Attachment: fi.attachment,
		Depth:      fi.depth,
	}
}

// child returns the fileInfo of a member called name inside the container fi.
func (fi fileInfo) child(name string) fileInfo {
	return fileInfo{
		name:       path.Base(name),
		path:       fi.path + "/" + name,
		role:       fi.role,
		attachment: fi.attachment,
		depth:      fi.depth + 1,
	}
}

// partType maps a fileformat type to Part.Type: media types for the
// generic kinds, fileformat's short names for documents and archives.
func partType(info fileformat.Info, fi fileInfo) string {
	switch info.Type {
	case "text":
		if fi.declared == "text/csv" || strings.HasSuffix(strings.ToLower(fi.name), ".csv") {
			return "text/csv" // a label only: the content decides that it is text
		}
		return "text/plain"
	case "html":
		return "text/html"
	case "xml":
		return "text/xml"
	case "rtf":
		return "text/rtf"
	case "eml":
		return "message/rfc822"
	case "zip":
		return "application/zip"
	case "gzip":
		return "application/gzip"
	case "octet-stream", "":
		return "application/octet-stream"
	case "png", "jpeg", "gif", "bmp", "tiff", "webp":
		return "image/" + info.Type
	}
	return info.Type
}
