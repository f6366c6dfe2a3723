// Package rules holds sekisho's policy as data and the decision.
//
// The default policy is an embedded YAML document (default.yaml); a site's
// configuration extends it (Compile). Decide is pure: it looks at an Input
// (envelope and the tallies of each place) and returns a Decision with
// reasons that each name their article of the 情報セキュリティ特記仕様書.
package rules

import (
	_ "embed"
	"regexp"
	"sync"

	"github.com/sekisho-dlp/sekisho/detectors"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default policy document.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Actions a reason may take.
const (
	ActionBlock      = "block" // the channel's block action (resolved in decisions)
	ActionBounce     = "bounce"
	ActionReject     = "reject"
	ActionQuarantine = "quarantine"
	ActionMonitor    = "monitor"
	// ActionTempFail is the decision's action when only custom-detector
	// timeouts apply and custom_timeout is tempfail: try again later.
	ActionTempFail = "tempfail"
)

// Attachment modes.
const (
	ModePII = "pii"
	ModeAll = "all"
)

// Policy is a compiled policy. It is immutable and safe for concurrent use.
type Policy struct {
	doc      Document // merged
	engine   *detectors.Engine
	customs  []*detectors.Custom
	ids      []string       // every detector the policy knows, built-in first
	pii      map[string]int // detector → threshold, for detectors that count as personal information
	nonPII   map[string]bool
	reasons  map[string]ReasonDoc
	monitor  bool
	tempfail bool // custom timeouts yield a tempfail rather than uninspectable
	mode     string
	exempt   []exempt
	allow    map[string]map[string]bool // detector → allowlisted keys
	rules    []rule

	faxLocal                                  []*regexp.Regexp
	faxDomains, faxNumberDomains              domainSet
	webFax, blocked, uploadAllow, noIntercept domainSet
	mailBlock                                 string
	quarantineRejected                        bool
}

type exempt struct {
	types    []string
	names    []string
	maxBytes int64
}

type rule struct {
	name                string
	channel             Channel
	senders, recipients addrMatcher
	hasSenders, hasRcpt bool
	hosts               domainSet
	exemptAll           bool
	exempt              map[string]bool
	actions             map[string]string
	monitor             bool
	mode                string
}

// defaultPolicy is compiled once; the result is immutable.
var defaultPolicy = sync.OnceValue(func() *Policy {
	p, err := Compile(nil, nil, "", Options{})
	if err != nil {
		panic("rules: the embedded default policy is invalid: " + err.Error())
	}
	return p
})

// Default returns the embedded default policy.
func Default() *Policy { return defaultPolicy() }

// Engine returns the detectors in force: the built-in ones and the
// policy's custom detectors. The scan of a part must use this engine for
// the policy's custom detectors (and their timeouts) to count.
func (p *Policy) Engine() *detectors.Engine { return p.engine }

// Document returns the merged policy document (default plus site).
func (p *Policy) Document() Document { return p.doc }

// DetectorIDs lists every detector the policy knows, built-in first.
func (p *Policy) DetectorIDs() []string { return append([]string(nil), p.ids...) }

// Threshold returns the threshold of a detector that counts as personal
// information, and false for a detector that does not.
func (p *Policy) Threshold(id string) (int, bool) {
	t, ok := p.pii[id]
	return t, ok
}

// Monitor reports whether the whole policy is in monitor mode.
func (p *Policy) Monitor() bool { return p.monitor }

// AttachmentMode returns the attachment mode ("pii" or "all").
func (p *Policy) AttachmentMode() string { return p.mode }

// Intercept reports whether the proxy may intercept (MITM) TLS to host: false
// for the hosts listed in hosts.no_intercept.
func (p *Policy) Intercept(host string) bool { return !p.noIntercept.match(NormalizeHost(host)) }

// HostAllowlisted reports whether uploads of personal information to host are
// allowed (hosts.upload_allowlist: an approved transfer service).
func (p *Policy) HostAllowlisted(host string) bool { return p.uploadAllow.match(NormalizeHost(host)) }
