package rules

// Verdict is the outcome of a decision.
type Verdict string

const (
	Allow Verdict = "allow"
	Block Verdict = "block"
)

// Reason codes. Each names an article of the 情報セキュリティ特記仕様書.
const (
	ReasonFax                   = "fax"                    // 第11条(6)
	ReasonPIIInBody             = "pii_in_body"            // 第11条(7)
	ReasonUnencryptedAttachment = "unencrypted_attachment" // 第11条(7) (mail) / 第11条(10)イ (web)
	ReasonUninspectable         = "uninspectable"
	ReasonCleartextUpload       = "cleartext_upload" // 第11条(10)イ
	ReasonBlockedHost           = "blocked_host"
)

// Reason is one reason to block, with what it applies to.
type Reason struct {
	Code    string `json:"code"`
	Article string `json:"article"` // e.g. "第11条(7)"
	// Place is the place name ("body", "attachment[2] 名簿.xlsx"), or "" for
	// envelope reasons such as fax.
	Place string `json:"place,omitempty"`
	// Recipients the reason applies to (fax).
	Recipients []string `json:"recipients,omitempty"`
	// Counts holds distinct-value counts per detector that crossed a threshold.
	Counts map[string]int `json:"counts,omitempty"`
	// Detail is a short English explanation, never holding a detected value.
	Detail string `json:"detail,omitempty"`
	// Action is what the policy says to do for this reason ("bounce",
	// "reject", "quarantine", "monitor").
	Action string `json:"action,omitempty"`
}

// Decision is the policy's answer for one item.
type Decision struct {
	Verdict Verdict  `json:"verdict"`
	Reasons []Reason `json:"reasons,omitempty"`
	// Action is the action to take for a block: "bounce", "reject" or
	// "quarantine" for mail, "reject" or "quarantine" for HTTP, "tempfail"
	// (see TempFail), "monitor" when Monitor is set; "" for allow.
	Action string `json:"action,omitempty"`
	// Monitor is true when the policy decided to block but only records
	// (monitor mode): the item passes.
	Monitor bool `json:"monitor,omitempty"`
	// PII is true when some place carried personal information in clear
	// (a threshold was crossed), whether or not that blocked the item: an
	// allowed item with PII went to an allowlisted or exempted destination
	// and is a ledger entry.
	PII bool `json:"pii,omitempty"`
	// Quarantine is true when a blocked item must be kept in quarantine.
	Quarantine bool `json:"quarantine,omitempty"`
	// TempFail is true when the only reasons to block are custom detectors
	// that timed out and the policy says custom_timeout: tempfail: the
	// front end answers "try again later" (SMTP 451 4.7.0, HTTP 503) and
	// Action is "tempfail".
	TempFail bool `json:"tempfail,omitempty"`
}

// Codes returns the reason codes in order, without duplicates.
func (d Decision) Codes() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range d.Reasons {
		if !seen[r.Code] {
			seen[r.Code] = true
			out = append(out, r.Code)
		}
	}
	return out
}
