package event

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// idTimeLayout is the time part of an event ID: UTC, millisecond precision,
// fixed width, so that IDs sort in time order as plain strings.
const idTimeLayout = "20060102T150405.000Z"

// NewID returns a new event ID for an event at time t, such as
// "20261125T224010.123Z-3f9a1c2b7d10": the UTC time to the millisecond, then
// 48 random bits. IDs sort by time as strings, and two IDs made in the same
// millisecond collide with probability 2^-48. The ID is safe to show in SMTP
// replies, block pages and file names.
func NewID(t time.Time) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go ≥ 1.24 it
		// crashes the program instead); keep the ID well-formed anyway.
		t2 := time.Now().UnixNano()
		for i := range b {
			b[i] = byte(t2 >> (8 * i))
		}
	}
	return t.UTC().Format(idTimeLayout) + "-" + hex.EncodeToString(b[:])
}
