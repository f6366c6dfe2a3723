package smtprelay

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// spool keeps each message on disk while it is inspected and forwarded, so
// that a 50 MiB message costs a file, not 50 MiB of heap. Files of messages
// whose inspection failed move to failed/ for diagnosis.
type spool struct {
	dir    string
	failed string
}

func openSpool(dir string) (*spool, error) {
	s := &spool{dir: dir, failed: filepath.Join(dir, "failed")}
	if err := os.MkdirAll(s.failed, 0o700); err != nil {
		return nil, fmt.Errorf("smtprelay: create spool dir %s: %w (check data_dir permissions)", dir, err)
	}
	// Files left by a crash were never acknowledged: the sender still has them.
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("smtprelay: read spool dir %s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasPrefix(e.Name(), "msg-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return s, nil
}

// create makes a new spool file, readable by the owner only.
func (s *spool) create() (*os.File, error) {
	f, err := os.CreateTemp(s.dir, "msg-*.eml")
	if err != nil {
		return nil, fmt.Errorf("smtprelay: create spool file: %w", err)
	}
	return f, nil
}

// keep moves a spool file to failed/<id>.eml and returns the new path.
func (s *spool) keep(f *os.File, id string) (string, error) {
	dst := filepath.Join(s.failed, id+".eml")
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("smtprelay: sync spool file: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return "", fmt.Errorf("smtprelay: keep spool file: %w", err)
	}
	return dst, nil
}

// discard closes and removes a spool file (if it was not kept).
func (s *spool) discard(f *os.File) {
	name := f.Name()
	f.Close()
	if filepath.Dir(name) == filepath.Clean(s.dir) {
		os.Remove(name)
	}
}
