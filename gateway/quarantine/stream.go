package quarantine

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The body of an item (<id>.bin) is a header followed by chunks:
//
//	header: "SKQ1" | chunk size (uint32 BE) | key id (8) | salt (32) | nonce prefix (7)
//	chunk:  AES-256-GCM(plaintext of chunk size bytes, or fewer for the last)
//
// Each chunk is sealed with the item key HKDF-SHA256(master key, salt,
// "sekisho quarantine body v1"), the nonce
//
//	nonce prefix (7) | chunk counter (uint32 BE) | last-chunk flag (1 byte, 0 or 1)
//
// and as additional data the header and the item ID. So a chunk that is
// changed, moved, dropped, or a body cut at a chunk boundary, or a body
// renamed to another ID, fails authentication. There is always at least one
// chunk (an empty body is one empty last chunk). This is the STREAM
// construction of Hoang, Reyhanitabar, Rogaway and Vizár (2015).
const (
	bodyMagic      = "SKQ1"
	keyIDLen       = 8
	saltLen        = 32
	noncePrefixLen = 7
	headerLen      = len(bodyMagic) + 4 + keyIDLen + saltLen + noncePrefixLen
	tagLen         = 16
	// ChunkSize is the plaintext size of every chunk but the last.
	ChunkSize = 64 << 10
	// maxChunkSize bounds what a reader accepts from a header.
	maxChunkSize = 1 << 24
)

// ErrTampered means that an item failed authentication: it was changed,
// cut, or damaged on disk.
var ErrTampered = errors.New("quarantine: item is damaged or was tampered with")

// ErrWrongKey means that an item was sealed with another key.
var ErrWrongKey = errors.New("quarantine: item was sealed with another key")

type bodyHeader struct {
	chunkSize   uint32
	keyID       [keyIDLen]byte
	salt        [saltLen]byte
	noncePrefix [noncePrefixLen]byte
}

func (h *bodyHeader) marshal() []byte {
	b := make([]byte, 0, headerLen)
	b = append(b, bodyMagic...)
	b = binary.BigEndian.AppendUint32(b, h.chunkSize)
	b = append(b, h.keyID[:]...)
	b = append(b, h.salt[:]...)
	b = append(b, h.noncePrefix[:]...)
	return b
}

func parseBodyHeader(b []byte) (bodyHeader, error) {
	var h bodyHeader
	if len(b) != headerLen || string(b[:4]) != bodyMagic {
		return h, fmt.Errorf("%w: not a sekisho quarantine body (bad header)", ErrTampered)
	}
	h.chunkSize = binary.BigEndian.Uint32(b[4:8])
	if h.chunkSize == 0 || h.chunkSize > maxChunkSize {
		return h, fmt.Errorf("%w: bad chunk size %d", ErrTampered, h.chunkSize)
	}
	copy(h.keyID[:], b[8:16])
	copy(h.salt[:], b[16:48])
	copy(h.noncePrefix[:], b[48:55])
	return h, nil
}

func chunkNonce(prefix [noncePrefixLen]byte, counter uint32, last bool) []byte {
	n := make([]byte, 0, 12)
	n = append(n, prefix[:]...)
	n = binary.BigEndian.AppendUint32(n, counter)
	if last {
		return append(n, 1)
	}
	return append(n, 0)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealStream encrypts r into w chunk by chunk, holding one chunk in memory.
// It returns the number of plaintext bytes read. ctx is checked between
// chunks.
func sealStream(ctx context.Context, w io.Writer, r io.Reader, aead cipher.AEAD, h *bodyHeader, aad []byte) (int64, error) {
	br := bufio.NewReaderSize(r, int(h.chunkSize))
	plain := make([]byte, h.chunkSize)
	sealed := make([]byte, 0, int(h.chunkSize)+tagLen)
	var total int64
	for counter := uint32(0); ; counter++ {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("quarantine: store interrupted: %w", err)
		}
		n, err := io.ReadFull(br, plain)
		total += int64(n)
		last := false
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		case err != nil:
			return total, fmt.Errorf("quarantine: read the item to store: %w", err)
		default:
			if _, perr := br.Peek(1); errors.Is(perr, io.EOF) {
				last = true
			} else if perr != nil {
				return total, fmt.Errorf("quarantine: read the item to store: %w", perr)
			}
		}
		if counter == math.MaxUint32 && !last {
			return total, errors.New("quarantine: item too large to store")
		}
		sealed = aead.Seal(sealed[:0], chunkNonce(h.noncePrefix, counter, last), plain[:n], aad)
		if _, err := w.Write(sealed); err != nil {
			return total, fmt.Errorf("quarantine: write the encrypted item: %w", err)
		}
		if last {
			return total, nil
		}
	}
}

// openReader decrypts a body chunk by chunk. A failed chunk gives an error
// wrapping ErrTampered; the bytes of earlier chunks have been returned by
// then, so callers that must not act on a partial item read it to the end
// first (see Dir.Verify).
type openReader struct {
	id      string
	src     *bufio.Reader
	closer  io.Closer
	aead    cipher.AEAD
	h       bodyHeader
	aad     []byte
	counter uint32
	buf     []byte // ciphertext buffer
	plain   []byte // decrypted, not yet returned
	done    bool
	err     error
}

func newOpenReader(id string, src io.Reader, closer io.Closer, aead cipher.AEAD, h bodyHeader, aad []byte) *openReader {
	return &openReader{
		id:     id,
		src:    bufio.NewReaderSize(src, int(h.chunkSize)+tagLen+1),
		closer: closer,
		aead:   aead,
		h:      h,
		aad:    aad,
		buf:    make([]byte, int(h.chunkSize)+tagLen),
	}
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		if o.err != nil {
			return 0, o.err
		}
		if o.done {
			return 0, io.EOF
		}
		o.err = o.next()
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

func (o *openReader) next() error {
	n, err := io.ReadFull(o.src, o.buf)
	last := false
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %s is cut short before chunk %d", ErrTampered, o.id, o.counter)
	case errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	case err != nil:
		return fmt.Errorf("quarantine: read %s: %w", o.id, err)
	default:
		if _, perr := o.src.Peek(1); errors.Is(perr, io.EOF) {
			last = true
		} else if perr != nil {
			return fmt.Errorf("quarantine: read %s: %w", o.id, perr)
		}
	}
	if n < tagLen {
		return fmt.Errorf("%w: %s is cut short in chunk %d", ErrTampered, o.id, o.counter)
	}
	plain, err := o.aead.Open(o.buf[:0], chunkNonce(o.h.noncePrefix, o.counter, last), o.buf[:n], o.aad)
	if err != nil {
		return fmt.Errorf("%w: %s: chunk %d failed authentication", ErrTampered, o.id, o.counter)
	}
	if o.counter == math.MaxUint32 && !last {
		return fmt.Errorf("%w: %s has too many chunks", ErrTampered, o.id)
	}
	o.counter++
	o.plain = plain
	o.done = last
	return nil
}

func (o *openReader) Close() error {
	if o.closer == nil {
		return nil
	}
	return o.closer.Close()
}
