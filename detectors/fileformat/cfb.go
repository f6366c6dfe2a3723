package fileformat

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/richardlehane/mscfb"
)

// Constants of [MS-OFFCRYPTO], [MS-DOC], [MS-XLS] and [MS-PPT].
const (
	docWIdent          = 0xA5EC
	docFEncrypted      = 0x0100
	docFWhichTblStm    = 0x0200
	docFObfuscated     = 0x8000
	xlsBOF             = 0x0809
	xlsEOF             = 0x000A
	xlsFilePass        = 0x002F
	pptTokenEncrypted  = 0xF3D1C4DF
	pptTokenPlain      = 0xE391C05F
	cfbMaxEntries      = 1 << 16
	xlsMaxGlobalsBytes = 1 << 20
)

// identifyCFB opens an OLE compound file: an encrypted OOXML package
// (EncryptionInfo + EncryptedPackage), or Word, Excel or PowerPoint 97-2003
// with their own encryption markers.
func identifyCFB(r io.ReaderAt, size int64) (Info, error) {
	info := Info{Type: "cfb"}
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return info, corrupt("compound file (OLE) unreadable: %v", err)
	}
	top := map[string]*mscfb.File{}
	dataSpaces := false
	drm := false
	for n := 0; ; n++ {
		if n > cfbMaxEntries {
			return info, corrupt("compound file has more than %d entries", cfbMaxEntries)
		}
		f, err := doc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return info, corrupt("compound file directory unreadable: %v", err)
		}
		if len(f.Path) == 0 {
			if _, dup := top[f.Name]; !dup {
				top[f.Name] = f
			}
		}
		if f.Name == "\x06DataSpaces" || (len(f.Path) > 0 && f.Path[0] == "\x06DataSpaces") {
			dataSpaces = true
			if strings.Contains(strings.ToLower(f.Name), "drm") {
				drm = true
			}
		}
	}
	if ei, ok := top["EncryptionInfo"]; ok && top["EncryptedPackage"] != nil {
		return ooxmlEncryption(ei)
	}
	if top["EncryptedPackage"] != nil || (dataSpaces && drm) {
		return Info{Type: "ooxml-encrypted", Encrypted: true, Encryption: "ooxml-irm",
			Detail: "OOXML package protected by rights management (IRM/DRM data space)"}, nil
	}
	switch {
	case top["WordDocument"] != nil:
		return wordEncryption(top)
	case top["Workbook"] != nil:
		return excelEncryption(top["Workbook"])
	case top["Book"] != nil:
		return excelEncryption(top["Book"])
	case top["PowerPoint Document"] != nil:
		return pptEncryption(top)
	case top["__properties_version1.0"] != nil:
		info.Detail = "Outlook message (.msg)"
	}
	return info, nil
}

// readStream reads at most n bytes from the start of a stream.
func readStream(f *mscfb.File, n int64) ([]byte, error) {
	if f.Size >= 0 && f.Size < n {
		n = f.Size
	}
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return b[:k], err
	}
	return b[:k], nil
}

// ooxmlEncryption reads the EncryptionInfo version: 4.4 is agile, x.2
// standard, x.3 extensible.
func ooxmlEncryption(ei *mscfb.File) (Info, error) {
	info := Info{Type: "ooxml-encrypted", Encrypted: true}
	b, err := readStream(ei, 8)
	if err != nil || len(b) < 8 {
		info.Encryption = "ooxml-standard"
		info.Detail = "OOXML package encrypted with a password (EncryptionInfo unreadable)"
		return info, corrupt("EncryptionInfo stream unreadable")
	}
	major, minor := binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:])
	flags := binary.LittleEndian.Uint32(b[4:])
	switch {
	case major == 4 && minor == 4:
		info.Encryption = "ooxml-agile"
	case major >= 2 && major <= 4 && minor == 2:
		info.Encryption = "ooxml-standard"
	case major >= 3 && major <= 4 && minor == 3:
		info.Encryption = "ooxml-extensible"
	default:
		info.Encryption = "ooxml-standard"
		info.Detail = fmt.Sprintf("OOXML package encrypted with a password (unknown EncryptionInfo version %d.%d)", major, minor)
		return info, nil
	}
	info.Detail = fmt.Sprintf("OOXML package encrypted with a password (EncryptionInfo %d.%d, flags 0x%02x)", major, minor, flags)
	return info, nil
}

