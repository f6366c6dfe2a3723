package quarantine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/event"
)

// DefaultRetention is how long items are kept when Options.Retention is 0.
const DefaultRetention = 30 * 24 * time.Hour

// Options configure a Dir. The zero value gives the defaults.
type Options struct {
	// KeyFile holds the master key (base64 of 32 bytes). Default:
	// <dir>/quarantine.key, made with mode 0600 on first start.
	KeyFile string
	// KeyEnv names the environment variable that, when set, holds the key
	// instead of the file (default DefaultKeyEnv).
	KeyEnv string
	// Retention is how long an item is kept before Sweep destroys it
	// (default DefaultRetention).
	Retention time.Duration
	// Events, when set, receives an event for each item deleted, destroyed
	// or released (Action "deleted", "destroyed", "released",
	// "release-failed"), as 第15条 asks.
	Events event.Recorder
	// Actor names who acts in those events (Event.Client), such as
	// "retention" or "cli:alice". Default "sekisho".
	Actor string
	// NoCreate refuses to create the directory or the key: for tools that
	// work on the quarantine of a running gateway.
	NoCreate bool
}

// Dir is a quarantine directory. Its methods are safe for concurrent use.
type Dir struct {
	dir  string
	key  *masterKey
	opts Options
}

var _ Store = (*Dir)(nil)

// ErrNotFound is returned for an unknown item ID.
var ErrNotFound = errors.New("quarantine: no such item")

