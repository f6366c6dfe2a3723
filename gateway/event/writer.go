package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// run is the writer goroutine: it takes the first waiting request, gathers
// whatever else is queued (up to MaxBatch, waiting at most MaxDelay), and
// commits them in one transaction.
func (l *Log) run() {
	defer close(l.stopped)
	batch := make([]request, 0, l.opts.MaxBatch)
	for {
		first, ok := <-l.queue
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		batch = l.gather(batch)
		l.commit(batch)
		clear(batch) // drop references to rows and channels
	}
}

// gather adds queued requests to batch until it is full, the queue is empty
// (and MaxDelay has passed) or the queue is closed.
func (l *Log) gather(batch []request) []request {
	var timeout <-chan time.Time
	if l.opts.MaxDelay > 0 {
		t := time.NewTimer(l.opts.MaxDelay)
		defer t.Stop()
		timeout = t.C
	}
	// While only RecordAsync events are gathered, nobody waits for the
	// commit: wait up to AsyncDelay for more, so that a steady stream of
	// asynchronous events shares commits (and fsyncs) instead of paying one
	// each. A waiting caller (Record, Sync) ends the wait at once.
	asyncWait := l.opts.AsyncDelay > 0 && batch[0].done == nil
	var asyncTimer *time.Timer
	defer func() {
		if asyncTimer != nil {
			asyncTimer.Stop()
		}
	}()
	for len(batch) < l.opts.MaxBatch {
		if timeout == nil {
			select {
			case req, ok := <-l.queue:
				if !ok {
					return batch
				}
				batch = append(batch, req)
				asyncWait = asyncWait && req.done == nil
			default:
				if !asyncWait {
					return batch
				}
				if asyncTimer == nil {
					asyncTimer = time.NewTimer(l.opts.AsyncDelay)
				}
				select {
				case req, ok := <-l.queue:
					if !ok {
						return batch
					}
					batch = append(batch, req)
					asyncWait = req.done == nil
				case <-asyncTimer.C:
					return batch
				}
			}
			continue
		}
		select {
		case req, ok := <-l.queue:
			if !ok {
				return batch
			}
			batch = append(batch, req)
		case <-timeout:
			return batch
		}
	}
	return batch
}

// commit writes the events of batch in one transaction and answers every
// waiting caller. If the transaction fails, each event is retried alone, so
// that one bad event (a duplicate ID) does not fail the others.
func (l *Log) commit(batch []request) {
	rows := make([]row, 0, len(batch))
	for _, req := range batch {
		if !req.isSync {
			rows = append(rows, req.row)
		}
	}
	errs := make([]error, len(rows))
	if len(rows) > 0 {
		if err := l.insert(rows); err != nil {
			if len(rows) == 1 {
				errs[0] = err
			} else {
				l.log.Warn("event log: batch commit failed, retrying events one by one",
					zap.Int("events", len(rows)), zap.Error(err))
				for i := range rows {
					errs[i] = l.insert(rows[i : i+1])
				}
			}
		}
	}
	i := 0
	for _, req := range batch {
		if req.isSync {
			err := l.asyncErr
			l.asyncErr = nil
			req.done <- err
			continue
		}
		err := errs[i]
		i++
		if req.done != nil {
			req.done <- err
			continue
		}
		if err != nil {
			l.log.Error("event log: asynchronous record failed", zap.String("event_id", req.row.id), zap.Error(err))
			if l.asyncErr == nil {
				l.asyncErr = err
			}
		}
	}
}

// insert appends rows in one IMMEDIATE transaction, chaining each to the
// head read inside the transaction.
func (l *Log) insert(rows []row) (err error) {
	ctx := context.Background()
	tx, err := l.wconn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("event: begin transaction in %s: %w", l.path, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The statements were prepared once, at Open: inside the transaction
	// they run on the writer's connection without being prepared again.
	seq, prev, err := scanHead(tx.StmtContext(ctx, l.headStmt).QueryRowContext(ctx))
	if err != nil {
		return err
	}
	stmt := tx.StmtContext(ctx, l.insertStmt)
	for _, r := range rows {
		hash, err := chainHash(prev, r.body)
		if err != nil {
			return fmt.Errorf("event: chain head of %s is damaged at seq %d: run sekisho events verify: %w", l.path, seq, err)
		}
		seq++
		if _, err := stmt.ExecContext(ctx, seq, r.id, r.timeNS, r.channel, r.verdict, r.action,
			r.sender, r.ledger, string(r.body), prev, hash); err != nil {
			return fmt.Errorf("event: insert event %s into %s: %w", r.id, l.path, err)
		}
		prev = hash
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("event: commit %d events to %s: %w: is the disk full?", len(rows), l.path, err)
	}
	return nil
}

// insertQuery appends one event.
const insertQuery = `INSERT INTO events
	(seq, id, time_ns, channel, verdict, action, sender, ledger, body, prev_hash, hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// headQuery reads the seq and hash of the last event.
const headQuery = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"

// scanHead returns the seq and hash of the last event from headQuery's row
// (0 and the genesis hash for an empty log).
func scanHead(row *sql.Row) (int64, string, error) {
	var seq int64
	var hash string
	err := row.Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, genesisHash, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("event: read chain head: %w", err)
	}
	return seq, hash, nil
}

// Head returns the seq and hash of the last event: write them down (or
// send them elsewhere) to detect a rewrite of the whole chain later.
func (l *Log) Head(ctx context.Context) (seq int64, hash string, err error) {
	return scanHead(l.db.QueryRowContext(ctx, headQuery))
}

// HashAt returns the hash of the event at seq, or an error wrapping
// ErrNotFound when there is none (the log ends before it). Compared with a
// head written down earlier (an anchor), it shows whether the log was cut
// off or rewritten since.
func (l *Log) HashAt(ctx context.Context, seq int64) (string, error) {
	var hash string
	err := l.db.QueryRowContext(ctx, "SELECT hash FROM events WHERE seq = ?", seq).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: seq %d in %s", ErrNotFound, seq, l.path)
	}
	if err != nil {
		return "", fmt.Errorf("event: read the hash at seq %d in %s: %w", seq, l.path, err)
	}
	return hash, nil
}
