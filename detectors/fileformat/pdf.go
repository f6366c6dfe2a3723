package fileformat

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

const (
	pdfTailLen    = 64 << 10 // bytes at the end searched for startxref
	pdfObjWindow  = 64 << 10 // bytes read for one trailer or object
	pdfMaxPrev    = 64       // /Prev links followed
	pdfScanChunk  = 1 << 20
	pdfScanMargin = 256
)

var (
	reStartXref = regexp.MustCompile(`startxref\s+(\d{1,15})`)
	reEncryptAt = regexp.MustCompile(`/Encrypt\s*(?:(\d{1,10})\s+(\d{1,5})\s+R|<<)`)
)

// pdfDoc is what identifyPDF learns while walking the cross-references.
type pdfDoc struct {
	r       io.ReaderAt
	size    int64
	offsets map[int64]int64 // object number -> offset, from classic xref tables (newest wins)
}

// identifyPDF finds the encryption dictionary of the newest revision and
// tests the empty user password.
func identifyPDF(r io.ReaderAt, size int64) (Info, error) {
	info := Info{Type: "pdf"}
	d := &pdfDoc{r: r, size: size, offsets: map[int64]int64{}}
	trailer, terr := d.trailer()
	var enc any
	var id []byte
	damaged := ""
	if terr == nil {
		enc = trailer["Encrypt"]
		id = firstID(trailer)
	} else {
		// The cross-reference chain is unusable: scan for a trailer
		// and for /Encrypt, as viewers do when they rebuild the xref.
		damaged = "cross-reference damaged (" + terr.Error() + ")"
		t, encAt, err := d.scanForEncrypt()
		if err != nil {
			return info, err
		}
		if t != nil {
			enc, id = t["Encrypt"], firstID(t)
		}
		if enc == nil && encAt != nil {
			enc = encAt
		}
	}
	if enc == nil {
		if damaged != "" {
			info.Detail = damaged + "; no /Encrypt found by scanning"
			return info, corrupt("PDF %s", damaged)
		}
		return info, nil
	}
	encDict, err := d.resolveDict(enc)
	if err != nil {
		info.Encrypted, info.Encryption = true, "pdf-user-password"
		info.Detail = "has /Encrypt but the encryption dictionary is unreadable; treated as needing a password"
		return info, err
	}
	info = pdfVerdict(encDict, id)
	if damaged != "" {
		info.Detail = joinDetail(info.Detail, damaged)
	}
	return info, nil
}

func firstID(trailer pdfDict) []byte {
	if a, ok := trailer["ID"].(pdfArray); ok && len(a) > 0 {
		if s, ok := a[0].(pdfString); ok {
			return s
		}
	}
	return nil
}

// read returns up to n bytes at off (fewer at the end of the file).
func (d *pdfDoc) read(off, n int64) []byte {
	if off < 0 || off >= d.size {
		return nil
	}
	n = min(n, d.size-off)
	b := make([]byte, n)
	k, _ := d.r.ReadAt(b, off)
	return b[:k]
}

// trailer follows startxref (and /Prev) to the newest trailer holding
// /Encrypt, or the newest trailer when none does.
func (d *pdfDoc) trailer() (pdfDict, error) {
	tailOff := max(0, d.size-pdfTailLen)
	tail := d.read(tailOff, pdfTailLen)
	all := reStartXref.FindAllSubmatch(tail, -1)
	if len(all) == 0 {
		return nil, corrupt("PDF has no startxref near its end (truncated?)")
	}
	off, err := strconv.ParseInt(string(all[len(all)-1][1]), 10, 64)
	if err != nil || off <= 0 || off >= d.size {
		return nil, corrupt("PDF startxref %s points outside the file", all[len(all)-1][1])
	}
	var newest pdfDict
	seen := map[int64]bool{}
	for i := 0; i < pdfMaxPrev && off > 0 && !seen[off]; i++ {
		seen[off] = true
		t, err := d.section(off)
		if err != nil {
			if newest != nil {
				return newest, nil
			}
			return nil, err
		}
		if newest == nil {
			newest = t
		}
		if t["Encrypt"] != nil {
			if newest["ID"] == nil {
				newest["ID"] = t["ID"]
			}
			newest["Encrypt"] = t["Encrypt"]
			return newest, nil
		}
		off = t.int("Prev", 0)
	}
	return newest, nil
}

