package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// Options tune a Log. The zero value gives the defaults.
type Options struct {
	// MaxBatch is the most events committed in one transaction (default 512).
	MaxBatch int
	// MaxDelay is how long the writer waits for more events after the queue
	// ran dry before it commits a batch. The default, 0, commits at once:
	// callers who arrive while a commit (and its fsync) is running are
	// batched into the next commit, which is what makes group commit work
	// without adding latency to a lone caller.
	MaxDelay time.Duration
	// AsyncDelay is how long the writer waits for more events when the
	// queue ran dry and only RecordAsync events are gathered (no caller
	// waits for the commit). The default, 0, commits at once. A Record or
	// Sync arriving meanwhile ends the wait, so it adds no latency to
	// callers that need durability; it bounds how long an asynchronous
	// event stays only in memory.
	AsyncDelay time.Duration
	// QueueSize is how many events may wait for the writer (default 4096).
	// When the queue is full, Record and RecordAsync block: back pressure,
	// never a dropped event.
	QueueSize int
	// MustExist refuses to create the database: for tools that read the log
	// of a running gateway. Open then fails with an error wrapping
	// fs.ErrNotExist when the file is missing.
	MustExist bool
}

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	return o
}

// ErrClosed is returned by Record, RecordAsync and Sync after Close.
var ErrClosed = errors.New("event: event log is closed")

// ErrNotFound is returned by Get for an unknown event ID.
var ErrNotFound = errors.New("event: no such event")

// Log is the event log: an append-only, hash-chained table in an SQLite
// database (WAL mode, synchronous=FULL). One writer goroutine owns all
// writes and commits events in batches (group commit); any number of
// goroutines may call its methods at once. Several processes (the gateway
// and the sekisho command) may append to the same file: each batch reads the
// chain head inside its write transaction.
type Log struct {
	path  string
	db    *sql.DB
	wconn *sql.Conn
	// insertStmt and headStmt are prepared once and used by the writer
	// inside its transactions (insert).
	insertStmt, headStmt *sql.Stmt
	log                  *zap.Logger
	opts                 Options

	mu     sync.RWMutex // guards closed and sends on queue
	closed bool
	queue  chan request

	stopped chan struct{}

	// asyncErr is the first failure of a RecordAsync since the last Sync;
	// touched only by the writer goroutine.
	asyncErr error
}

var _ Recorder = (*Log)(nil)

// request is one queued event, or a Sync barrier when isSync is set.
type request struct {
	row    row
	isSync bool
	done   chan error // nil for RecordAsync
}

// Open opens (creating if needed) the event log at path with the default
// Options. log receives operational messages (never event contents); nil
// means no logging.
func Open(path string, log *zap.Logger) (*Log, error) {
	return OpenWithOptions(path, log, Options{})
}

// OpenWithOptions is Open with explicit Options.
func OpenWithOptions(path string, log *zap.Logger, opts Options) (*Log, error) {
	if log == nil {
		log = zap.NewNop()
	}
	opts = opts.withDefaults()
	if strings.ContainsAny(path, "?#") || path == "" {
		return nil, fmt.Errorf("event: open event log %q: the path must be a file name without '?' or '#'", path)
	}
	if err := ensureFile(path, opts.MustExist); err != nil {
		return nil, err
	}
	dsn := path + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("event: open event log %s: %w", path, err)
	}
	db.SetMaxOpenConns(5)
	db.SetMaxIdleConns(5)
	db.SetConnMaxIdleTime(0)
	ctx := context.Background()
	wconn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("event: open event log %s: %w: is it a SQLite database, and writable?", path, err)
	}
	var mode string
	if err := wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		wconn.Close()
		db.Close()
		return nil, fmt.Errorf("event: open event log %s: %w: is it a SQLite database?", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		wconn.Close()
		db.Close()
		return nil, fmt.Errorf("event: open event log %s: journal mode is %q, not WAL: is the file on a file system that supports shared memory?", path, mode)
	}
	if _, err := wconn.ExecContext(ctx, schema); err != nil {
		wconn.Close()
		db.Close()
		return nil, fmt.Errorf("event: create event tables in %s: %w", path, err)
	}
	insertStmt, err := db.PrepareContext(ctx, insertQuery)
	if err != nil {
		wconn.Close()
		db.Close()
		return nil, fmt.Errorf("event: prepare the insert into %s: %w", path, err)
	}
	headStmt, err := db.PrepareContext(ctx, headQuery)
	if err != nil {
		insertStmt.Close()
		wconn.Close()
		db.Close()
		return nil, fmt.Errorf("event: prepare the chain-head query of %s: %w", path, err)
	}
	l := &Log{
		path:       path,
		db:         db,
		wconn:      wconn,
		insertStmt: insertStmt,
		headStmt:   headStmt,
		log:        log,
		opts:       opts,
		queue:      make(chan request, opts.QueueSize),
		stopped:    make(chan struct{}),
	}
	go l.run()
	return l, nil
}

// ensureFile makes the database file with mode 0600 when it is missing (so
// that SQLite's -wal and -shm files get the same mode), or reports that it is
// missing when mustExist is set.
func ensureFile(path string, mustExist bool) error {
	_, err := os.Stat(path)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("event: open event log %s: %w", path, err)
	}
	if mustExist {
		return fmt.Errorf("event: open event log %s: no such file: is --data-dir right? (%w)", path, fs.ErrNotExist)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return fmt.Errorf("event: create event log %s: %w: does the directory exist and is it writable?", path, err)
	}
	return f.Close()
}

// Path returns the database file name.
func (l *Log) Path() string { return l.path }

// Record appends e to the log and returns once the transaction holding it
// is committed and on disk (synchronous=FULL): many concurrent callers share
// one commit. An empty e.ID is set with NewID and a zero e.Time to now; Time
// is stored in UTC. If ctx ends first, Record returns ctx's error, but the
// event may still be committed.
func (l *Log) Record(ctx context.Context, e *Event) error {
	r, err := prepare(e, time.Now())
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	if err := l.enqueue(ctx, request{row: r, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("event: record %s: %w (the event may still be committed)", r.id, ctx.Err())
	}
}

// RecordAsync queues e and returns without waiting for the commit: for
// callers that need no durability before they answer (allowed traffic,
// monitor verdicts). It fills in e.ID and e.Time like Record, so the ID can
// be shown at once. It blocks only while the queue is full. It returns an
// error only when the log is closed or e cannot be encoded; a failed commit
// is logged and reported by the next Sync.
func (l *Log) RecordAsync(e *Event) error {
	r, err := prepare(e, time.Now())
	if err != nil {
		return err
	}
	return l.enqueue(context.Background(), request{row: r})
}

// Sync waits until every event recorded before it is committed. It returns
// the first RecordAsync failure since the previous Sync, if any.
func (l *Log) Sync(ctx context.Context) error {
	done := make(chan error, 1)
	if err := l.enqueue(ctx, request{isSync: true, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("event: sync: %w", ctx.Err())
	}
}

func (l *Log) enqueue(ctx context.Context, req request) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.queue <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("event: record: queue full: %w", ctx.Err())
	}
}

// Close commits what is queued, stops the writer and closes the database.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.queue)
	l.mu.Unlock()
	<-l.stopped
	l.insertStmt.Close()
	l.headStmt.Close()
	err := l.wconn.Close()
	if err2 := l.db.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("event: close event log %s: %w", l.path, err)
	}
	return nil
}
