// Package event is sekisho's event log: every decision of the gateway, kept
// append-only and hash-chained in an embedded SQLite store in the data dir,
// for security staff, the 管理簿 (ledger) and reports.
package event

import (
	"context"
	"time"
)

// Event is one decision and its outcome. It never holds a detected value in
// clear: only counts and masked samples.
type Event struct {
	ID         string    `json:"id"`      // NewID, e.g. "20261125T224010.123Z-3f9a1c2b7d10"; shown in bounces and block pages
	Time       time.Time `json:"time"`    // when the decision was made (UTC)
	Channel    string    `json:"channel"` // "smtp" or "http"
	Client     string    `json:"client"`  // client IP (and user, when authenticated)
	Sender     string    `json:"sender,omitempty"`
	Recipients []string  `json:"recipients,omitempty"`
	Host       string    `json:"host,omitempty"` // HTTP destination
	URL        string    `json:"url,omitempty"`  // HTTP method and URL without query
	MessageID  string    `json:"message_id,omitempty"`
	Subject    string    `json:"subject,omitempty"` // only when it holds no finding; else "(masked)"
	Size       int64     `json:"size"`
	// Verdict is "allow", "block" or "monitor" (would have blocked, passed).
	Verdict string `json:"verdict"`
	// Action is what was done: "forward", "reject", "bounce", "quarantine",
	// "tempfail", "forward-failed", ...
	Action  string   `json:"action"`
	Reasons []Reason `json:"reasons,omitempty"`
	// Detectors holds distinct-value counts and masked samples per detector.
	Detectors   []DetectorCount `json:"detectors,omitempty"`
	Attachments []Attachment    `json:"attachments,omitempty"`
	// Ledger is true for an item that carried information out in the
	// permitted way (an encrypted attachment, an allowlisted destination):
	// an entry of the 管理簿 (第11条(2)(4)).
	Ledger       bool   `json:"ledger,omitempty"`
	QuarantineID string `json:"quarantine_id,omitempty"`
	// Ref is the ID of an earlier event this one follows up, such as the
	// decision that quarantined an item now released or destroyed.
	Ref        string `json:"ref,omitempty"`
	Error      string `json:"error,omitempty"` // inspection or delivery failure, no values
	DurationMS int64  `json:"duration_ms"`
}

// Reason is a reason to block, with its article.
type Reason struct {
	Code    string `json:"code"`
	Article string `json:"article"`
	Place   string `json:"place,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// DetectorCount is the number of distinct values of one detector and a few masked samples.
type DetectorCount struct {
	Detector string   `json:"detector"`
	Count    int      `json:"count"`
	Masked   []string `json:"masked,omitempty"`
}

// Attachment describes one attachment (or uploaded file).
type Attachment struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Size          int64  `json:"size"`
	Encrypted     bool   `json:"encrypted"`
	Encryption    string `json:"encryption,omitempty"`
	Uninspectable string `json:"uninspectable,omitempty"`
}

// Recorder records events. Record returns once the event is durable or
// queued for a group commit; Sync waits until everything recorded so far is
// on disk.
type Recorder interface {
	Record(ctx context.Context, e *Event) error
	Sync(ctx context.Context) error
}
