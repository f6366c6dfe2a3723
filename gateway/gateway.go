// Package gateway is sekisho's inspection pipeline, shared by the SMTP relay
// and the HTTP proxy:
//
//	message or upload → extract parts (gateway/extract)
//	                  → detect (detectors)
//	                  → decide (rules)
//	                  → act (the front end: forward / reject / bounce / quarantine)
//	                  → record event (gateway/event)
//
// Inspector.Inspect runs the first three stages and returns a Verdict; the
// front ends (gateway/smtprelay, gateway/httpproxy) act on it and record the
// outcome. Nothing in a Verdict holds a detected value in clear.
package gateway

import (
	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// Verdict is the result of inspecting one item.
type Verdict struct {
	rules.Decision
	// Header summarises the message header (nil for uploads).
	Header *extract.Header
	// Places are what the policy judged: the body and each attachment.
	Places []rules.Place
	// Parts lists every part found, in document order.
	Parts []PartReport
	// Findings is the union of all places' findings.
	Findings *detectors.Tally
}

// PartReport describes one part for reports and events.
type PartReport struct {
	Path          string              `json:"path"`
	Name          string              `json:"name,omitempty"`
	Type          string              `json:"type"`
	Role          string              `json:"role"`
	Encrypted     bool                `json:"encrypted"`
	Encryption    string              `json:"encryption,omitempty"`
	Uninspectable string              `json:"uninspectable,omitempty"`
	Size          int64               `json:"size"`
	Findings      map[string]int      `json:"findings,omitempty"`
	Masked        map[string][]string `json:"masked,omitempty"`
	attachment    int
	depth         int
	container     bool
}

// MaxSamples is how many masked values per detector a report keeps.
const MaxSamples = 5
