package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/sekisho-dlp/sekisho/detectors"
)

// Decide judges in under p. It is pure and safe for concurrent use.
//
// Mail (ChannelSMTP): fax for every recipient that is an email-to-FAX
// gateway; pii_in_body when the body (Subject and inline text) holds
// personal information; unencrypted_attachment when an attachment holds
// personal information (values can only be found in cleartext, at any
// depth), or, in attachment mode all, when an attachment is not encrypted
// and not exempt; uninspectable when part of a place could not be opened and
// is not recognisably encrypted, or a custom detector timed out.
//
// Web (ChannelHTTP): fax for a web-FAX host, blocked_host for a blocked
// host, and, unless the host is on the upload allowlist, cleartext_upload
// for personal information in form fields, raw bodies or files, and
// uninspectable.
//
// Personal information is present in a place when a detector that counts
// crosses its threshold of distinct values, after allowlisted values are
// left out. The first rule that matches the item may exempt reasons, change
// their actions, put them in monitor mode or change the attachment mode.
//
// The decision blocks when any reason applies. Its Action is the strongest
// enforced action (reject > bounce > quarantine); when every reason is in
// monitor mode the item passes with Monitor set and Action "monitor"; when
// the only enforced reasons are custom-detector timeouts under
// custom_timeout: tempfail, Action is "tempfail" and TempFail is set.
func (p *Policy) Decide(in Input) Decision {
	ch := in.Channel
	if ch == "" {
		ch = ChannelSMTP
	}
	in.Channel = ch
	r := p.matchRule(in)
	pii := false
	var reasons []Reason
	var tempfails []bool
	add := func(rs Reason, timeout bool) {
		if r != nil && (r.exemptAll || r.exempt[rs.Code]) {
			return
		}
		rs.Article = p.article(rs.Code, ch)
		rs.Action = p.action(rs.Code, ch, r)
		reasons = append(reasons, rs)
		tempfails = append(tempfails, timeout && p.tempfail && rs.Action != ActionMonitor)
	}

	if ch == ChannelHTTP {
		for _, rs := range p.hostReasons(in.Host) {
			add(rs, false)
		}
		allowlisted := p.HostAllowlisted(in.Host)
		for _, pl := range in.Places {
			if allowlisted && len(p.crossed(pl.Findings)) > 0 {
				pii = true // to an approved destination: a ledger entry
			}
		}
		if !allowlisted {
			for _, pl := range in.Places {
				if counts := p.crossed(pl.Findings); len(counts) > 0 {
					pii = true
					what := "form fields or request body"
					if pl.Kind == PlaceAttachment {
						what = "an uploaded file that is not encrypted"
					}
					add(Reason{Code: ReasonCleartextUpload, Place: pl.Name, Counts: counts,
						Detail: "personal information in " + what + ", sent to a destination not on the upload allowlist"}, false)
				}
				p.uninspectable(pl, add)
			}
		}
	} else {
		var fax []string
		for _, a := range in.Recipients {
			if p.IsFaxRecipient(a) {
				fax = append(fax, a)
			}
		}
		if len(fax) > 0 {
			add(Reason{Code: ReasonFax, Recipients: fax, Detail: "recipient is an email-to-FAX gateway"}, false)
		}
		mode := p.mode
		if r != nil && r.mode != "" {
			mode = r.mode
		}
		for _, pl := range in.Places {
			counts := p.crossed(pl.Findings)
			pii = pii || len(counts) > 0
			switch {
			case pl.Kind != PlaceAttachment:
				if len(counts) > 0 {
					add(Reason{Code: ReasonPIIInBody, Place: pl.Name, Counts: counts,
						Detail: "personal information in the message body or Subject"}, false)
				}
			case len(counts) > 0:
				add(Reason{Code: ReasonUnencryptedAttachment, Place: pl.Name, Counts: counts,
					Detail: "personal information in an attachment that is not encrypted"}, false)
			case mode == ModeAll && !pl.Encrypted && !pl.EncryptedInside && !p.exempted(pl):
				add(Reason{Code: ReasonUnencryptedAttachment, Place: pl.Name,
					Detail: "attachment is not encrypted (attachment mode all)"}, false)
			}
			p.uninspectable(pl, add)
		}
	}
	d := p.finish(reasons, tempfails)
	d.PII = pii
	return d
}

// uninspectable adds the reasons for parts that could not be inspected and
// for custom detectors that timed out in pl.
func (p *Policy) uninspectable(pl Place, add func(Reason, bool)) {
	if n := len(pl.Uninspectable); n > 0 {
		detail := pl.Uninspectable[0]
		if n > 1 {
			detail = fmt.Sprintf("%s (and %d more)", detail, n-1)
		}
		add(Reason{Code: ReasonUninspectable, Place: pl.Name, Detail: "could not be inspected and is not recognisably encrypted: " + detail}, false)
	}
	if pl.Findings == nil {
		return
	}
	for _, id := range pl.Findings.Detectors() {
		if c, ok := strings.CutPrefix(id, detectors.TimeoutPrefix); ok {
			add(Reason{Code: ReasonUninspectable, Place: pl.Name, Detail: "custom detector " + c + " timed out"}, true)
		}
	}
}

// crossed returns the counts of the detectors that count as personal
// information and reach their threshold in t, allowlisted values left out.
func (p *Policy) crossed(t *detectors.Tally) map[string]int {
	if t == nil {
		return nil
	}
	var out map[string]int
	for id, th := range p.pii {
		allow := p.allow[id]
		var skip func(string) bool
		if len(allow) > 0 {
			skip = func(k string) bool { return allow[k] }
		}
		n, sat := t.CountExcept(id, skip)
		if n >= th || sat {
			if out == nil {
				out = map[string]int{}
			}
			out[id] = n
		}
	}
	return out
}