// wordEncryption reads the FIB: fEncrypted, and fObfuscated for XOR.
func wordEncryption(top map[string]*mscfb.File) (Info, error) {
	info := Info{Type: "doc"}
	b, err := readStream(top["WordDocument"], 32)
	if err != nil || len(b) < 0x0C {
		return info, corrupt("WordDocument stream too short for a FIB")
	}
	if binary.LittleEndian.Uint16(b) != docWIdent {
		return info, corrupt("WordDocument stream lacks the FIB identifier 0xA5EC")
	}
	flags := binary.LittleEndian.Uint16(b[0x0A:])
	if flags&docFEncrypted == 0 {
		return info, nil
	}
	info.Encrypted = true
	if flags&docFObfuscated != 0 {
		info.Encryption = "doc-xor"
		info.Detail = "Word 97-2003 document, XOR obfuscation with a password"
		return info, nil
	}
	info.Encryption = "doc-rc4"
	info.Detail = "Word 97-2003 document encrypted with a password (RC4)"
	table := "0Table"
	if flags&docFWhichTblStm != 0 {
		table = "1Table"
	}
	if t := top[table]; t != nil {
		if v, err := readStream(t, 4); err == nil && len(v) == 4 {
			major, minor := binary.LittleEndian.Uint16(v), binary.LittleEndian.Uint16(v[2:])
			if minor == 2 && major >= 2 && major <= 4 {
				info.Detail = fmt.Sprintf("Word 97-2003 document encrypted with a password (RC4 CryptoAPI, %d.%d)", major, minor)
			}
		}
	}
	return info, nil
}

// excelEncryption looks for a FILEPASS record in the globals substream.
func excelEncryption(wb *mscfb.File) (Info, error) {
	info := Info{Type: "xls"}
	b, err := readStream(wb, xlsMaxGlobalsBytes)
	if err != nil || len(b) < 4 {
		return info, corrupt("Excel workbook stream unreadable")
	}
	for off, n := 0, 0; off+4 <= len(b); n++ {
		typ := binary.LittleEndian.Uint16(b[off:])
		ln := int(binary.LittleEndian.Uint16(b[off+2:]))
		if n == 0 && typ != xlsBOF && typ != 0x0409 && typ != 0x0209 && typ != 0x0009 {
			return info, corrupt("Excel workbook stream does not start with a BOF record")
		}
		switch typ {
		case xlsFilePass:
			info.Encrypted, info.Encryption = true, "xls-filepass"
			info.Detail = "Excel 97-2003 workbook encrypted with a password (FILEPASS)"
			if off+4+6 <= len(b) {
				d := b[off+4:]
				switch binary.LittleEndian.Uint16(d) {
				case 0:
					info.Detail = "Excel 97-2003 workbook, XOR obfuscation with a password (FILEPASS)"
				case 1:
					if binary.LittleEndian.Uint16(d[2:]) == 1 {
						info.Detail = "Excel 97-2003 workbook encrypted with a password (FILEPASS, RC4)"
					} else {
						info.Detail = "Excel 97-2003 workbook encrypted with a password (FILEPASS, RC4 CryptoAPI)"
					}
				}
			}
			return info, nil
		case xlsEOF:
			return info, nil
		}
		off += 4 + ln
	}
	return info, nil
}

// pptEncryption reads the CurrentUserAtom headerToken.
func pptEncryption(top map[string]*mscfb.File) (Info, error) {
	info := Info{Type: "ppt"}
	cu := top["Current User"]
	if cu == nil {
		if top["EncryptedSummary"] != nil {
			info.Encrypted, info.Encryption = true, "ppt-cryptoapi"
			info.Detail = "PowerPoint 97-2003 presentation encrypted with a password (EncryptedSummary stream)"
			return info, nil
		}
		return info, corrupt("PowerPoint file without a Current User stream")
	}
	b, err := readStream(cu, 16)
	if err != nil || len(b) < 16 {
		return info, corrupt("PowerPoint Current User stream too short")
	}
	switch binary.LittleEndian.Uint32(b[12:]) {
	case pptTokenEncrypted:
		info.Encrypted, info.Encryption = true, "ppt-cryptoapi"
		info.Detail = "PowerPoint 97-2003 presentation encrypted with a password (RC4 CryptoAPI)"
	case pptTokenPlain:
		if top["EncryptedSummary"] != nil {
			info.Encrypted, info.Encryption = true, "ppt-cryptoapi"
			info.Detail = "PowerPoint 97-2003 presentation encrypted with a password (EncryptedSummary stream)"
		}
	default:
		return info, corrupt("PowerPoint CurrentUserAtom has an unknown header token")
	}
	return info, nil
}
