// Package quarantine keeps blocked messages and uploads encrypted at rest
// (AES-256-GCM) in the data dir, for the retention period, so that security
// staff can review, release or delete them; destruction is recorded (第15条).
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
