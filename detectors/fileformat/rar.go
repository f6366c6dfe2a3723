package fileformat

import (
	"encoding/binary"
	"fmt"
	"io"
)

// RAR 4.x block types and flags (libarchive archive_read_support_format_rar.c).
const (
	rar4MainHead       = 0x73
	rar4FileHead       = 0x74
	rar4NewSub         = 0x7A
	rar4EndArc         = 0x7B
	rar4MainPassword   = 0x0080 // block headers encrypted (rar -hp)
	rar4FilePassword   = 0x0004
	rar4FileLarge      = 0x0100
	rar4FileDirMask    = 0x00E0
	rar4LongBlock      = 0x8000
	rarMaxBlocks       = 1 << 16
	rar5TypeFile       = 2
	rar5TypeCrypt      = 4
	rar5TypeEnd        = 5
	rar5ExtraCrypt     = 0x01
	rar5FileIsDir      = 0x0001
	rar5HdrHasExtra    = 0x0001
	rar5HdrHasData     = 0x0002
	rar5MaxHeaderBytes = 2 << 20
)

// sniffRAR4 recognises header encryption from the main header in head.
func sniffRAR4(head []byte) Info {
	info := Info{Type: "rar"}
	if len(head) >= 7+7 && head[7+2] == rar4MainHead && binary.LittleEndian.Uint16(head[7+3:])&rar4MainPassword != 0 {
		info.Encrypted, info.Encryption = true, "rar4-headers"
		info.Detail = "RAR 4 block headers encrypted (rar -hp): file names and contents are hidden"
	}
	return info
}

// sniffRAR5 recognises an archive encryption header right after the
// signature.
func sniffRAR5(head []byte) Info {
	info := Info{Type: "rar"}
	b := head[min(len(head), 8):]
	if len(b) < 4 {
		return info
	}
	b = b[4:] // CRC32
	_, n := rar5Vint(b)
	if n <= 0 {
		return info
	}
	typ, m := rar5Vint(b[n:])
	if m > 0 && typ == rar5TypeCrypt {
		info.Encrypted, info.Encryption = true, "rar5-headers"
		info.Detail = "RAR 5 headers encrypted (rar -hp): file names and contents are hidden"
	}
	return info
}

// rar5Vint decodes a RAR 5 variable-length integer; n <= 0 on error.
func rar5Vint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7F) << (7 * uint(i))
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, -1
}

// identifyRAR walks the block headers of a RAR 4 or RAR 5 archive.
func identifyRAR(r io.ReaderAt, size int64, info Info) (Info, error) {
	if info.Encrypted {
		return info, nil
	}
	head, err := readAt(r, size, 0, min(size, 8), "RAR signature")
	if err != nil {
		return Info{Type: "rar"}, err
	}
	if len(head) == 8 && head[6] == 0x01 && head[7] == 0x00 {
		return identifyRAR5(r, size)
	}
	return identifyRAR4(r, size)
}

func rarVerdict(info Info, files, enc int, scheme string) Info {
	switch {
	case files == 0:
		info.Detail = "no file entries"
	case enc == files:
		info.Encrypted, info.Encryption = true, scheme
		info.Detail = fmt.Sprintf("all %d files encrypted; file names are visible", files)
	case enc > 0:
		info.Partial = true
		info.Detail = fmt.Sprintf("partially encrypted: %d of %d files encrypted (%s); the others are readable", enc, files, scheme)
	}
	return info
}

func identifyRAR4(r io.ReaderAt, size int64) (Info, error) {
	info := Info{Type: "rar"}
	off := int64(7)
	files, enc := 0, 0
	for blocks := 0; off < size; blocks++ {
		if blocks > rarMaxBlocks {
			return rarVerdict(info, files, enc, "rar4"), corrupt("RAR 4 archive has more than %d blocks", rarMaxBlocks)
		}
		if size-off < 7 {
			break // trailing bytes after the last block
		}
		h, err := readAt(r, size, off, 7, "RAR 4 block header")
		if err != nil {
			return rarVerdict(info, files, enc, "rar4"), err
		}
		typ := h[2]
		flags := binary.LittleEndian.Uint16(h[3:])
		hsize := int64(binary.LittleEndian.Uint16(h[5:]))
		if hsize < 7 {
			return rarVerdict(info, files, enc, "rar4"), corrupt("RAR 4 block at %d has header size %d", off, hsize)
		}
		var data int64
		switch typ {
		case rar4MainHead:
			if flags&rar4MainPassword != 0 {
				info.Encrypted, info.Encryption = true, "rar4-headers"
				info.Detail = "RAR 4 block headers encrypted (rar -hp): file names and contents are hidden"
				return info, nil
			}
		case rar4FileHead, rar4NewSub:
			fh, err := readAt(r, size, off, min(hsize, 40), "RAR 4 file header")
			if err != nil {
				return rarVerdict(info, files, enc, "rar4"), err
			}
			if len(fh) < 11 {
				return rarVerdict(info, files, enc, "rar4"), corrupt("RAR 4 file header at %d is %d bytes", off, len(fh))
			}
			data = int64(binary.LittleEndian.Uint32(fh[7:]))
			if flags&rar4FileLarge != 0 && len(fh) >= 36 {
				data += int64(binary.LittleEndian.Uint32(fh[32:])) << 32
			}
			if typ == rar4FileHead && flags&rar4FileDirMask != rar4FileDirMask {
				files++
				if flags&rar4FilePassword != 0 {
					enc++
				}
			}
		case rar4EndArc:
			return rarVerdict(info, files, enc, "rar4"), nil
		default:
			if flags&rar4LongBlock != 0 {
				b, err := readAt(r, size, off+7, 4, "RAR 4 block data size")
				if err != nil {
					return rarVerdict(info, files, enc, "rar4"), err
				}
				data = int64(binary.LittleEndian.Uint32(b))
			}
		}
		if data < 0 || off+hsize+data > size {
			return rarVerdict(info, files, enc, "rar4"), corrupt("RAR 4 block at %d runs past the end of the file (truncated?)", off)
		}
		off += hsize + data
	}
	return rarVerdict(info, files, enc, "rar4"), corrupt("RAR 4 archive has no end-of-archive block (truncated?)")
}

