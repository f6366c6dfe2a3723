package gateway

import (
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/rules"
)

// NewEvent builds the event of an inspected item: the envelope, then what
// the verdict says (FillEvent). The front end fills in Action (what it
// did), QuarantineID, Error, Size and DurationMS. id comes from event.NewID.
func NewEvent(id string, t time.Time, it Item, v *Verdict) *event.Event {
	e := &event.Event{
		ID:         id,
		Time:       t.UTC(),
		Channel:    string(it.Channel),
		Client:     it.Client,
		Sender:     it.Sender,
		Recipients: it.Recipients,
		Host:       it.Host,
		Verdict:    string(rules.Allow),
	}
	if v == nil {
		return e
	}
	FillEvent(e, v)
	if v.Header != nil && len(e.Recipients) == 0 {
		e.Recipients = append(append(append([]string(nil), v.Header.To...), v.Header.Cc...), v.Header.Bcc...)
	}
	return e
}

// FillEvent copies what the verdict says into e: verdict, the message's
// ids, reasons with articles, counts and masked samples per detector,
// attachments and their encryption, and the ledger flag (an allowed item
// that carried an encrypted attachment: 第11条(2)(4) 管理簿). Nothing it
// writes holds a detected value in clear; a Subject that held one is
// written "(masked)".
func FillEvent(e *event.Event, v *Verdict) {
	e.Verdict = string(v.Verdict)
	if v.Monitor {
		e.Verdict = "monitor"
	}
	if v.Header != nil {
		e.MessageID = v.Header.MessageID
		e.Subject = v.Header.Subject
		if v.SubjectHasFinding() {
			e.Subject = "(masked)"
		}
	}
	for _, r := range v.Reasons {
		e.Reasons = append(e.Reasons, event.Reason{Code: r.Code, Article: r.Article, Place: r.Place, Detail: r.Detail})
	}
	e.Detectors = detectorCounts(v)
	for _, pl := range v.Places {
		if pl.Kind != rules.PlaceAttachment {
			continue
		}
		e.Attachments = append(e.Attachments, event.Attachment{
			Name: pl.Name, Type: pl.Type, Size: pl.Size, Encrypted: pl.Encrypted || pl.EncryptedInside,
			Encryption: pl.Encryption, Uninspectable: strings.Join(pl.Uninspectable, "; "),
		})
	}
	if len(v.Places) == 0 { // a verdict made without places: top-level attachment parts
		for _, p := range v.Parts {
			if p.Role == "attachment" && !strings.Contains(strings.TrimPrefix(p.Path, "attachment["), "/") {
				e.Attachments = append(e.Attachments, event.Attachment{Name: p.Name, Type: p.Type, Size: p.Size,
					Encrypted: p.Encrypted, Encryption: p.Encryption, Uninspectable: p.Uninspectable})
			}
		}
	}
	e.Ledger = v.Verdict == rules.Allow && !v.Monitor && v.CarriesEncrypted()
}

// detectorCounts are the distinct-value counts and masked samples per
// detector, from the item's tally or, without one, from its parts.
func detectorCounts(v *Verdict) []event.DetectorCount {
	var out []event.DetectorCount
	if v.Findings != nil {
		for _, id := range v.Findings.Detectors() {
			n, _ := v.Findings.Count(id)
			dc := event.DetectorCount{Detector: id, Count: n}
			for _, s := range v.Findings.Samples(id, MaxSamples) {
				dc.Masked = append(dc.Masked, s.Masked)
			}
			out = append(out, dc)
		}
		return out
	}
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
	for id, n := range counts {
		m := masked[id]
		if len(m) > MaxSamples {
			m = m[:MaxSamples]
		}
		out = append(out, event.DetectorCount{Detector: id, Count: n, Masked: m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Detector < out[j].Detector })
	return out
}

// SubjectHasFinding reports whether the Subject itself held a detected
// value (it must then not be repeated in events or notices).
func (v *Verdict) SubjectHasFinding() bool {
	for _, p := range v.Parts {
		if p.Path == "subject" {
			return len(p.Findings) > 0
		}
	}
	return false
}

// CarriesEncrypted reports whether the item carries an encrypted
// attachment (or uploaded file), at any depth.
func (v *Verdict) CarriesEncrypted() bool {
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
