package fileformat

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// Zip general-purpose flag bits and methods (PKWARE APPNOTE 4.4.4).
const (
	zipFlagEncrypted = 0x0001
	zipFlagStrong    = 0x0040
	zipFlagMaskedCD  = 0x2000
	zipMethodAES     = 99
	zipExtraAES      = 0x9901
)

// zipHeaderEncryption says whether an entry with these header fields is
// encrypted, and by which scheme.
func zipHeaderEncryption(flags, method uint16, extra []byte) (bool, string) {
	aes := method == zipMethodAES || hasZipExtra(extra, zipExtraAES)
	switch {
	case flags&zipFlagStrong != 0 && flags&zipFlagEncrypted != 0:
		return true, "zip-pkware-strong"
	case aes:
		return true, "zip-aes"
	case flags&zipFlagEncrypted != 0:
		return true, "zip-zipcrypto"
	}
	return false, ""
}

// hasZipExtra reports whether the extra-field block holds a field with id.
func hasZipExtra(extra []byte, id uint16) bool {
	for len(extra) >= 4 {
		fid := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if fid == id {
			return true
		}
		if 4+n > len(extra) {
			return false
		}
		extra = extra[4+n:]
	}
	return false
}

// identifyZip reads the central directory: the archive is Encrypted when
// every file entry is, Partial when some are.
func identifyZip(r io.ReaderAt, size int64, sniffed Info) (Info, error) {
	info := Info{Type: sniffed.Type}
	if info.Type == "" {
		info.Type = "zip"
	}
	zr, err := zip.NewReader(io.NewSectionReader(r, 0, size), size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return zipFromLocalHeaders(r, size, info, err)
	}
	var files, enc int
	schemes := map[string]int{}
	var ctFile, mimeFile, manifestFile *zip.File
	var partNames []string
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml":
			ctFile = f
		case "mimetype":
			mimeFile = f
		case "META-INF/manifest.xml":
			manifestFile = f
		}
		if len(partNames) < 4096 {
			partNames = append(partNames, f.Name)
		}
		if strings.HasSuffix(f.Name, "/") && f.UncompressedSize64 == 0 {
			continue // a directory
		}
		files++
		if ok, scheme := ZipEntryEncrypted(f); ok {
			enc++
			schemes[scheme]++
		}
	}
	info.Type = zipPackageType(ctFile, mimeFile, partNames)
	if info.Type == "odt" || info.Type == "ods" || info.Type == "odp" {
		if odfEncrypted(manifestFile) {
			info.Encrypted, info.Encryption = true, "odf"
			info.Detail = "ODF package encrypted with a password (META-INF/manifest.xml encryption-data)"
			return info, nil
		}
	}
	switch {
	case files == 0:
		info.Detail = joinDetail(info.Detail, "no file entries")
	case enc == files:
		info.Encrypted = true
		info.Encryption = mainScheme(schemes)
		info.Detail = fmt.Sprintf("all %d entries encrypted (%s)", files, schemeList(schemes))
	case enc > 0:
		info.Partial = true
		info.Detail = fmt.Sprintf("partially encrypted: %d of %d entries encrypted (%s); the other entries are readable", enc, files, schemeList(schemes))
	}
	return info, nil
}

// zipFromLocalHeaders is the fallback when the central directory cannot
// be read: an archive whose local headers carry the "central directory
// encrypted" bit or whose first entry is encrypted is recognised from
// them; anything else is corrupt.
func zipFromLocalHeaders(r io.ReaderAt, size int64, info Info, cdErr error) (Info, error) {
	// Not a local header at offset 0 (an opaque file tried as a prefixed
	// zip): the walk below would stop at once, so skip reading up to
	// maxMetaRead bytes for it.
	var head [4]byte
	if k, _ := r.ReadAt(head[:], 0); k == len(head) && !bytes.Equal(head[:], magicZip) {
		info.Type = "zip"
		return info, corrupt("zip central directory unreadable (%v)", cdErr)
	}
	n := min(size, int64(maxMetaRead))
	buf, err := readAt(r, size, 0, n, "zip local headers")
	if err != nil {
		return info, corrupt("zip central directory unreadable (%v)", cdErr)
	}
	var entries, enc int
	masked := false
	schemes := map[string]int{}
	for off := 0; off+30 <= len(buf) && entries < 100000; {
		if !bytes.Equal(buf[off:off+4], magicZip) {
			break
		}
		flags := binary.LittleEndian.Uint16(buf[off+6:])
		method := binary.LittleEndian.Uint16(buf[off+8:])
		csize := int64(binary.LittleEndian.Uint32(buf[off+18:]))
		nameLen := int(binary.LittleEndian.Uint16(buf[off+26:]))
		extraLen := int(binary.LittleEndian.Uint16(buf[off+28:]))
		end := off + 30 + nameLen + extraLen
		if end > len(buf) {
			break
		}
		entries++
		if flags&zipFlagMaskedCD != 0 {
			masked = true
		}
		if ok, scheme := zipHeaderEncryption(flags, method, buf[off+30+nameLen:end]); ok {
			enc++
			schemes[scheme]++
		}
		if flags&0x08 != 0 && csize == 0 {
			break // size in a data descriptor: cannot walk further without the directory
		}
		next := int64(end) + csize
		if next > int64(len(buf)) {
			break
		}
		off = int(next)
	}
	info.Type = "zip"
	if masked && enc > 0 {
		info.Encrypted = true
		info.Encryption = mainScheme(schemes)
		info.Detail = "central directory encrypted (flag bit 13): entry names and sizes are hidden"
		return info, nil
	}
	if entries > 0 && enc == entries {
		info.Encrypted = true
		info.Encryption = mainScheme(schemes)
		info.Detail = fmt.Sprintf("central directory unreadable; the %d local headers read are all encrypted", entries)
		return info, corrupt("zip central directory unreadable (%v)", cdErr)
	}
	return info, corrupt("zip central directory unreadable (%v)", cdErr)
}

