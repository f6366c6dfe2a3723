package rules

// Document is a policy as written in YAML: the embedded default.yaml, a
// stand-alone policy file, or the policy: section of sekisho.yaml. A site's
// document extends the default (see Merge): maps merge key by key, lists
// add to the default's, and a list entry "!x" removes the default entry x.
type Document struct {
	// Monitor puts the whole policy in monitor mode: decide and record, but
	// let everything pass.
	Monitor bool `yaml:"monitor"`
	// Detectors sets, per built-in detector, whether it counts as personal
	// information and its threshold (distinct values in one place).
	Detectors map[string]DetectorDoc `yaml:"detectors"`
	// Custom are the site's own detectors.
	Custom []CustomDoc `yaml:"custom_detectors"`
	// CustomTimeout is what a custom detector's timeout yields:
	// "uninspectable" (block, the default) or "tempfail" (try again later).
	CustomTimeout string `yaml:"custom_timeout"`
	// Reasons gives each reason its article and action.
	Reasons map[string]ReasonDoc `yaml:"reasons"`
	// Attachments is the attachment mode.
	Attachments AttachmentsDoc `yaml:"attachments"`
	// AllowValues lists, per detector, values that never count (the
	// company's own phone numbers and address).
	AllowValues map[string][]string `yaml:"allow_values"`
	// Groups names lists of sender/recipient patterns for rules ("group:NAME").
	Groups map[string][]string `yaml:"groups"`
	// Rules are per sender/recipient/host exceptions; the first that matches applies.
	Rules []RuleDoc `yaml:"rules"`
	// Fax recognises email-to-FAX gateways.
	Fax FaxDoc `yaml:"fax"`
	// Hosts lists web destinations (HTTP proxy).
	Hosts HostsDoc `yaml:"hosts"`
	// QuarantineRejected keeps a copy of rejected items in quarantine too.
	QuarantineRejected *bool `yaml:"quarantine_rejected"`
}

// DetectorDoc sets how a built-in detector counts.
type DetectorDoc struct {
	PII       *bool `yaml:"pii"`
	Threshold *int  `yaml:"threshold"`
}

// CustomDoc is a custom detector.
type CustomDoc struct {
	ID           string      `yaml:"id"`
	Description  string      `yaml:"description"`
	Pattern      string      `yaml:"pattern"`
	IgnoreCase   bool        `yaml:"ignore_case"`
	Group        int         `yaml:"group"`
	Keywords     []string    `yaml:"keywords"`
	Proximity    int         `yaml:"proximity"`
	Validator    string      `yaml:"validator"`
	Normalize    string      `yaml:"normalize"`
	MatchTimeout Duration    `yaml:"match_timeout"`
	Threshold    int         `yaml:"threshold"`
	PII          *bool       `yaml:"pii"`
	Examples     ExamplesDoc `yaml:"examples"`
}

// ExamplesDoc are a custom detector's tests, run when the policy is loaded.
type ExamplesDoc struct {
	Match   []string `yaml:"match"`
	NoMatch []string `yaml:"no_match"`
}

// ReasonDoc gives a reason its article and action.
type ReasonDoc struct {
	Article     string `yaml:"article"`
	HTTPArticle string `yaml:"http_article"`
	// Action: block (the channel's block action: bounce for mail by default,
	// reject for the web), bounce, reject, quarantine or monitor.
	Action string `yaml:"action"`
}

// AttachmentsDoc is the attachment mode.
type AttachmentsDoc struct {
	// Mode: pii (only an unencrypted attachment with personal information is
	// blocked) or all (every attachment must be encrypted).
	Mode string `yaml:"mode"`
	// Exempt lists attachments that need no encryption in mode all.
	Exempt []ExemptDoc `yaml:"exempt"`
}

// ExemptDoc matches attachments exempt from mode all: the type is one of
// Types (or Types is empty), the file name matches one of Names (or Names
// is empty), and the size is at most MaxBytes (or MaxBytes is 0).
type ExemptDoc struct {
	Types    []string `yaml:"types"`
	Names    []string `yaml:"names"`
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// RuleDoc is a per sender/recipient/host rule. It applies when every given
// condition holds: the channel, the sender, every recipient, the host.
type RuleDoc struct {
	Name           string            `yaml:"name"`
	Channel        string            `yaml:"channel"`
	Senders        []string          `yaml:"senders"`
	Recipients     []string          `yaml:"recipients"`
	Hosts          []string          `yaml:"hosts"`
	Exempt         []string          `yaml:"exempt"`
	Actions        map[string]string `yaml:"actions"`
	Monitor        bool              `yaml:"monitor"`
	AttachmentMode string            `yaml:"attachment_mode"`
}

// FaxDoc recognises email-to-FAX gateways.
type FaxDoc struct {
	// LocalParts are regular expressions (Go syntax, case-insensitive)
	// matched against the whole local part after NFKC.
	LocalParts []string `yaml:"local_parts"`
	// Domains are gateways whatever the local part ("fax.tc", "*.tpc.int").
	Domains []string `yaml:"domains"`
	// NumberDomains are gateways only when the local part is a number of
	// 10 to 15 digits.
	NumberDomains []string `yaml:"number_domains"`
}

// HostsDoc lists web destinations.
type HostsDoc struct {
	WebFax          []string `yaml:"web_fax"`
	Blocked         []string `yaml:"blocked"`
	UploadAllowlist []string `yaml:"upload_allowlist"`
	NoIntercept     []string `yaml:"no_intercept"`
}
