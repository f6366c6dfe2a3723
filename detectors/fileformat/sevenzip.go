package fileformat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// 7z property IDs (DOC/7zFormat.txt).
const (
	sz7End                = 0x00
	sz7Header             = 0x01
	sz7ArchiveProperties  = 0x02
	sz7AdditionalStreams  = 0x03
	sz7MainStreamsInfo    = 0x04
	sz7FilesInfo          = 0x05
	sz7PackInfo           = 0x06
	sz7UnpackInfo         = 0x07
	sz7SubStreamsInfo     = 0x08
	sz7Size               = 0x09
	sz7CRC                = 0x0A
	sz7FolderID           = 0x0B
	sz7CodersUnpackSize   = 0x0C
	sz7EncodedHeader      = 0x17
	sz7MaxRawHeader       = 16 << 20
	sz7MaxCount           = 1 << 20
	sz7MaxCodersPerFolder = 64
)

// Coder IDs (DOC/Methods.txt).
var (
	coder7zAES = []byte{0x06, 0xF1, 0x07, 0x01}
	coderLZMA  = []byte{0x03, 0x01, 0x01}
	coderLZMA2 = []byte{0x21}
	coderCopy  = []byte{0x00}
)

type sz7Coder struct {
	id         []byte
	numIn      uint64
	numOut     uint64
	properties []byte
}

type sz7Folder struct {
	coders      []sz7Coder
	unpackSizes []uint64
}

func (f *sz7Folder) encrypted() bool {
	for _, c := range f.coders {
		if bytes.Equal(c.id, coder7zAES) {
			return true
		}
	}
	return false
}

type sz7Streams struct {
	packPos   uint64
	packSizes []uint64
	folders   []sz7Folder
}

// sz7Reader walks a 7z header buffer; every read is bounds-checked.
type sz7Reader struct {
	b   []byte
	off int
}

func (r *sz7Reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, corrupt("7z header truncated at byte %d", r.off)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *sz7Reader) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.off) {
		return nil, corrupt("7z header field of %d bytes runs past the header end", n)
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

// number reads a 7z variable-length UINT64.
func (r *sz7Reader) number() (uint64, error) {
	first, err := r.byte()
	if err != nil {
		return 0, err
	}
	var v uint64
	mask := byte(0x80)
	for i := 0; i < 8; i++ {
		if first&mask == 0 {
			high := uint64(first & (mask - 1))
			return v | high<<(8*uint(i)), nil
		}
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c) << (8 * uint(i))
		mask >>= 1
	}
	return v, nil
}

// count reads a number used as an element count, bounded.
func (r *sz7Reader) count(what string) (int, error) {
	n, err := r.number()
	if err != nil {
		return 0, err
	}
	if n > sz7MaxCount || n > uint64(len(r.b)) {
		return 0, corrupt("7z %s count %d is implausible", what, n)
	}
	return int(n), nil
}

func (r *sz7Reader) expect(id byte) error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c != id {
		return corrupt("7z header: property 0x%02x where 0x%02x was expected", c, id)
	}
	return nil
}

// skipDigests skips a Digests structure for n items.
func (r *sz7Reader) skipDigests(n int) error {
	all, err := r.byte()
	if err != nil {
		return err
	}
	defined := n
	if all == 0 {
		bits, err := r.bytes(uint64((n + 7) / 8))
		if err != nil {
			return err
		}
		defined = 0
		for i := 0; i < n; i++ {
			if bits[i/8]&(0x80>>uint(i%8)) != 0 {
				defined++
			}
		}
	}
	_, err = r.bytes(uint64(defined) * 4)
	return err
}

func (r *sz7Reader) packInfo(s *sz7Streams) error {
	var err error
	if s.packPos, err = r.number(); err != nil {
		return err
	}
	n, err := r.count("pack stream")
	if err != nil {
		return err
	}
	for {
		id, err := r.byte()
		if err != nil {
			return err
		}
		switch id {
		case sz7End:
			return nil
		case sz7Size:
			s.packSizes = make([]uint64, n)
			for i := range s.packSizes {
				if s.packSizes[i], err = r.number(); err != nil {
					return err
				}
			}
		case sz7CRC:
			if err := r.skipDigests(n); err != nil {
				return err
			}
		default:
			return corrupt("7z PackInfo: unexpected property 0x%02x", id)
		}
	}
}