// exempted reports whether an attachment needs no encryption in mode all.
func (p *Policy) exempted(pl Place) bool {
	name := pl.Name
	if strings.HasPrefix(name, "attachment[") {
		if _, rest, ok := strings.Cut(name, " "); ok {
			name = rest
		} else {
			name = ""
		}
	}
	name = strings.ToLower(path.Base(strings.ReplaceAll(name, "\\", "/")))
	typ := strings.ToLower(pl.Type)
	for _, e := range p.exempt {
		if len(e.types) > 0 && !matchType(e.types, typ) {
			continue
		}
		if len(e.names) > 0 && !matchName(e.names, name) {
			continue
		}
		if e.maxBytes > 0 && pl.Size > e.maxBytes {
			continue
		}
		return true
	}
	return false
}

func matchType(types []string, typ string) bool {
	for _, t := range types {
		t = strings.ToLower(t)
		if prefix, ok := strings.CutSuffix(t, "*"); ok {
			if strings.HasPrefix(typ, prefix) {
				return true
			}
		} else if t == typ {
			return true
		}
	}
	return false
}

func matchName(globs []string, name string) bool {
	if name == "" || name == "." {
		return false
	}
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), name); ok {
			return true
		}
	}
	return false
}

// hostReasons returns fax for a web-FAX host and blocked_host for a blocked one.
func (p *Policy) hostReasons(host string) []Reason {
	h := NormalizeHost(host)
	switch {
	case p.webFax.match(h):
		return []Reason{{Code: ReasonFax, Detail: "destination is a web-FAX service"}}
	case p.blocked.match(h):
		return []Reason{{Code: ReasonBlockedHost, Detail: "destination host is blocked by policy"}}
	}
	return nil
}

// HostDecision judges a destination host alone, as the proxy's CONNECT
// stage needs: blocked is true for a web-FAX host (reason fax) or a blocked
// host (reason blocked_host) whose action is enforced. When the reason is in
// monitor mode, blocked is false and reason is still set (Action "monitor"),
// so that the proxy can record it. Rules that name hosts (and no senders or
// recipients) apply.
func (p *Policy) HostDecision(host string) (blocked bool, reason Reason) {
	in := Input{Channel: ChannelHTTP, Host: host}
	r := p.matchRule(in)
	for _, rs := range p.hostReasons(host) {
		if r != nil && (r.exemptAll || r.exempt[rs.Code]) {
			continue
		}
		rs.Article = p.article(rs.Code, ChannelHTTP)
		rs.Action = p.action(rs.Code, ChannelHTTP, r)
		return rs.Action != ActionMonitor, rs
	}
	return false, Reason{}
}

// matchRule returns the first rule that matches in, or nil.
func (p *Policy) matchRule(in Input) *rule {
	host := NormalizeHost(in.Host)
	for i := range p.rules {
		r := &p.rules[i]
		if r.channel != "" && r.channel != in.Channel {
			continue
		}
		if r.hasSenders && !r.senders.match(in.Sender) {
			continue
		}
		if r.hasRcpt {
			if len(in.Recipients) == 0 {
				continue
			}
			all := true
			for _, a := range in.Recipients {
				if !r.recipients.match(a) {
					all = false
					break
				}
			}
			if !all {
				continue
			}
		}
		if !r.hosts.empty() && !r.hosts.match(host) {
			continue
		}
		return r
	}
	return nil
}

func (p *Policy) article(code string, ch Channel) string {
	rd := p.reasons[code]
	if ch == ChannelHTTP && rd.HTTPArticle != "" {
		return rd.HTTPArticle
	}
	return rd.Article
}

// action resolves a reason's action for a channel: a rule's action wins
// over the policy's; monitor mode (policy or rule) wins over both; "block"
// becomes the channel's block action; the web cannot bounce, so bounce
// becomes reject there.
func (p *Policy) action(code string, ch Channel, r *rule) string {
	a := p.reasons[code].Action
	if r != nil {
		if ra, ok := r.actions[code]; ok {
			a = ra
		}
	}
	if a == "" {
		a = ActionBlock
	}
	if p.monitor || (r != nil && r.monitor) || a == ActionMonitor {
		return ActionMonitor
	}
	if a == ActionBlock {
		if ch == ChannelHTTP {
			return ActionReject
		}
		return p.mailBlock
	}
	if ch == ChannelHTTP && a == ActionBounce {
		return ActionReject
	}
	return a
}

var actionRank = map[string]int{ActionQuarantine: 1, ActionBounce: 2, ActionReject: 3}

// finish turns reasons into a decision.
func (p *Policy) finish(reasons []Reason, tempfails []bool) Decision {
	if len(reasons) == 0 {
		return Decision{Verdict: Allow}
	}
	d := Decision{Verdict: Block, Reasons: reasons}
	enforced, onlyTempfail := 0, true
	for i, rs := range reasons {
		if rs.Action == ActionMonitor {
			continue
		}
		enforced++
		if tempfails[i] {
			continue
		}
		onlyTempfail = false
		if actionRank[rs.Action] > actionRank[d.Action] {
			d.Action = rs.Action
		}
		if rs.Action == ActionBounce || rs.Action == ActionQuarantine {
			d.Quarantine = true
		}
	}
	switch {
	case enforced == 0:
		d.Monitor = true
		d.Action = ActionMonitor
	case onlyTempfail:
		d.TempFail = true
		d.Action = ActionTempFail
		for i := range d.Reasons {
			if tempfails[i] {
				d.Reasons[i].Action = ActionTempFail
			}
		}
	default:
		if d.Action == ActionReject && p.quarantineRejected {
			d.Quarantine = true
		}
	}
	return d
}
