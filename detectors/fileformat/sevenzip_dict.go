package fileformat

import (
	"bytes"
	"encoding/binary"
	"io"
)

// coderPPMd is the 7z PPMd coder ID; its properties hold the model size.
var coderPPMd = []byte{0x03, 0x04, 0x01}

// SevenZipMaxDict returns the largest amount of memory, in bytes, that a
// decoder of one of the 7z archive's coders would allocate up front, read
// from the coder properties of the header (the encoded header's folder and
// every folder of the archive): an LZMA dictionary (capped at the unpacked
// size of its stream, as the LZMA reader caps it), an LZMA2 dictionary
// (allocated in full) or a PPMd model. Call it before opening members with
// a decoder library that cannot be told a memory limit: a hostile archive
// can ask for a 4 GiB dictionary in a few bytes. Coders without such an
// allocation count as 0. The error wraps ErrCorrupt when the header cannot
// be read (an encrypted header is reported as an error too: its coders are
// not visible).
func SevenZipMaxDict(r io.ReaderAt, size int64) (uint64, error) {
	if r == nil || size < 32 {
		return 0, corrupt("7z archive of %d bytes is shorter than its signature header", size)
	}
	sig, err := readAt(r, size, 0, 32, "7z signature header")
	if err != nil {
		return 0, err
	}
	if !bytes.HasPrefix(sig, []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}) {
		return 0, corrupt("not a 7z archive")
	}
	nextOff := binary.LittleEndian.Uint64(sig[12:20])
	nextSize := binary.LittleEndian.Uint64(sig[20:28])
	if nextSize == 0 {
		return 0, nil
	}
	if nextOff > uint64(size) || nextSize > uint64(size) || 32+nextOff+nextSize > uint64(size) {
		return 0, corrupt("7z next header (%d bytes at %d) lies outside the %d-byte file (truncated?)", nextSize, 32+nextOff, size)
	}
	if nextSize > sz7MaxRawHeader {
		return 0, corrupt("7z header of %d bytes is over the %d-byte limit", nextSize, sz7MaxRawHeader)
	}
	hdr, err := readAt(r, size, int64(32+nextOff), int64(nextSize), "7z header")
	if err != nil {
		return 0, err
	}
	var most uint64
	for round := 0; ; round++ {
		if len(hdr) == 0 {
			return most, corrupt("7z header is empty")
		}
		switch hdr[0] {
		case sz7Header:
			folders, err := sz7HeaderFolders(hdr[1:])
			if err != nil {
				return most, err
			}
			for i := range folders {
				most = max(most, folders[i].maxDict())
			}
			return most, nil
		case sz7EncodedHeader:
			if round >= 4 {
				return most, corrupt("7z header encoded more than 4 times")
			}
			rd := &sz7Reader{b: hdr, off: 1}
			s, err := rd.streamsInfo()
			if err != nil {
				return most, err
			}
			for i := range s.folders {
				if s.folders[i].encrypted() {
					return most, corrupt("7z header is encrypted: its coders cannot be checked")
				}
				most = max(most, s.folders[i].maxDict())
			}
			if hdr, err = sz7DecodeHeader(r, size, s); err != nil {
				return most, err
			}
		default:
			return most, corrupt("7z header starts with 0x%02x, not a header", hdr[0])
		}
	}
}

// sz7HeaderFolders walks a decoded Header (after its 0x01 byte) and
// returns the folders of its additional and main streams.
func sz7HeaderFolders(hdr []byte) ([]sz7Folder, error) {
	rd := &sz7Reader{b: hdr}
	var folders []sz7Folder
	for {
		id, err := rd.byte()
		if err != nil {
			return folders, err
		}
		switch id {
		case sz7ArchiveProperties:
			for {
				t, err := rd.byte()
				if err != nil {
					return folders, err
				}
				if t == 0 {
					break
				}
				n, err := rd.number()
				if err != nil {
					return folders, err
				}
				if _, err := rd.bytes(n); err != nil {
					return folders, err
				}
			}
		case sz7AdditionalStreams:
			s, err := rd.streamsInfo()
			if err != nil {
				return folders, err
			}
			folders = append(folders, s.folders...)
		case sz7MainStreamsInfo:
			s, err := rd.streamsInfo()
			if err != nil {
				return folders, err
			}
			return append(folders, s.folders...), nil
		case sz7FilesInfo, sz7End:
			return folders, nil
		default:
			return folders, corrupt("7z Header: unexpected property 0x%02x", id)
		}
	}
}

// maxDict is the largest up-front allocation of the folder's coders.
// Coder i's outputs start at the sum of the outputs of the coders before
// it; an LZMA coder's dictionary is capped by its output's unpacked size.
func (f *sz7Folder) maxDict() uint64 {
	var most, out uint64
	for _, c := range f.coders {
		var need uint64
		switch {
		case bytes.Equal(c.id, coderLZMA) && len(c.properties) >= 5:
			need = uint64(binary.LittleEndian.Uint32(c.properties[1:5]))
			if out < uint64(len(f.unpackSizes)) {
				need = min(need, max(f.unpackSizes[out], 4096))
			}
		case bytes.Equal(c.id, coderLZMA2) && len(c.properties) >= 1:
			need = lzma2Dict(c.properties[0])
		case bytes.Equal(c.id, coderPPMd) && len(c.properties) >= 5:
			need = uint64(binary.LittleEndian.Uint32(c.properties[1:5]))
		}
		most = max(most, need)
		out += c.numOut
	}
	return most
}

// lzma2Dict decodes the LZMA2 dictionary-size byte (Lzma2Dec.c); values
// over 40 are invalid and count as the largest size.
func lzma2Dict(p byte) uint64 {
	if p >= 40 {
		return 0xFFFFFFFF
	}
	return uint64(2|p&1) << (p/2 + 11)
}
