package event

// schema creates the events table, its indexes and the triggers that make it
// append-only. Each row holds the canonical JSON of one event (body), the
// hash of the previous row (prev_hash, hex) and its own hash (hex):
//
//	hash = SHA-256(prev_hash bytes || body)
//
// with 32 zero bytes as the prev_hash of seq 1. The other columns are copies
// of fields of body, kept for filtering; Verify checks that they match.
const schema = `
CREATE TABLE IF NOT EXISTS events (
	seq          INTEGER PRIMARY KEY,
	id           TEXT    NOT NULL UNIQUE,
	time_ns      INTEGER NOT NULL,
	channel      TEXT    NOT NULL,
	verdict      TEXT    NOT NULL,
	action       TEXT    NOT NULL,
	sender       TEXT    NOT NULL,
	ledger       INTEGER NOT NULL,
	body         TEXT    NOT NULL,
	prev_hash    TEXT    NOT NULL,
	hash         TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time    ON events(time_ns);
CREATE INDEX IF NOT EXISTS events_verdict ON events(verdict, time_ns);
CREATE INDEX IF NOT EXISTS events_sender  ON events(sender COLLATE NOCASE);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;
`
