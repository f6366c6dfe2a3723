// Package quarantine keeps blocked messages and uploads encrypted at rest
// (AES-256-GCM) in the data dir, for the retention period, so that security
// staff can review, release or delete them; destruction is recorded (第15条).
//
// Layout of a quarantine directory (mode 0700, every file 0600):
//
//	<id>.bin         the body, encrypted in 64 KiB chunks (see stream.go)
//	<id>.json        the Meta, encrypted too (see meta.go): only the ID and
//	                 the expiry are in clear, so that Sweep can destroy items
//	                 on time even under a lost key
//	quarantine.key   the master key (base64 of 32 bytes), made on first
//	                 start unless the key comes from SEKISHO_QUARANTINE_KEY
//	.tmp-*           items being written; removed by Sweep after a crash
//
// The Meta holds no detected value, but envelope addresses are personal
// information too, hence it is sealed rather than kept as plain JSON. Each
// item has its own keys, derived from the master key and a random salt with
// HKDF-SHA256. Put fsyncs both files and the directory before it returns,
// so an item is on disk before the front end answers 250. Deleting an item
// unlinks its files; without the master key the ciphertext left on the
// medium is unreadable.
package quarantine

import (
	"context"
	"io"
	"time"
)

// Meta is what is stored beside a quarantined item (never a detected value).
type Meta struct {
	ID         string    `json:"id"`
	EventID    string    `json:"event_id"`
	Time       time.Time `json:"time"`
	Channel    string    `json:"channel"`
	Sender     string    `json:"sender,omitempty"`
	Recipients []string  `json:"recipients,omitempty"`
	Host       string    `json:"host,omitempty"`
	Reasons    []string  `json:"reasons,omitempty"`
	Size       int64     `json:"size"`
	Expires    time.Time `json:"expires"`
}

// Store is the quarantine seen by the front ends. Put returns once the item
// is encrypted and fsynced.
type Store interface {
	Put(ctx context.Context, m Meta, body io.Reader) (id string, err error)
}
