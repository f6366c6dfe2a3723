package rules

import (
	"maps"
	"slices"
	"strings"

	"github.com/sekisho-dlp/sekisho/detectors"
)

// merge returns def extended by site: maps merge key by key (a field given
// in site wins), lists add site's entries to def's, and a list entry "!x"
// removes x from def's list. Errors (a removal that removes nothing) name
// site's fields.
func (c *compiler) merge(def, site *Document, src *Source, path string) Document {
	m := *def
	m.Detectors = maps.Clone(def.Detectors)
	m.Reasons = maps.Clone(def.Reasons)
	m.AllowValues = maps.Clone(def.AllowValues)
	m.Groups = maps.Clone(def.Groups)
	m.Custom = slices.Clone(def.Custom)
	m.Rules = slices.Clone(def.Rules)
	m.Attachments.Exempt = slices.Clone(def.Attachments.Exempt)
	if site == nil {
		return m
	}
	if m.Detectors == nil {
		m.Detectors = map[string]DetectorDoc{}
	}
	if m.Reasons == nil {
		m.Reasons = map[string]ReasonDoc{}
	}
	if m.AllowValues == nil {
		m.AllowValues = map[string][]string{}
	}
	if m.Groups == nil {
		m.Groups = map[string][]string{}
	}
	m.Monitor = def.Monitor || site.Monitor
	for id, sd := range site.Detectors {
		cur := m.Detectors[id]
		if sd.PII != nil {
			cur.PII = sd.PII
		}
		if sd.Threshold != nil {
			cur.Threshold = sd.Threshold
		}
		m.Detectors[id] = cur
	}
	m.Custom = append(m.Custom, site.Custom...)
	if site.CustomTimeout != "" {
		m.CustomTimeout = site.CustomTimeout
	}
	for code, sr := range site.Reasons {
		cur := m.Reasons[code]
		if sr.Article != "" {
			cur.Article = sr.Article
		}
		if sr.HTTPArticle != "" {
			cur.HTTPArticle = sr.HTTPArticle
		}
		if sr.Action != "" {
			cur.Action = sr.Action
		}
		m.Reasons[code] = cur
	}
	if site.Attachments.Mode != "" {
		m.Attachments.Mode = site.Attachments.Mode
	}
	m.Attachments.Exempt = append(m.Attachments.Exempt, site.Attachments.Exempt...)
	for id, vals := range site.AllowValues {
		m.AllowValues[id] = append(slices.Clone(m.AllowValues[id]), vals...)
	}
	for name, members := range site.Groups {
		m.Groups[name] = members
	}
	m.Rules = append(m.Rules, site.Rules...)
	fp, hp := join(path, "fax"), join(path, "hosts")
	m.Fax.LocalParts = c.mergeList(def.Fax.LocalParts, site.Fax.LocalParts, src, join(fp, "local_parts"))
	m.Fax.Domains = c.mergeList(def.Fax.Domains, site.Fax.Domains, src, join(fp, "domains"))
	m.Fax.NumberDomains = c.mergeList(def.Fax.NumberDomains, site.Fax.NumberDomains, src, join(fp, "number_domains"))
	m.Hosts.WebFax = c.mergeList(def.Hosts.WebFax, site.Hosts.WebFax, src, join(hp, "web_fax"))
	m.Hosts.Blocked = c.mergeList(def.Hosts.Blocked, site.Hosts.Blocked, src, join(hp, "blocked"))
	m.Hosts.UploadAllowlist = c.mergeList(def.Hosts.UploadAllowlist, site.Hosts.UploadAllowlist, src, join(hp, "upload_allowlist"))
	m.Hosts.NoIntercept = c.mergeList(def.Hosts.NoIntercept, site.Hosts.NoIntercept, src, join(hp, "no_intercept"))
	if site.QuarantineRejected != nil {
		m.QuarantineRejected = site.QuarantineRejected
	}
	return m
}

// mergeList adds add's entries to base; an entry "!x" removes x.
func (c *compiler) mergeList(base, add []string, src *Source, path string) []string {
	out := slices.Clone(base)
	for i, s := range add {
		if v, ok := strings.CutPrefix(s, "!"); ok {
			j := slices.IndexFunc(out, func(e string) bool { return strings.EqualFold(e, v) })
			if j < 0 {
				c.errorf(src, index(path, i), "%q removes nothing: %q is not in the default policy", s, v)
				continue
			}
			out = slices.Delete(out, j, j+1)
			continue
		}
		if !slices.ContainsFunc(out, func(e string) bool { return strings.EqualFold(e, s) }) {
			out = append(out, s)
		}
	}
	return out
}