// idPattern is the form of item IDs (event.NewID); nothing else is accepted
// as an ID, so an ID can never name a path outside the directory.
var idPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{12}$`)

// ValidID reports whether id has the form of an item ID.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Open opens the quarantine in dir, creating it (mode 0700) and its key as
// needed.
func Open(dir string, opts Options) (*Dir, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.KeyEnv == "" {
		opts.KeyEnv = DefaultKeyEnv
	}
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(dir, DefaultKeyFileName)
	}
	if opts.Actor == "" {
		opts.Actor = "sekisho"
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("quarantine: %s is not a directory", dir)
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && opts.NoCreate:
		return nil, fmt.Errorf("quarantine: open %s: no such directory: is --data-dir right? (%w)", dir, fs.ErrNotExist)
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("quarantine: create %s: %w", dir, err)
		}
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("quarantine: create %s: %w", dir, err)
		}
	default:
		return nil, fmt.Errorf("quarantine: open %s: %w", dir, err)
	}
	key, err := loadKey(opts.KeyEnv, opts.KeyFile, opts.NoCreate)
	if err != nil {
		return nil, err
	}
	return &Dir{dir: dir, key: key, opts: opts}, nil
}

// Path returns the directory.
func (d *Dir) Path() string { return d.dir }

func (d *Dir) bodyPath(id string) string { return filepath.Join(d.dir, id+".bin") }
func (d *Dir) metaPath(id string) string { return filepath.Join(d.dir, id+".json") }

func (d *Dir) checkID(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: %q is not a quarantine ID (like 20261125T224010.123Z-3f9a1c2b7d10)", ErrNotFound, id)
	}
	return nil
}

// Put encrypts body into the quarantine and returns once the item (body and
// meta) and the directory are fsynced. m.ID is used when it is a valid ID
// not in use (the front end may pass its event ID), else a new ID is made;
// m.Time defaults to now, m.Expires to m.Time + retention, and m.Size is
// set to the bytes read. The body is streamed in 64 KiB chunks: memory use
// does not grow with its size.
func (d *Dir) Put(ctx context.Context, m Meta, body io.Reader) (id string, err error) {
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	m.Time = m.Time.UTC()
	if m.Expires.IsZero() {
		m.Expires = m.Time.Add(d.opts.Retention)
	}
	m.Expires = m.Expires.UTC()
	if m.ID == "" || !ValidID(m.ID) {
		m.ID = event.NewID(m.Time)
	}
	if _, err := os.Lstat(d.metaPath(m.ID)); err == nil {
		return "", fmt.Errorf("quarantine: store %s: an item with this ID exists", m.ID)
	}
	id = m.ID

	var tmps []string
	defer func() {
		if err != nil {
			for _, t := range tmps {
				os.Remove(t)
			}
		}
	}()
	bodyTmp, n, err := d.writeBody(ctx, id, body)
	if bodyTmp != "" {
		tmps = append(tmps, bodyTmp)
	}
	if err != nil {
		return "", err
	}
	m.Size = n
	sealed, err := sealMeta(d.key, m)
	if err != nil {
		return "", err
	}
	metaTmp := filepath.Join(d.dir, ".tmp-"+id+".json")
	tmps = append(tmps, metaTmp)
	if err := writeFileSync(metaTmp, sealed); err != nil {
		return "", fmt.Errorf("quarantine: store %s: write meta: %w", id, err)
	}
	// The body first: an item exists once its meta file does.
	if err := os.Rename(bodyTmp, d.bodyPath(id)); err != nil {
		return "", fmt.Errorf("quarantine: store %s: %w", id, err)
	}
	tmps[0] = d.bodyPath(id)
	if err := os.Rename(metaTmp, d.metaPath(id)); err != nil {
		return "", fmt.Errorf("quarantine: store %s: %w", id, err)
	}
	tmps = append(tmps, d.metaPath(id))
	if err := syncDir(d.dir); err != nil {
		return "", fmt.Errorf("quarantine: store %s: %w: is the disk healthy?", id, err)
	}
	return id, nil
}

// writeBody encrypts body into a temporary file, fsynced, and returns its
// name and the plaintext size.
func (d *Dir) writeBody(ctx context.Context, id string, body io.Reader) (string, int64, error) {
	h := bodyHeader{chunkSize: ChunkSize, keyID: d.key.id}
	if _, err := rand.Read(h.salt[:]); err != nil {
		return "", 0, fmt.Errorf("quarantine: store %s: %w", id, err)
	}
	if _, err := rand.Read(h.noncePrefix[:]); err != nil {
		return "", 0, fmt.Errorf("quarantine: store %s: %w", id, err)
	}
	key, err := d.key.derive(h.salt[:], "body")
	if err != nil {
		return "", 0, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return "", 0, err
	}
	name := filepath.Join(d.dir, ".tmp-"+id+".bin")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("quarantine: store %s: %w: is the quarantine directory writable?", id, err)
	}
	hdr := h.marshal()
	n, err := func() (int64, error) {
		if _, err := f.Write(hdr); err != nil {
			return 0, fmt.Errorf("quarantine: store %s: %w", id, err)
		}
		n, err := sealStream(ctx, f, body, aead, &h, bodyAAD(hdr, id))
		if err != nil {
			return n, fmt.Errorf("quarantine: store %s: %w", id, err)
		}
		if err := f.Sync(); err != nil {
			return n, fmt.Errorf("quarantine: store %s: fsync: %w: is the disk full?", id, err)
		}
		return n, nil
	}()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("quarantine: store %s: %w: is the disk full?", id, cerr)
	}
	return name, n, err
}

func bodyAAD(hdr []byte, id string) []byte {
	return append(slices.Clip(hdr), id...)
}

// Meta returns the meta of one item.
func (d *Dir) Meta(id string) (Meta, error) {
	if err := d.checkID(id); err != nil {
		return Meta{}, err
	}
	env, err := readEnvelope(d.metaPath(id), id)
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Meta{}, fmt.Errorf("quarantine: read %s: %w", id, err)
	}
	return env.open(d.key)
}

// Get returns the meta of an item and a reader that decrypts its body as it
// is read. A read error wrapping ErrTampered means the body was changed or
// cut; since it comes at the damaged chunk, callers who must not act on a
// partial body call Verify first (Release does). The reader must be closed.
func (d *Dir) Get(id string) (Meta, io.ReadCloser, error) {
	m, err := d.Meta(id)
	if err != nil {
		return Meta{}, nil, err
	}
	f, err := os.Open(d.bodyPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, nil, fmt.Errorf("%w: body of %s is missing", ErrTampered, id)
	}
	if err != nil {
		return Meta{}, nil, fmt.Errorf("quarantine: open %s: %w", id, err)
	}
	hdr := make([]byte, headerLen)
	if _, err := io.ReadFull(f, hdr); err != nil {
		f.Close()
		return Meta{}, nil, fmt.Errorf("%w: body of %s has no header", ErrTampered, id)
	}
	h, err := parseBodyHeader(hdr)
	if err != nil {
		f.Close()
		return Meta{}, nil, fmt.Errorf("quarantine: open %s: %w", id, err)
	}
	if h.keyID != d.key.id {
		f.Close()
		return Meta{}, nil, fmt.Errorf("%w: body of %s was stored with key id %x, and the %s has id %x",
			ErrWrongKey, id, h.keyID, d.key.source, d.key.id)
	}
	key, err := d.key.derive(h.salt[:], "body")
	if err != nil {
		f.Close()
		return Meta{}, nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		f.Close()
		return Meta{}, nil, err
	}
	return m, newOpenReader(id, f, f, aead, h, bodyAAD(hdr, id)), nil
}

// Verify decrypts a whole item without keeping it, and reports whether it
// is intact: nil, or an error wrapping ErrTampered or ErrWrongKey.
func (d *Dir) Verify(id string) error {
	_, r, err := d.Get(id)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

// List returns the meta of every item, oldest first. Items whose meta
// cannot be read (another key, damage) are listed with only their ID and
// expiry, and the returned error (non-nil next to the list) names them.
func (d *Dir) List() ([]Meta, error) {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("quarantine: list %s: %w", d.dir, err)
	}
	var out []Meta
	var errs []error
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !ValidID(id) {
			continue
		}
		env, err := readEnvelope(d.metaPath(id), id)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // deleted meanwhile
				errs = append(errs, err)
			}
			continue
		}
		m, err := env.open(d.key)
		if err != nil {
			errs = append(errs, err)
			m = env.bare()
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Meta) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, errors.Join(errs...)
}

// remove deletes the files of an item, meta first, and fsyncs the
// directory. It returns what is known of the item.
func (d *Dir) remove(id string) (Meta, error) {
	if err := d.checkID(id); err != nil {
		return Meta{}, err
	}
	env, err := readEnvelope(d.metaPath(id), id)
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	m := Meta{ID: id}
	if err == nil {
		if m, err = env.open(d.key); err != nil {
			m = env.bare()
		}
	}
	if err := os.Remove(d.metaPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("quarantine: delete %s: %w", id, err)
	}
	if err := os.Remove(d.bodyPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("quarantine: delete body of %s: %w", id, err)
	}
	if err := syncDir(d.dir); err != nil {
		return m, fmt.Errorf("quarantine: delete %s: %w", id, err)
	}
	return m, nil
}

// Delete destroys an item and records an event (Action "deleted") when
// Options.Events is set.
func (d *Dir) Delete(id string) error {
	m, err := d.remove(id)
	if err != nil {
		return err
	}
	return d.record(context.Background(), m, "deleted", nil, "")
}

// Sweep destroys every item whose expiry is at or before now, and records
// each destruction (Action "destroyed", 第15条) when Options.Events is set.
// It also removes temporary files left by a crash more than an hour old. It
// returns the items destroyed; the expiry is read from the part of the meta
// kept in clear, so items stored under a lost key are destroyed too.
func (d *Dir) Sweep(now time.Time) ([]Meta, error) {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("quarantine: sweep %s: %w", d.dir, err)
	}
	var out []Meta
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > time.Hour {
				os.Remove(filepath.Join(d.dir, name))
			}
			continue
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || !ValidID(id) {
			continue
		}
		env, err := readEnvelope(d.metaPath(id), id)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if env.Expires.After(now) {
			continue
		}
		m, err := d.remove(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
		reason := event.Reason{Code: "retention-expired", Article: "第15条",
			Detail: "kept until " + env.Expires.UTC().Format(time.RFC3339)}
		if err := d.record(context.Background(), m, "destroyed", &reason, ""); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// Release checks that an item is intact, hands it to deliver (which sends
// it on, such as over SMTP to the next hop with m.Sender and m.Recipients),
// and when deliver succeeds deletes the item. It records "released" or
// "release-failed" when Options.Events is set. deliver must read the body
// to the end.
func (d *Dir) Release(ctx context.Context, id string, deliver func(Meta, io.Reader) error) error {
	if err := d.Verify(id); err != nil {
		return fmt.Errorf("quarantine: release %s: %w", id, err)
	}
	m, r, err := d.Get(id)
	if err != nil {
		return fmt.Errorf("quarantine: release %s: %w", id, err)
	}
	derr := deliver(m, r)
	r.Close()
	if derr != nil {
		rerr := d.record(ctx, m, "release-failed", nil, derr.Error())
		return errors.Join(fmt.Errorf("quarantine: release %s: deliver: %w", id, derr), rerr)
	}
	_, rmErr := d.remove(id)
	errText := ""
	if rmErr != nil {
		errText = "delivered, but not deleted: " + rmErr.Error()
	}
	if err := d.record(ctx, m, "released", nil, errText); err != nil {
		return errors.Join(rmErr, err)
	}
	return rmErr
}

// record writes a lifecycle event for m when Options.Events is set.
func (d *Dir) record(ctx context.Context, m Meta, action string, reason *event.Reason, errText string) error {
	if d.opts.Events == nil {
		return nil
	}
	e := LifecycleEvent(m, action, d.opts.Actor)
	if reason != nil {
		e.Reasons = append([]event.Reason{*reason}, e.Reasons...)
	}
	e.Error = errText
	if err := d.opts.Events.Record(ctx, e); err != nil {
		return fmt.Errorf("quarantine: %s %s, but the event was not recorded: %w", action, m.ID, err)
	}
	return nil
}

// LifecycleEvent returns the event for something done to a quarantined
// item (action "deleted", "destroyed", "released", ...) by actor. Its
// Verdict is "block", the verdict of the item; Ref is the event that
// quarantined it.
func LifecycleEvent(m Meta, action, actor string) *event.Event {
	e := &event.Event{
		Time:         time.Now().UTC(),
		Channel:      m.Channel,
		Client:       actor,
		Sender:       m.Sender,
		Recipients:   m.Recipients,
		Host:         m.Host,
		Size:         m.Size,
		Verdict:      "block",
		Action:       action,
		QuarantineID: m.ID,
		Ref:          m.EventID,
	}
	for _, c := range m.Reasons {
		e.Reasons = append(e.Reasons, event.Reason{Code: c})
	}
	return e
}
