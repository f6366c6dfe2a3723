package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// genesisHash is the prev_hash of the first event: 32 zero bytes, in hex.
var genesisHash = hex.EncodeToString(make([]byte, sha256.Size))

// Canonical returns the canonical JSON of e, the bytes that are stored and
// hashed: encoding/json of the Event struct (fields in declaration order, no
// maps, no indentation) with Time in UTC.
func Canonical(e *Event) ([]byte, error) {
	c := *e
	c.Time = c.Time.UTC()
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("event: encode event %s: %w", e.ID, err)
	}
	return b, nil
}

// chainHash returns hex(SHA-256(prev || body)) where prev is the previous
// row's hash in hex, decoded to its 32 bytes.
func chainHash(prevHex string, body []byte) (string, error) {
	prev, err := hex.DecodeString(prevHex)
	if err != nil || len(prev) != sha256.Size {
		return "", fmt.Errorf("event: malformed prev_hash %q", prevHex)
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// row is one event ready to insert: its canonical JSON and the columns
// copied out of it for filtering.
type row struct {
	id      string
	timeNS  int64
	channel string
	verdict string
	action  string
	sender  string
	ledger  bool
	body    []byte
}

func newRow(e *Event, body []byte) row {
	return row{
		id:      e.ID,
		timeNS:  e.Time.UnixNano(),
		channel: e.Channel,
		verdict: e.Verdict,
		action:  e.Action,
		sender:  e.Sender,
		ledger:  e.Ledger,
		body:    body,
	}
}

// prepare fills in the ID and time of e when they are empty and returns its
// row.
func prepare(e *Event, now time.Time) (row, error) {
	if e == nil {
		return row{}, fmt.Errorf("event: record a nil event: this is a bug in the caller")
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC()
	if e.ID == "" {
		e.ID = NewID(e.Time)
	}
	body, err := Canonical(e)
	if err != nil {
		return row{}, err
	}
	return newRow(e, body), nil
}