// build compiles a validated, merged document.
func (c *compiler) build(d Document, opt Options) *Policy {
	p := &Policy{
		doc:      d,
		pii:      map[string]int{},
		nonPII:   map[string]bool{},
		reasons:  d.Reasons,
		monitor:  d.Monitor,
		tempfail: d.CustomTimeout == ActionTempFail,
		mode:     d.Attachments.Mode,
		allow:    map[string]map[string]bool{},
	}
	p.ids = append(slices.Clone(c.builtinOrder), c.customOrder...)
	for _, id := range c.builtinOrder {
		dd, ok := d.Detectors[id]
		if !ok {
			continue
		}
		if dd.PII != nil && *dd.PII && id != detectors.CorporateNumber {
			t := 1
			if dd.Threshold != nil {
				t = *dd.Threshold
			}
			p.pii[id] = t
		} else {
			p.nonPII[id] = true
		}
	}
	dets := opt.Builtin
	if dets == nil {
		dets = detectors.Builtin()
	}
	dets = slices.Clone(dets)
	var specs []detectors.CustomSpec
	for _, cd := range d.Custom {
		cu := c.customs[cd.ID]
		p.customs = append(p.customs, cu)
		specs = append(specs, cu.Spec())
		if cd.PII == nil || *cd.PII {
			t := cd.Threshold
			if t == 0 {
				t = 1
			}
			p.pii[cd.ID] = t
		} else {
			p.nonPII[cd.ID] = true
		}
	}
	if len(specs) > 0 {
		g, err := detectors.NewCustomGroup(specs)
		if err != nil { // cannot happen: every spec compiled once already
			c.errs = append(c.errs, &FieldError{Field: "custom_detectors", Msg: err.Error()})
		} else {
			dets = append(dets, g)
		}
	}
	p.engine = detectors.NewEngine(dets...)
	for _, e := range d.Attachments.Exempt {
		p.exempt = append(p.exempt, exempt{types: e.Types, names: e.Names, maxBytes: int64(e.MaxBytes)})
	}
	for id, vals := range d.AllowValues {
		set := map[string]bool{}
		for _, v := range vals {
			keys, _ := c.allowKeys(id, v)
			for _, k := range keys {
				set[k] = true
			}
		}
		p.allow[id] = set
	}
	groups := map[string]addrMatcher{}
	for name, members := range d.Groups {
		for _, m := range members {
			ap, _ := parseAddrPattern(m)
			groups[name] = append(groups[name], ap)
		}
	}
	addrs := func(list []string) addrMatcher {
		var out addrMatcher
		for _, s := range list {
			if g, ok := strings.CutPrefix(s, "group:"); ok {
				out = append(out, groups[g]...)
				continue
			}
			ap, _ := parseAddrPattern(s)
			out = append(out, ap)
		}
		return out
	}
	for _, rd := range d.Rules {
		r := rule{
			name: rd.Name, channel: Channel(rd.Channel),
			senders: addrs(rd.Senders), recipients: addrs(rd.Recipients),
			hasSenders: len(rd.Senders) > 0, hasRcpt: len(rd.Recipients) > 0,
			hosts: newDomainSet(rd.Hosts), exempt: map[string]bool{},
			actions: rd.Actions, monitor: rd.Monitor, mode: rd.AttachmentMode,
		}
		for _, e := range rd.Exempt {
			if e == "all" {
				r.exemptAll = true
			}
			r.exempt[e] = true
		}
		p.rules = append(p.rules, r)
	}
	for _, s := range d.Fax.LocalParts {
		re, _ := compileLocalPart(s)
		p.faxLocal = append(p.faxLocal, re)
	}
	p.faxDomains = newDomainSet(d.Fax.Domains)
	p.faxNumberDomains = newDomainSet(d.Fax.NumberDomains)
	p.webFax = newDomainSet(d.Hosts.WebFax)
	p.blocked = newDomainSet(d.Hosts.Blocked)
	p.uploadAllow = newDomainSet(d.Hosts.UploadAllowlist)
	p.noIntercept = newDomainSet(d.Hosts.NoIntercept)
	p.mailBlock = opt.MailBlockAction
	if p.mailBlock == "" {
		p.mailBlock = ActionBounce
	}
	p.quarantineRejected = d.QuarantineRejected != nil && *d.QuarantineRejected
	return p
}
