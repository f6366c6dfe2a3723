package smtprelay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
	"github.com/sekisho-dlp/sekisho/rules"
)

// newEvent starts the event of the current transaction.
func (s *session) newEvent(id string, at time.Time, size int64) *event.Event {
	e := &event.Event{ID: id, Time: at.UTC(), Channel: string(rules.ChannelSMTP), Client: s.clientDesc(),
		Sender: s.from, Size: size}
	for _, rc := range s.rcpts {
		e.Recipients = append(e.Recipients, rc.addr)
	}
	return e
}

// maskedFor gathers masked samples of the detectors in counts from the parts
// of one place ("body" or "attachment[N] name").
func maskedFor(v *gateway.Verdict, place string, counts map[string]int) map[string][]string {
	if len(counts) == 0 {
		return nil
	}
	prefix := ""
	if strings.HasPrefix(place, "attachment[") {
		if i := strings.IndexByte(place, ']'); i > 0 {
			prefix = place[:i+1]
		}
	}
	out := map[string][]string{}
	for _, p := range v.Parts {
		in := false
		switch {
		case place == "body" || place == "":
			in = p.Role == "body"
		case prefix != "":
			in = p.Path == prefix || strings.HasPrefix(p.Path, prefix+"/") || strings.HasPrefix(p.Path, prefix+" ")
		}
		if !in {
			continue
		}
		for id, m := range p.Masked {
			if _, ok := counts[id]; !ok {
				continue
			}
			for _, x := range m {
				if len(out[id]) < 3 && !contains(out[id], x) {
					out[id] = append(out[id], x)
				}
			}
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// quarantine stores the spooled message; Put returns once it is fsynced.
func (s *session) quarantine(t *txn, v *gateway.Verdict) (string, error) {
	m := quarantine.Meta{
		ID: t.id, EventID: t.id, Time: t.start.UTC(), Channel: string(rules.ChannelSMTP),
		Sender: s.from, Reasons: v.Codes(), Size: t.size,
		Expires: t.start.UTC().Add(s.r.cfg.QuarantineRetention),
	}
	for _, rc := range s.rcpts {
		m.Recipients = append(m.Recipients, rc.addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := s.r.deps.Quarantine.Put(ctx, m, t.body())
	if err != nil {
		return "", fmt.Errorf("smtprelay: quarantine: %w", err)
	}
	return id, nil
}
