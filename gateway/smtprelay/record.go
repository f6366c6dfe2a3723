package smtprelay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
	"github.com/sekisho-dlp/sekisho/rules"
)

// newEventID makes an event ID like "20261125T224010Z-3f9a1c2b" (used when
// Deps.NewID is not set).
func newEventID(t time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// newEvent starts the event of the current transaction.
func (s *session) newEvent(id string, at time.Time, size int64) *event.Event {
	e := &event.Event{ID: id, Time: at.UTC(), Channel: string(rules.ChannelSMTP), Client: s.remote.String(),
		Sender: s.from, Size: size}
	if s.user != "" {
		e.Client += " (user " + s.user + ")"
	}
	for _, rc := range s.rcpts {
		e.Recipients = append(e.Recipients, rc.addr)
	}
	return e
}

// fillVerdict copies what the verdict says into the event: reasons, counts
// and masked samples per detector, attachments, the message's ids.
func fillVerdict(e *event.Event, v *gateway.Verdict) {
	if v.Header != nil {
		e.MessageID = v.Header.MessageID
		e.Subject = v.Header.Subject
		if subjectHasFinding(v) {
			e.Subject = "(masked)"
		}
	}
	for _, r := range v.Reasons {
		e.Reasons = append(e.Reasons, event.Reason{Code: r.Code, Article: r.Article, Place: r.Place, Detail: r.Detail})
	}
	if v.Findings != nil {
		for _, id := range v.Findings.Detectors() {
			n, _ := v.Findings.Count(id)
			dc := event.DetectorCount{Detector: id, Count: n}
			for _, val := range v.Findings.Samples(id, gateway.MaxSamples) {
				dc.Masked = append(dc.Masked, val.Masked)
			}
			e.Detectors = append(e.Detectors, dc)
		}
	} else {
		// Without a tally, fall back to the parts' masked samples.
		counts := map[string]int{}
		masked := map[string][]string{}
		for _, p := range v.Parts {
			for id, n := range p.Findings {
				counts[id] += n
			}
			for id, m := range p.Masked {
				masked[id] = append(masked[id], m...)
			}
		}
		for _, id := range sortedKeys(counts) {
			m := masked[id]
			if len(m) > gateway.MaxSamples {
				m = m[:gateway.MaxSamples]
			}
			e.Detectors = append(e.Detectors, event.DetectorCount{Detector: id, Count: counts[id], Masked: m})
		}
	}
	for _, pl := range v.Places {
		if pl.Kind != rules.PlaceAttachment {
			continue
		}
		e.Attachments = append(e.Attachments, event.Attachment{
			Name: pl.Name, Type: pl.Type, Size: pl.Size, Encrypted: pl.Encrypted || pl.EncryptedInside,
			Encryption: pl.Encryption, Uninspectable: strings.Join(pl.Uninspectable, "; "),
		})
	}
	if len(v.Places) == 0 {
		for _, p := range v.Parts {
			if p.Role == "attachment" && !strings.Contains(strings.TrimPrefix(p.Path, "attachment["), "/") {
				e.Attachments = append(e.Attachments, event.Attachment{Name: p.Name, Type: p.Type, Size: p.Size,
					Encrypted: p.Encrypted, Encryption: p.Encryption, Uninspectable: p.Uninspectable})
			}
		}
	}
}

// carriesEncrypted reports whether the mail carries an encrypted attachment
// (an entry of the ledger when it is allowed).
func carriesEncrypted(v *gateway.Verdict) bool {
	for _, pl := range v.Places {
		if pl.Kind == rules.PlaceAttachment && (pl.Encrypted || pl.EncryptedInside) {
			return true
		}
	}
	for _, p := range v.Parts {
		if p.Role == "attachment" && p.Encrypted {
			return true
		}
	}
	return false
}

// subjectHasFinding reports whether the Subject itself held a detected value.
func subjectHasFinding(v *gateway.Verdict) bool {
	for _, p := range v.Parts {
		if p.Path == "subject" && len(p.Findings) > 0 {
			return true
		}
	}
	return false
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