// section reads one cross-reference section at off: a classic table with
// its trailer, or a cross-reference stream whose dictionary is the trailer.
func (d *pdfDoc) section(off int64) (pdfDict, error) {
	win := d.read(off, pdfObjWindow)
	p := &pdfParser{b: win}
	p.skipSpace()
	if bytes.HasPrefix(win[p.pos:], []byte("xref")) {
		return d.classicSection(off)
	}
	_, v, err := parseIndirect(win)
	if err != nil {
		return nil, corrupt("PDF startxref %d points at neither xref nor an object", off)
	}
	t, ok := v.(pdfDict)
	if !ok || t.name("Type") != "XRef" {
		return nil, corrupt("PDF object at startxref %d is not a cross-reference stream", off)
	}
	return t, nil
}

// classicSection parses an "xref" table, recording object offsets, and
// returns the dictionary after "trailer".
func (d *pdfDoc) classicSection(off int64) (pdfDict, error) {
	win := d.read(off, maxMetaRead)
	p := &pdfParser{b: win}
	p.skipSpace()
	p.pos += len("xref")
	for n := 0; n < pdfMaxElements; n++ {
		p.skipSpace()
		if bytes.HasPrefix(win[p.pos:], []byte("trailer")) {
			p.pos += len("trailer")
			v, err := p.value(0)
			if err != nil {
				return nil, err
			}
			t, ok := v.(pdfDict)
			if !ok {
				return nil, corrupt("PDF trailer is not a dictionary")
			}
			return t, nil
		}
		start, err1 := strconv.ParseInt(string(p.regular()), 10, 64)
		p.skipSpace()
		count, err2 := strconv.ParseInt(string(p.regular()), 10, 64)
		if err1 != nil || err2 != nil || start < 0 || count < 0 || count > int64(len(win)) {
			return nil, corrupt("PDF xref table at %d is malformed", off)
		}
		// Entries are "oooooooooo ggggg n" plus a two-byte end of line.
		for i := int64(0); i < count; i++ {
			p.skipSpace()
			if p.pos+18 > len(win) {
				return nil, corrupt("PDF xref table at %d is truncated", off)
			}
			e := win[p.pos : p.pos+18]
			if e[10] != ' ' || e[16] != ' ' {
				return nil, corrupt("PDF xref entry at %d is malformed", off+int64(p.pos))
			}
			if e[17] == 'n' {
				if o, err := strconv.ParseInt(string(e[:10]), 10, 64); err == nil {
					if _, have := d.offsets[start+i]; !have {
						d.offsets[start+i] = o
					}
				}
			}
			p.pos += 18
		}
	}
	return nil, corrupt("PDF xref table at %d has no trailer", off)
}

// resolveDict returns v as a dictionary, following an indirect reference.
func (d *pdfDoc) resolveDict(v any) (pdfDict, error) {
	switch x := v.(type) {
	case pdfDict:
		return x, nil
	case pdfRef:
		obj, err := d.object(x)
		if err != nil {
			return nil, err
		}
		if dict, ok := obj.(pdfDict); ok {
			return dict, nil
		}
		return nil, corrupt("PDF encryption dictionary %d %d R is not a dictionary", x.num, x.gen)
	}
	return nil, corrupt("PDF /Encrypt is neither a dictionary nor a reference")
}