func (r *sz7Reader) folder() (sz7Folder, error) {
	var f sz7Folder
	nc, err := r.count("coder")
	if err != nil {
		return f, err
	}
	if nc == 0 || nc > sz7MaxCodersPerFolder {
		return f, corrupt("7z folder with %d coders", nc)
	}
	var totalIn, totalOut uint64
	for i := 0; i < nc; i++ {
		flag, err := r.byte()
		if err != nil {
			return f, err
		}
		c := sz7Coder{numIn: 1, numOut: 1}
		if c.id, err = r.bytes(uint64(flag & 0x0F)); err != nil {
			return f, err
		}
		if flag&0x10 != 0 {
			if c.numIn, err = r.number(); err != nil {
				return f, err
			}
			if c.numOut, err = r.number(); err != nil {
				return f, err
			}
			if c.numIn > 64 || c.numOut > 64 {
				return f, corrupt("7z coder with %d inputs and %d outputs", c.numIn, c.numOut)
			}
		}
		if flag&0x20 != 0 {
			n, err := r.number()
			if err != nil {
				return f, err
			}
			if c.properties, err = r.bytes(n); err != nil {
				return f, err
			}
		}
		if flag&0x80 != 0 {
			return f, corrupt("7z coder uses the reserved alternative-methods bit")
		}
		totalIn += c.numIn
		totalOut += c.numOut
		f.coders = append(f.coders, c)
	}
	if totalOut == 0 {
		return f, corrupt("7z folder without output streams")
	}
	for i := uint64(0); i < totalOut-1; i++ {
		if _, err := r.number(); err != nil {
			return f, err
		}
		if _, err := r.number(); err != nil {
			return f, err
		}
	}
	if totalIn < totalOut-1 {
		return f, corrupt("7z folder bind pairs exceed its inputs")
	}
	if packed := totalIn - (totalOut - 1); packed > 1 {
		for i := uint64(0); i < packed; i++ {
			if _, err := r.number(); err != nil {
				return f, err
			}
		}
	}
	f.unpackSizes = make([]uint64, totalOut)
	return f, nil
}

func (r *sz7Reader) unpackInfo(s *sz7Streams) error {
	if err := r.expect(sz7FolderID); err != nil {
		return err
	}
	n, err := r.count("folder")
	if err != nil {
		return err
	}
	external, err := r.byte()
	if err != nil {
		return err
	}
	if external != 0 {
		return corrupt("7z external folder data is not supported")
	}
	s.folders = make([]sz7Folder, 0, min(n, 4096))
	for i := 0; i < n; i++ {
		f, err := r.folder()
		if err != nil {
			return err
		}
		s.folders = append(s.folders, f)
	}
	if err := r.expect(sz7CodersUnpackSize); err != nil {
		return err
	}
	for i := range s.folders {
		for j := range s.folders[i].unpackSizes {
			if s.folders[i].unpackSizes[j], err = r.number(); err != nil {
				return err
			}
		}
	}
	for {
		id, err := r.byte()
		if err != nil {
			return err
		}
		switch id {
		case sz7End:
			return nil
		case sz7CRC:
			if err := r.skipDigests(len(s.folders)); err != nil {
				return err
			}
		default:
			return corrupt("7z UnpackInfo: unexpected property 0x%02x", id)
		}
	}
}

// streamsInfo reads PackInfo and UnpackInfo; it stops before
// SubStreamsInfo, which the encryption check does not need.
func (r *sz7Reader) streamsInfo() (*sz7Streams, error) {
	s := &sz7Streams{}
	for {
		id, err := r.byte()
		if err != nil {
			return s, err
		}
		switch id {
		case sz7PackInfo:
			if err := r.packInfo(s); err != nil {
				return s, err
			}
		case sz7UnpackInfo:
			if err := r.unpackInfo(s); err != nil {
				return s, err
			}
		case sz7SubStreamsInfo, sz7End:
			return s, nil
		default:
			return s, corrupt("7z StreamsInfo: unexpected property 0x%02x", id)
		}
	}
}

// identify7z reads the signature header and the (possibly encoded)
// header: AES in the encoded header's coders means the names are hidden;
// AES in a folder of the header means that folder's files are encrypted.
func identify7z(r io.ReaderAt, size int64, info Info) (Info, error) {
	info = Info{Type: "7z"}
	sig, err := readAt(r, size, 0, 32, "7z signature header")
	if err != nil {
		return info, err
	}
	nextOff := binary.LittleEndian.Uint64(sig[12:20])
	nextSize := binary.LittleEndian.Uint64(sig[20:28])
	if nextSize == 0 {
		info.Detail = "empty archive"
		return info, nil
	}
	if nextOff > uint64(size) || nextSize > uint64(size) || 32+nextOff+nextSize > uint64(size) {
		return info, corrupt("7z next header (%d bytes at %d) lies outside the %d-byte file (truncated?)", nextSize, 32+nextOff, size)
	}
	if nextSize > sz7MaxRawHeader {
		return info, corrupt("7z header of %d bytes is over the %d-byte limit", nextSize, sz7MaxRawHeader)
	}
	hdr := make([]byte, nextSize)
	if k, err := r.ReadAt(hdr, int64(32+nextOff)); k < len(hdr) {
		return info, corrupt("7z header: short read (%v)", err)
	}
	for round := 0; ; round++ {
		if len(hdr) == 0 {
			return info, corrupt("7z header is empty")
		}
		switch hdr[0] {
		case sz7Header:
			return sz7Verdict(hdr[1:], info)
		case sz7EncodedHeader:
			if round >= 4 {
				return info, corrupt("7z header encoded more than 4 times")
			}
			rd := &sz7Reader{b: hdr, off: 1}
			s, err := rd.streamsInfo()
			if err != nil {
				return info, err
			}
			for i := range s.folders {
				if s.folders[i].encrypted() {
					info.Encrypted, info.Encryption = true, "7z-aes-headers"
					info.Detail = "header encrypted with AES (7z -mhe): file names and contents are hidden"
					return info, nil
				}
			}
			if hdr, err = sz7DecodeHeader(r, size, s); err != nil {
				return info, err
			}
		default:
			return info, corrupt("7z header starts with 0x%02x, not a header", hdr[0])
		}
	}
}

