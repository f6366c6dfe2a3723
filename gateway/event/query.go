package event

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Filter selects events for Query. Zero fields select everything.
type Filter struct {
	Since   time.Time // events at or after Since
	Until   time.Time // events before Until
	Verdict string    // "allow", "block" or "monitor"
	Reason  string    // a reason code, such as "fax" or "pii-cleartext"
	Sender  string    // envelope sender, compared case-insensitively
	// Client is a client's IP address: events whose client is that
	// address, with or without what follows it ("(user …)", or the
	// original client's details "(…; via …)" behind Postfix's XFORWARD).
	Client  string
	Channel string // "smtp" or "http"
	Action  string // "forward", "bounce", "destroyed", ...
	Ledger  bool   // only ledger (管理簿) entries
	// Limit keeps the latest Limit matching events; 0 means all.
	Limit int
}

// Query returns the events that match f, oldest first (in the order they
// were recorded). With a Limit, these are the latest Limit events.
func (l *Log) Query(ctx context.Context, f Filter) ([]Event, error) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where = append(where, "time_ns >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "time_ns < ?")
		args = append(args, f.Until.UnixNano())
	}
	if f.Verdict != "" {
		where = append(where, "verdict = ?")
		args = append(args, f.Verdict)
	}
	if f.Channel != "" {
		where = append(where, "channel = ?")
		args = append(args, f.Channel)
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if f.Sender != "" {
		where = append(where, "sender = ? COLLATE NOCASE")
		args = append(args, f.Sender)
	}
	if f.Ledger {
		where = append(where, "ledger = 1")
	}
	if f.Client != "" {
		where = append(where, "(json_extract(body, '$.client') = ? OR substr(json_extract(body, '$.client'), 1, ?) = ?)")
		args = append(args, f.Client, len(f.Client)+2, f.Client+" (")
	}
	if f.Reason != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(events.body, '$.reasons') AS r WHERE json_extract(r.value, '$.code') = ?)")
		args = append(args, f.Reason)
	}
	q := "SELECT seq, body FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("event: query %s: %w", l.path, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var seq int64
		var body string
		if err := rows.Scan(&seq, &body); err != nil {
			return nil, fmt.Errorf("event: query %s: %w", l.path, err)
		}
		var e Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return nil, fmt.Errorf("event: event at seq %d in %s is not valid JSON: run sekisho events verify: %w", seq, l.path, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event: query %s: %w", l.path, err)
	}
	slices.Reverse(out)
	return out, nil
}

// Get returns the event with the given ID, or an error wrapping ErrNotFound.
func (l *Log) Get(ctx context.Context, id string) (*Event, error) {
	var body string
	err := l.db.QueryRowContext(ctx, "SELECT body FROM events WHERE id = ?", id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q in %s", ErrNotFound, id, l.path)
	}
	if err != nil {
		return nil, fmt.Errorf("event: get %s from %s: %w", id, l.path, err)
	}
	var e Event
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return nil, fmt.Errorf("event: event %s in %s is not valid JSON: run sekisho events verify: %w", id, l.path, err)
	}
	return &e, nil
}