func identifyRAR5(r io.ReaderAt, size int64) (Info, error) {
	info := Info{Type: "rar"}
	off := int64(8)
	files, enc := 0, 0
	for blocks := 0; off < size; blocks++ {
		if blocks > rarMaxBlocks {
			return rarVerdict(info, files, enc, "rar5"), corrupt("RAR 5 archive has more than %d headers", rarMaxBlocks)
		}
		pre, err := readAt(r, size, off, min(size-off, 4+3), "RAR 5 header size")
		if err != nil {
			return rarVerdict(info, files, enc, "rar5"), err
		}
		if len(pre) < 5 {
			return rarVerdict(info, files, enc, "rar5"), corrupt("RAR 5 header at %d is truncated", off)
		}
		hsize, n := rar5Vint(pre[4:])
		if n <= 0 || hsize == 0 || hsize > rar5MaxHeaderBytes {
			return rarVerdict(info, files, enc, "rar5"), corrupt("RAR 5 header at %d has a bad size", off)
		}
		start := off + 4 + int64(n)
		h, err := readAt(r, size, start, int64(hsize), "RAR 5 header")
		if err != nil {
			return rarVerdict(info, files, enc, "rar5"), err
		}
		p := 0
		field := func() (uint64, bool) {
			v, k := rar5Vint(h[p:])
			if k <= 0 {
				return 0, false
			}
			p += k
			return v, true
		}
		typ, ok1 := field()
		flags, ok2 := field()
		var extraSize, dataSize uint64
		ok3, ok4 := true, true
		if flags&rar5HdrHasExtra != 0 {
			extraSize, ok3 = field()
		}
		if flags&rar5HdrHasData != 0 {
			dataSize, ok4 = field()
		}
		if !ok1 || !ok2 || !ok3 || !ok4 || extraSize > hsize {
			return rarVerdict(info, files, enc, "rar5"), corrupt("RAR 5 header at %d is malformed", off)
		}
		switch typ {
		case rar5TypeCrypt:
			info.Encrypted, info.Encryption = true, "rar5-headers"
			info.Detail = "RAR 5 headers encrypted (rar -hp): file names and contents are hidden"
			return info, nil
		case rar5TypeFile:
			fileFlags, ok := field()
			if !ok {
				return rarVerdict(info, files, enc, "rar5"), corrupt("RAR 5 file header at %d is malformed", off)
			}
			if fileFlags&rar5FileIsDir == 0 {
				files++
				if rar5HasCryptRecord(h[len(h)-int(extraSize):]) {
					enc++
				}
			}
		case rar5TypeEnd:
			return rarVerdict(info, files, enc, "rar5"), nil
		}
		next := start + int64(hsize) + int64(dataSize)
		if dataSize > uint64(size) || next > size || next <= off {
			return rarVerdict(info, files, enc, "rar5"), corrupt("RAR 5 header at %d runs past the end of the file (truncated?)", off)
		}
		off = next
	}
	return rarVerdict(info, files, enc, "rar5"), corrupt("RAR 5 archive has no end-of-archive header (truncated?)")
}

// rar5HasCryptRecord reports whether a file header's extra area holds a
// file encryption record.
func rar5HasCryptRecord(extra []byte) bool {
	for len(extra) > 0 {
		sz, n := rar5Vint(extra)
		if n <= 0 || sz == 0 || sz > uint64(len(extra)-n) {
			return false
		}
		rec := extra[n : n+int(sz)]
		if typ, k := rar5Vint(rec); k > 0 && typ == rar5ExtraCrypt {
			return true
		}
		extra = extra[n+int(sz):]
	}
	return false
}
