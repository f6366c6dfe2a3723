package gateway

import (
	"sort"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/rules"
)

// NewEvent builds the event of an inspected item: the decision, masked
// samples, attachments. The front end fills in Action (what it did),
// QuarantineID, Error and DurationMS. id comes from event.NewID.
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
	e.Verdict = string(v.Verdict)
	if v.Monitor {
		e.Verdict = "monitor"
	}
	if v.Header != nil {
		e.MessageID = v.Header.MessageID
		if len(e.Recipients) == 0 {
			e.Recipients = append(append(append([]string(nil), v.Header.To...), v.Header.Cc...), v.Header.Bcc...)
		}
		e.Subject = "(masked)"
		if subjectClean(v) {
			e.Subject = v.Header.Subject
		}
	}
	for _, r := range v.Reasons {
		e.Reasons = append(e.Reasons, event.Reason{Code: r.Code, Article: r.Article, Place: r.Place, Detail: r.Detail})
	}
	if v.Findings != nil {
		for _, id := range v.Findings.Detectors() {
			n, _ := v.Findings.Count(id)
			dc := event.DetectorCount{Detector: id, Count: n}
			for _, s := range v.Findings.Samples(id, MaxSamples) {
				dc.Masked = append(dc.Masked, s.Masked)
			}
			e.Detectors = append(e.Detectors, dc)
		}
		sort.Slice(e.Detectors, func(i, j int) bool { return e.Detectors[i].Detector < e.Detectors[j].Detector })
	}
	encrypted := false
	for _, p := range v.Places {
		if p.Kind != rules.PlaceAttachment {
			continue
		}
		a := event.Attachment{Name: p.Name, Type: p.Type, Size: p.Size, Encrypted: p.Encrypted, Encryption: p.Encryption}
		if len(p.Uninspectable) > 0 {
			a.Uninspectable = p.Uninspectable[0]
		}
		encrypted = encrypted || p.Encrypted || p.EncryptedInside
		e.Attachments = append(e.Attachments, a)
	}
	// 第11条(2)(4) 管理簿: information that left in the permitted way.
	e.Ledger = v.Verdict == rules.Allow && encrypted
	return e
}

// subjectClean reports whether the Subject part had no finding, so that it
// may be stored in the event as it is.
func subjectClean(v *Verdict) bool {
	for _, p := range v.Parts {
		if p.Path == "subject" {
			return len(p.Findings) == 0
		}
	}
	return true
}
