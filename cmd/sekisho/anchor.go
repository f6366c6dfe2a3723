package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sekisho-dlp/sekisho/gateway/event"
)

// anchorInterval is how often serve writes the event log's head into its
// operational log.
const anchorInterval = time.Hour

// chainAnchors writes the head of the event log's hash chain (seq and
// hash) into the operational log at start, every anchorInterval when it
// moved, and at shutdown. The operational log goes elsewhere (journald,
// syslog, a log collector): a head kept there lets `sekisho events verify
// --anchor SEQ:HASH` show later that the event log was not cut off or
// rewritten as a whole, which the chain alone cannot show.
type chainAnchors struct {
	events *event.Log
	zl     *zap.Logger

	mu   sync.Mutex
	last int64 // seq of the last head logged
}

func newChainAnchors(l *event.Log, zl *zap.Logger) *chainAnchors {
	return &chainAnchors{events: l, zl: zl}
}

func (a *chainAnchors) run(ctx context.Context) {
	t := time.NewTicker(anchorInterval)
	defer t.Stop()
	for {
		a.log(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// log writes the head when it moved since the last one written.
func (a *chainAnchors) log(ctx context.Context) {
	seq, hash, err := a.events.Head(ctx)
	if ctx.Err() != nil {
		return // stopping: the shutdown writes the last head
	}
	if err != nil {
		a.zl.Warn("event log chain head unreadable; no anchor this time", zap.Error(err))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if seq == 0 || seq == a.last {
		return
	}
	a.last = seq
	a.zl.Info("event log chain head (keep it: sekisho events verify --anchor SEQ:HASH)",
		zap.Int64("seq", seq), zap.String("sha256", hash), zap.String("anchor", anchorText(seq, hash)))
}

func anchorText(seq int64, hash string) string {
	return strconv.FormatInt(seq, 10) + ":" + hash
}

// anchorList is the repeatable --anchor SEQ:HASH of events verify.
type anchorList []eventAnchor

type eventAnchor struct {
	seq  int64
	hash string
}

func (a *anchorList) String() string { return fmt.Sprint(*a) }

func (a *anchorList) Set(v string) error {
	seqText, hash, ok := strings.Cut(v, ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	hash = strings.ToLower(hash)
	if !ok || err != nil || seq < 1 || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return fmt.Errorf("%q: want SEQ:HASH as sekisho serve logs it (1234:9f86d0…, 64 hex digits)", v)
	}
	*a = append(*a, eventAnchor{seq, hash})
	return nil
}
