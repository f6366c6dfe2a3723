// Package rules holds sekisho's policy as data and the decision.
//
// The default policy is an embedded YAML document (default.yaml); a site's
// configuration extends it. Decide is pure: it looks at an Input (envelope
// and the tallies of each place) and returns a Decision with reasons that
// each name their article of the 情報セキュリティ特記仕様書.
package rules

// Policy is a compiled policy. (Placeholder: filled in by the rules work.)
type Policy struct{}

// Default returns the embedded default policy.
func Default() *Policy { return &Policy{} }

// Decide judges in under p.
func (p *Policy) Decide(in Input) Decision { return Decision{Verdict: Allow} }

// IsFaxRecipient reports whether addr is an email-to-FAX gateway address.
func (p *Policy) IsFaxRecipient(addr string) bool { return false }