// mainScheme picks the scheme named in Encryption when entries use
// several: the most frequent, ties broken by name.
func mainScheme(schemes map[string]int) string {
	best, bestN := "", -1
	for s, n := range schemes {
		if n > bestN || (n == bestN && s < best) {
			best, bestN = s, n
		}
	}
	return best
}

func schemeList(schemes map[string]int) string {
	names := make([]string, 0, len(schemes))
	for s := range schemes {
		names = append(names, s)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

var reContentType = regexp.MustCompile(`ContentType="([^"]{1,200})"`)

// zipPackageType tells OOXML and ODF packages from a plain zip.
func zipPackageType(ct, mimetype *zip.File, names []string) string {
	if mimetype != nil {
		if b, err := readZipEntry(mimetype, 256); err == nil {
			if t := odfType(bytes.TrimSpace(b)); t != "" {
				return t
			}
		}
	}
	if ct == nil {
		return "zip"
	}
	if b, err := readZipEntry(ct, maxContentTypes); err == nil {
		for _, m := range reContentType.FindAllSubmatch(b, 4096) {
			if t := ooxmlMainType(strings.ToLower(string(m[1]))); t != "" {
				return t
			}
		}
	}
	// No main-part content type: fall back on the main part names.
	for _, n := range names {
		switch n {
		case "word/document.xml":
			return "docx"
		case "xl/workbook.xml":
			return "xlsx"
		case "xl/workbook.bin":
			return "xlsb"
		case "ppt/presentation.xml":
			return "pptx"
		}
	}
	return "zip"
}

// ooxmlMainType maps the content type of an OOXML main part to a type.
func ooxmlMainType(ct string) string {
	if !strings.Contains(ct, ".main") {
		return ""
	}
	switch {
	case strings.Contains(ct, "wordprocessingml.document"), strings.Contains(ct, "wordprocessingml.template"),
		strings.Contains(ct, "ms-word.document"), strings.Contains(ct, "ms-word.template"):
		return "docx"
	case strings.Contains(ct, "ms-excel.sheet.binary"):
		return "xlsb"
	case strings.Contains(ct, "spreadsheetml.sheet"), strings.Contains(ct, "spreadsheetml.template"),
		strings.Contains(ct, "ms-excel.sheet"), strings.Contains(ct, "ms-excel.template"), strings.Contains(ct, "ms-excel.addin"):
		return "xlsx"
	case strings.Contains(ct, "presentationml.presentation"), strings.Contains(ct, "presentationml.slideshow"),
		strings.Contains(ct, "presentationml.template"), strings.Contains(ct, "ms-powerpoint."):
		return "pptx"
	}
	return ""
}

// odfEncrypted reports whether an ODF manifest declares encrypted parts.
func odfEncrypted(manifest *zip.File) bool {
	if manifest == nil {
		return false
	}
	b, err := readZipEntry(manifest, maxContentTypes)
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte(":encryption-data")) || bytes.Contains(b, []byte("<encryption-data"))
}

// readZipEntry reads at most limit bytes of an unencrypted entry.
func readZipEntry(f *zip.File, limit int64) ([]byte, error) {
	if ok, _ := ZipEntryEncrypted(f); ok {
		return nil, errors.New("fileformat: zip entry is encrypted")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}
