package event

import (
	"context"
	"encoding/json"
	"fmt"
)

// TamperError reports the first place where the chain is broken.
type TamperError struct {
	Seq    int64  // the first seq that fails
	Reason string // what is wrong with it
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("event: chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Verify walks the whole chain in seq order and checks that seqs run from 1
// without gaps, that each row's prev_hash is the previous row's hash, that
// each hash is SHA-256(prev_hash || body), and that the filter columns match
// the body. It returns the number of intact events before the first broken
// one, and a *TamperError naming that seq, or another error if the log
// cannot be read.
//
// The chain proves that no event was changed, removed or inserted in the
// middle. It cannot show that the newest events were cut off, or that the
// whole chain was recomputed by someone with write access: compare Head with
// a value kept elsewhere for that.
func (l *Log) Verify(ctx context.Context) (n int, err error) {
	rows, err := l.db.QueryContext(ctx, `SELECT seq, id, time_ns, channel, verdict, action, sender, ledger,
		body, prev_hash, hash FROM events ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("event: verify %s: %w", l.path, err)
	}
	defer rows.Close()
	want := int64(1)
	prev := genesisHash
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var r row
		var seq int64
		var body, prevHash, hash string
		if err := rows.Scan(&seq, &r.id, &r.timeNS, &r.channel, &r.verdict, &r.action, &r.sender, &r.ledger,
			&body, &prevHash, &hash); err != nil {
			return n, &TamperError{Seq: want, Reason: fmt.Sprintf("row cannot be read: %v", err)}
		}
		if seq != want {
			return n, &TamperError{Seq: want, Reason: fmt.Sprintf("missing (the next row is seq %d)", seq)}
		}
		if prevHash != prev {
			return n, &TamperError{Seq: seq, Reason: "prev_hash is not the hash of the previous event"}
		}
		got, err := chainHash(prevHash, []byte(body))
		if err != nil || got != hash {
			return n, &TamperError{Seq: seq, Reason: "hash does not match the event's content"}
		}
		var e Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return n, &TamperError{Seq: seq, Reason: "content is not valid JSON"}
		}
		if c := newRow(&e, nil); c.id != r.id || c.timeNS != r.timeNS || c.channel != r.channel ||
			c.verdict != r.verdict || c.action != r.action || c.sender != r.sender || c.ledger != r.ledger {
			return n, &TamperError{Seq: seq, Reason: "index columns do not match the event's content"}
		}
		prev = hash
		want++
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("event: verify %s: %w", l.path, err)
	}
	return n, nil
}