// sz7Verdict walks a decoded Header (after its 0x01 byte) to the folders.
func sz7Verdict(hdr []byte, info Info) (Info, error) {
	rd := &sz7Reader{b: hdr}
	var main *sz7Streams
	for main == nil {
		id, err := rd.byte()
		if err != nil {
			return info, err
		}
		switch id {
		case sz7ArchiveProperties:
			for {
				t, err := rd.byte()
				if err != nil {
					return info, err
				}
				if t == 0 {
					break
				}
				n, err := rd.number()
				if err != nil {
					return info, err
				}
				if _, err := rd.bytes(n); err != nil {
					return info, err
				}
			}
		case sz7AdditionalStreams:
			if _, err := rd.streamsInfo(); err != nil {
				return info, err
			}
		case sz7MainStreamsInfo:
			s, err := rd.streamsInfo()
			if err != nil {
				return info, err
			}
			main = s
		case sz7FilesInfo, sz7End:
			info.Detail = "no packed streams (empty files only)"
			return info, nil
		default:
			return info, corrupt("7z Header: unexpected property 0x%02x", id)
		}
	}
	enc := 0
	for i := range main.folders {
		if main.folders[i].encrypted() {
			enc++
		}
	}
	switch {
	case len(main.folders) == 0:
		info.Detail = "no packed streams"
	case enc == len(main.folders):
		info.Encrypted, info.Encryption = true, "7z-aes"
		info.Detail = "file contents encrypted with AES; file names are visible"
	case enc > 0:
		info.Partial = true
		info.Detail = fmt.Sprintf("partially encrypted: %d of %d solid blocks use AES (7z-aes); the others are readable", enc, len(main.folders))
	}
	return info, nil
}

// sz7DecodeHeader unpacks an encoded header packed with LZMA, LZMA2 or
// Copy (the coders 7-Zip uses for headers).
func sz7DecodeHeader(r io.ReaderAt, size int64, s *sz7Streams) ([]byte, error) {
	if len(s.folders) != 1 || len(s.packSizes) < 1 {
		return nil, corrupt("7z encoded header with %d folders and %d pack streams", len(s.folders), len(s.packSizes))
	}
	f := s.folders[0]
	if len(f.coders) != 1 || len(f.unpackSizes) != 1 {
		return nil, corrupt("7z encoded header uses a chain of %d coders, not supported", len(f.coders))
	}
	packOff, packSize, unpack := 32+s.packPos, s.packSizes[0], f.unpackSizes[0]
	if s.packPos > uint64(size) || packSize > uint64(size) || packOff+packSize > uint64(size) {
		return nil, corrupt("7z packed header lies outside the file (truncated?)")
	}
	if unpack > maxDecodedHdr || packSize > maxDecodedHdr {
		return nil, corrupt("7z header unpacks to %d bytes, over the %d-byte limit", unpack, maxDecodedHdr)
	}
	packed := io.NewSectionReader(r, int64(packOff), int64(packSize))
	c := f.coders[0]
	var dec io.Reader
	switch {
	case bytes.Equal(c.id, coderCopy):
		dec = packed
	case bytes.Equal(c.id, coderLZMA):
		if len(c.properties) != 5 {
			return nil, corrupt("7z LZMA header coder has %d property bytes", len(c.properties))
		}
		dict := uint64(binary.LittleEndian.Uint32(c.properties[1:]))
		dict = min(dict, max(unpack, lzma.MinDictCap))
		var h [13]byte
		h[0] = c.properties[0]
		binary.LittleEndian.PutUint32(h[1:], uint32(dict))
		binary.LittleEndian.PutUint64(h[5:], unpack)
		lr, err := lzma.ReaderConfig{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader(io.MultiReader(bytes.NewReader(h[:]), packed))
		if err != nil {
			return nil, corrupt("7z LZMA header: %v", err)
		}
		dec = lr
	case bytes.Equal(c.id, coderLZMA2):
		cfg := lzma.Reader2Config{DictCap: int(max(unpack, lzma.MinDictCap))}
		lr, err := cfg.NewReader2(packed)
		if err != nil {
			return nil, corrupt("7z LZMA2 header: %v", err)
		}
		dec = lr
	default:
		return nil, corrupt("7z encoded header uses coder %x, not supported", c.id)
	}
	out := make([]byte, unpack)
	if _, err := io.ReadFull(dec, out); err != nil {
		return nil, corrupt("7z encoded header does not decompress (%v)", err)
	}
	return out, nil
}