// object loads an indirect object: from the xref offset when known,
// else by scanning the file for "N G obj" (the last one wins, as in an
// incremental update).
func (d *pdfDoc) object(ref pdfRef) (any, error) {
	if off, ok := d.offsets[ref.num]; ok {
		if got, v, err := parseIndirect(d.read(off, pdfObjWindow)); err == nil && got == ref {
			return v, nil
		}
	}
	re := regexp.MustCompile(fmt.Sprintf(`(?:^|[^0-9])%d\s+%d\s+obj\b`, ref.num, ref.gen))
	last := int64(-1)
	err := d.scan(func(chunk []byte, base int64) {
		for _, m := range re.FindAllIndex(chunk, -1) {
			if base+int64(m[0]) > last {
				last = base + int64(m[0])
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if last < 0 {
		return nil, corrupt("PDF object %d %d R not found", ref.num, ref.gen)
	}
	b := d.read(last, pdfObjWindow)
	if len(b) > 0 && (b[0] < '0' || b[0] > '9') {
		b = b[1:]
	}
	got, v, err := parseIndirect(b)
	if err != nil {
		return nil, err
	}
	if got != ref {
		return nil, corrupt("PDF object %d %d R not found", ref.num, ref.gen)
	}
	return v, nil
}

// scan calls fn on the file in overlapping chunks, up to maxPDFScan bytes.
func (d *pdfDoc) scan(fn func(chunk []byte, base int64)) error {
	limit := min(d.size, int64(maxPDFScan))
	for off := int64(0); off < limit; off += pdfScanChunk {
		chunk := d.read(off, pdfScanChunk+pdfScanMargin)
		fn(chunk, off)
	}
	if d.size > maxPDFScan {
		return corrupt("PDF of %d bytes is larger than the %d-byte scan limit and its xref is unusable", d.size, maxPDFScan)
	}
	return nil
}

// scanForEncrypt is the fallback when startxref is unusable: it returns
// the last "trailer" dictionary, and the value of the last /Encrypt key.
func (d *pdfDoc) scanForEncrypt() (pdfDict, any, error) {
	lastTrailer, lastEnc := int64(-1), int64(-1)
	err := d.scan(func(chunk []byte, base int64) {
		if i := bytes.LastIndex(chunk, []byte("trailer")); i >= 0 && base+int64(i) > lastTrailer {
			lastTrailer = base + int64(i)
		}
		if ms := reEncryptAt.FindAllIndex(chunk, -1); len(ms) > 0 {
			if at := base + int64(ms[len(ms)-1][0]); at > lastEnc {
				lastEnc = at
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	var trailer pdfDict
	var enc any
	if lastEnc >= 0 {
		p := &pdfParser{b: d.read(lastEnc+int64(len("/Encrypt")), pdfObjWindow)}
		if v, err := p.value(0); err == nil {
			enc = v
		}
		trailer = d.enclosingDict(lastEnc)
	}
	if trailer == nil && lastTrailer >= 0 {
		p := &pdfParser{b: d.read(lastTrailer+int64(len("trailer")), pdfObjWindow)}
		if v, err := p.value(0); err == nil {
			trailer, _ = v.(pdfDict)
		}
	}
	return trailer, enc, nil
}

// enclosingDict finds the dictionary that holds the /Encrypt key at off (a
// trailer or a cross-reference stream dictionary) by parsing from each
// "<<" before it, nearest first.
func (d *pdfDoc) enclosingDict(off int64) pdfDict {
	start := max(0, off-8192)
	win := d.read(start, off-start+pdfObjWindow)
	pos := int(off - start)
	for n := 0; n < 64; n++ {
		i := bytes.LastIndex(win[:pos], []byte("<<"))
		if i < 0 {
			return nil
		}
		p := &pdfParser{b: win[i:]}
		if v, err := p.value(0); err == nil {
			if dict, ok := v.(pdfDict); ok && dict["Encrypt"] != nil {
				return dict
			}
		}
		pos = i
	}
	return nil
}

// pdfVerdict decides from the encryption dictionary.
func pdfVerdict(enc pdfDict, id []byte) Info {
	info := Info{Type: "pdf"}
	filter := enc.name("Filter")
	if filter != "Standard" {
		info.Encrypted, info.Encryption = true, "pdf-pubsec"
		info.Detail = fmt.Sprintf("encrypted with the %q security handler (certificates or a plug-in): needs a key to open", filter)
		return info
	}
	v, rev := enc.int("V", 0), enc.int("R", 0)
	ok, err := pdfEmptyUserPassword(enc, id)
	if err != nil {
		info.Encrypted, info.Encryption = true, "pdf-user-password"
		info.Detail = fmt.Sprintf("standard security handler V%d R%d; the empty user password cannot be tested (%v): treated as needing a password", v, rev, err)
		return info
	}
	if ok {
		info.Detail = fmt.Sprintf("owner password only: opens without a password (standard security handler V%d R%d, permissions /P %d); decrypt with the empty user password and scan the text", v, rev, enc.int("P", 0))
		return info
	}
	if v >= 4 && pdfOnlyEmbeddedFiles(enc) {
		info.Partial = true
		info.Detail = fmt.Sprintf("only embedded files are encrypted (/EFF, V%d R%d): the document opens, its attachments need a password", v, rev)
		return info
	}
	info.Encrypted, info.Encryption = true, "pdf-user-password"
	info.Detail = fmt.Sprintf("needs a user password to open (standard security handler V%d R%d)", v, rev)
	return info
}

// pdfOnlyEmbeddedFiles reports the V4/V5 case where streams and strings use
// the Identity filter and only /EFF names a real crypt filter.
func pdfOnlyEmbeddedFiles(enc pdfDict) bool {
	stm, str, eff := enc.name("StmF"), enc.name("StrF"), enc.name("EFF")
	if stm == "" {
		stm = "Identity"
	}
	if str == "" {
		str = "Identity"
	}
	return stm == "Identity" && str == "Identity" && eff != "" && eff != "Identity"
}
