package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sekisho-dlp/sekisho/detectors"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"
)

// Options are compile settings that come from outside the policy document.
type Options struct {
	// MailBlockAction is what the action "block" means for mail: "bounce"
	// (the default) or "reject" (smtp.block_mode).
	MailBlockAction string
	// Builtin are the built-in detectors (nil: detectors.Builtin()).
	Builtin []detectors.Detector
}

// Reason codes a policy knows.
var reasonCodes = []string{ReasonFax, ReasonPIIInBody, ReasonUnencryptedAttachment, ReasonUninspectable, ReasonCleartextUpload, ReasonBlockedHost}

// builtinIDs are the IDs of the built-in detectors, known even before a
// detector is implemented.
var builtinIDs = []string{detectors.MyNumber, detectors.CreditCard, detectors.Phone, detectors.Address, detectors.CorporateNumber}

var validActions = []string{ActionBlock, ActionBounce, ActionReject, ActionQuarantine, ActionMonitor}

// DecodeDocument decodes a policy document from node (a mapping). Errors
// name src's file, the line and the field under path.
func DecodeDocument(node *yaml.Node, src *Source, path string) (*Document, error) {
	var d Document
	if errs := DecodeYAML(node, &d, src, path); len(errs) > 0 {
		return nil, errs.Err()
	}
	return &d, nil
}

// Parse parses and compiles a stand-alone policy file (the default extended
// by data). file names it in errors.
func Parse(data []byte, file string) (*Policy, error) {
	node, err := ParseYAML(data, file)
	if err != nil {
		return nil, err
	}
	src := NewSource(file)
	var doc Document
	// Compile even after decoding errors (the fields at fault stay unset),
	// so that one check reports every problem.
	errs := DecodeYAML(node, &doc, src, "")
	p, err := Compile(&doc, src, "", Options{})
	if err != nil {
		var es Errors
		if !errors.As(err, &es) {
			return nil, err
		}
		errs = append(errs, es...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// Load reads, parses and compiles a stand-alone policy file.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: cannot read the policy: %w", err)
	}
	return Parse(data, path)
}

// Compile validates site (which extends the embedded default; nil for the
// default alone) and compiles the result. src and path locate site's fields
// in errors. The returned error is an Errors listing every problem.
func Compile(site *Document, src *Source, path string, opt Options) (*Policy, error) {
	switch opt.MailBlockAction {
	case "", ActionBounce, ActionReject:
	default:
		return nil, Errors{{Field: "block_mode", Msg: fmt.Sprintf("%q is not bounce or reject", opt.MailBlockAction)}}
	}
	builtin := opt.Builtin
	if builtin == nil {
		builtin = detectors.Builtin()
	}
	c := &compiler{
		builtin: map[string]detectors.Detector{},
		known:   map[string]bool{},
		customs: map[string]*detectors.Custom{},
		groups:  map[string]bool{},
		rules:   map[string]bool{},
	}
	for _, id := range builtinIDs {
		c.known[id] = true
	}
	for _, d := range builtin {
		c.known[d.ID()] = true
		c.builtin[d.ID()] = d
		c.builtinOrder = append(c.builtinOrder, d.ID())
	}
	for _, id := range builtinIDs {
		if !slices.Contains(c.builtinOrder, id) {
			c.builtinOrder = append(c.builtinOrder, id)
		}
	}

	defSrc := NewSource("default.yaml")
	node, err := ParseYAML(defaultYAML, "default.yaml")
	if err != nil {
		return nil, err
	}
	def, err := DecodeDocument(node, defSrc, "")
	if err != nil {
		return nil, err
	}
	c.validate(def, defSrc, "", true)
	if site != nil {
		c.validate(site, src, path, false)
	}
	merged := c.merge(def, site, src, path)
	if len(c.errs) > 0 {
		return nil, c.errs.Err()
	}
	p := c.build(merged, opt)
	if len(p.pii) == 0 {
		c.errs = append(c.errs, src.Errorf(join(path, "detectors"), "no detector counts as personal information: the policy could never block personal information"))
	}
	if len(c.errs) > 0 {
		return nil, c.errs.Err()
	}
	return p, nil
}

type compiler struct {
	builtin      map[string]detectors.Detector
	builtinOrder []string
	known        map[string]bool // detector IDs: built-in and custom
	customs      map[string]*detectors.Custom
	customOrder  []string
	groups       map[string]bool
	rules        map[string]bool
	errs         Errors
}

func (c *compiler) errorf(src *Source, path, format string, args ...any) {
	c.errs = append(c.errs, src.Errorf(path, format, args...))
}

// validate checks one document. Custom detectors and groups are declared
// first, so that references to them in the same document resolve.
func (c *compiler) validate(d *Document, src *Source, path string, isDefault bool) {
	for i := range d.Custom {
		c.validateCustom(&d.Custom[i], src, index(join(path, "custom_detectors"), i))
	}
	for _, name := range sortedKeys(d.Groups) {
		members := d.Groups[name]
		p := join(join(path, "groups"), name)
		if !validName(name) {
			c.errorf(src, p, "group name %q must be letters, digits, '_' or '-'", name)
		}
		if c.groups[name] {
			c.errorf(src, p, "group %q is already defined", name)
		}
		c.groups[name] = true
		if len(members) == 0 {
			c.errorf(src, p, "a group needs at least one member")
		}
		for i, m := range members {
			if strings.HasPrefix(m, "group:") {
				c.errorf(src, index(p, i), "a group cannot hold another group")
				continue
			}
			if _, err := parseAddrPattern(m); err != nil {
				c.errorf(src, index(p, i), "%v", err)
			}
		}
	}
	for _, id := range sortedKeys(d.Detectors) {
		dd := d.Detectors[id]
		p := join(join(path, "detectors"), id)
		switch {
		case c.customs[id] != nil:
			c.errorf(src, p, "%q is a custom detector: set pii and threshold in its custom_detectors entry", id)
			continue
		case !c.known[id]:
			c.errorf(src, p, "unknown detector (known: %s)", strings.Join(c.builtinOrder, ", "))
			continue
		}
		if dd.Threshold != nil && (*dd.Threshold < 1 || *dd.Threshold > detectors.MaxDistinct) {
			c.errorf(src, join(p, "threshold"), "%d is out of range (1 to %d)", *dd.Threshold, detectors.MaxDistinct)
		}
		if id == detectors.CorporateNumber && dd.PII != nil && *dd.PII {
			c.errorf(src, join(p, "pii"), "法人番号 is public information and never counts as personal information")
		}
	}
	switch d.CustomTimeout {
	case "", ReasonUninspectable, ActionTempFail:
	default:
		c.errorf(src, join(path, "custom_timeout"), "%q is not uninspectable or tempfail", d.CustomTimeout)
	}
	for _, code := range sortedKeys(d.Reasons) {
		r := d.Reasons[code]
		p := join(join(path, "reasons"), code)
		if !slices.Contains(reasonCodes, code) {
			c.errorf(src, p, "unknown reason (known: %s)", strings.Join(reasonCodes, ", "))
			continue
		}
		if isDefault && r.Article == "" {
			c.errorf(src, join(p, "article"), "missing")
		}
		if r.Action != "" && !slices.Contains(validActions, r.Action) {
			c.errorf(src, join(p, "action"), "%q is not one of %s", r.Action, strings.Join(validActions, ", "))
		}
	}
	if isDefault {
		for _, code := range reasonCodes {
			if _, ok := d.Reasons[code]; !ok {
				c.errorf(src, join(path, "reasons"), "reason %s is missing", code)
			}
		}
	}
	c.validateAttachments(&d.Attachments, src, join(path, "attachments"), isDefault)
	for _, id := range sortedKeys(d.AllowValues) {
		p := join(join(path, "allow_values"), id)
		if !c.known[id] {
			c.errorf(src, p, "unknown detector")
			continue
		}
		for i, v := range d.AllowValues[id] {
			if _, err := c.allowKeys(id, v); err != nil {
				c.errorf(src, index(p, i), "%v", err)
			}
		}
	}
	for i := range d.Rules {
		c.validateRule(&d.Rules[i], src, index(join(path, "rules"), i))
	}
	fp := join(path, "fax")
	c.validateList(d.Fax.LocalParts, src, join(fp, "local_parts"), isDefault, func(s string) error {
		_, err := compileLocalPart(s)
		return err
	})
	c.validateList(d.Fax.Domains, src, join(fp, "domains"), isDefault, checkDomainPattern)
	c.validateList(d.Fax.NumberDomains, src, join(fp, "number_domains"), isDefault, checkDomainPattern)
	hp := join(path, "hosts")
	c.validateList(d.Hosts.WebFax, src, join(hp, "web_fax"), isDefault, checkDomainPattern)
	c.validateList(d.Hosts.Blocked, src, join(hp, "blocked"), isDefault, checkDomainPattern)
	c.validateList(d.Hosts.UploadAllowlist, src, join(hp, "upload_allowlist"), isDefault, checkDomainPattern)
	c.validateList(d.Hosts.NoIntercept, src, join(hp, "no_intercept"), isDefault, checkDomainPattern)
}

func (c *compiler) validateList(list []string, src *Source, path string, isDefault bool, check func(string) error) {
	for i, s := range list {
		v, removal := strings.CutPrefix(s, "!")
		if removal && isDefault {
			c.errorf(src, index(path, i), "the default policy cannot remove entries")
			continue
		}
		if err := check(v); err != nil {
			c.errorf(src, index(path, i), "%v", err)
		}
	}
}

func compileLocalPart(s string) (*regexp.Regexp, error) {
	if s == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	re, err := regexp.Compile("(?i)" + s)
	if err != nil {
		return nil, fmt.Errorf("not a valid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, nil
}

func (c *compiler) validateCustom(cd *CustomDoc, src *Source, p string) {
	switch {
	case c.known[cd.ID] && c.customs[cd.ID] == nil && cd.ID != "":
		c.errorf(src, join(p, "id"), "%q is the ID of a built-in detector", cd.ID)
		return
	case c.customs[cd.ID] != nil:
		c.errorf(src, join(p, "id"), "%q is used by another custom detector", cd.ID)
		return
	}
	det, err := detectors.NewCustom(detectors.CustomSpec{
		ID: cd.ID, Pattern: cd.Pattern, IgnoreCase: cd.IgnoreCase, Group: cd.Group,
		Keywords: cd.Keywords, Proximity: cd.Proximity, Validator: cd.Validator,
		Normalize: cd.Normalize, MatchTimeout: cd.MatchTimeout.D(),
	})
	if err != nil {
		field, msg, ok := strings.Cut(err.Error(), ": ")
		if !ok {
			field, msg = "", err.Error()
		}
		c.errorf(src, join(p, field), "%s", msg)
		if cd.ID != "" {
			c.known[cd.ID] = true // known, so references do not add noise
		}
		return
	}
	cu := det.(*detectors.Custom)
	c.known[cd.ID] = true
	c.customs[cd.ID] = cu
	c.customOrder = append(c.customOrder, cd.ID)
	if cd.Threshold < 0 || cd.Threshold > detectors.MaxDistinct {
		c.errorf(src, join(p, "threshold"), "%d is out of range (1 to %d)", cd.Threshold, detectors.MaxDistinct)
	}
	for i, ex := range cd.Examples.Match {
		ms, timedOut := cu.Find(ex)
		switch {
		case timedOut:
			c.errorf(src, index(join(p, "examples.match"), i), "the pattern timed out on this example (match_timeout %v)", cu.Spec().MatchTimeout)
		case len(ms) == 0:
			c.errorf(src, index(join(p, "examples.match"), i), "the detector finds no value in this example")
		}
	}
	for i, ex := range cd.Examples.NoMatch {
		ms, timedOut := cu.Find(ex)
		switch {
		case timedOut:
			c.errorf(src, index(join(p, "examples.no_match"), i), "the pattern timed out on this example (match_timeout %v)", cu.Spec().MatchTimeout)
		case len(ms) > 0:
			c.errorf(src, index(join(p, "examples.no_match"), i), "the detector finds %d value(s) in this example (%s), want none", len(ms), ms[0].Masked)
		}
	}
}

func (c *compiler) validateAttachments(a *AttachmentsDoc, src *Source, p string, isDefault bool) {
	switch a.Mode {
	case "", ModePII, ModeAll:
		if isDefault && a.Mode == "" {
			c.errorf(src, join(p, "mode"), "missing")
		}
	default:
		c.errorf(src, join(p, "mode"), "%q is not pii or all", a.Mode)
	}
	for i, e := range a.Exempt {
		ep := index(join(p, "exempt"), i)
		if len(e.Types) == 0 && len(e.Names) == 0 {
			c.errorf(src, ep, "an exemption needs types, names or both")
		}
		for j, t := range e.Types {
			if t == "" || strings.ContainsAny(t, " \t,;") || (strings.Contains(t, "*") && !strings.HasSuffix(t, "/*")) {
				c.errorf(src, index(join(ep, "types"), j), "%q is not a type (write image/png, image/* or xlsx)", t)
			}
		}
		for j, n := range e.Names {
			if _, err := filepath.Match(n, ""); err != nil || n == "" {
				c.errorf(src, index(join(ep, "names"), j), "%q is not a file name pattern", n)
			}
		}
	}
}

func (c *compiler) validateRule(r *RuleDoc, src *Source, p string) {
	if r.Name == "" {
		c.errorf(src, join(p, "name"), "missing")
	} else if c.rules[r.Name] {
		c.errorf(src, join(p, "name"), "%q is used by another rule", r.Name)
	}
	c.rules[r.Name] = true
	switch Channel(r.Channel) {
	case "", ChannelSMTP, ChannelHTTP:
	default:
		c.errorf(src, join(p, "channel"), "%q is not smtp or http", r.Channel)
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"senders", r.Senders}, {"recipients", r.Recipients}} {
		for i, s := range l.list {
			ip := index(join(p, l.name), i)
			if g, ok := strings.CutPrefix(s, "group:"); ok {
				if !c.groups[g] {
					c.errorf(src, ip, "unknown group %q", g)
				}
				continue
			}
			if _, err := parseAddrPattern(s); err != nil {
				c.errorf(src, ip, "%v", err)
			}
		}
	}
	for i, h := range r.Hosts {
		if err := checkDomainPattern(h); err != nil {
			c.errorf(src, index(join(p, "hosts"), i), "%v", err)
		}
	}
	if len(r.Hosts) > 0 && Channel(r.Channel) == ChannelSMTP {
		c.errorf(src, join(p, "hosts"), "hosts apply to the http channel, not smtp")
	}
	for i, e := range r.Exempt {
		if e != "all" && !slices.Contains(reasonCodes, e) {
			c.errorf(src, index(join(p, "exempt"), i), "unknown reason %q (known: all, %s)", e, strings.Join(reasonCodes, ", "))
		}
	}
	for _, code := range sortedKeys(r.Actions) {
		ap := join(join(p, "actions"), code)
		if !slices.Contains(reasonCodes, code) {
			c.errorf(src, ap, "unknown reason (known: %s)", strings.Join(reasonCodes, ", "))
		} else if !slices.Contains(validActions, r.Actions[code]) {
			c.errorf(src, ap, "%q is not one of %s", r.Actions[code], strings.Join(validActions, ", "))
		}
	}
	switch r.AttachmentMode {
	case "", ModePII, ModeAll:
	default:
		c.errorf(src, join(p, "attachment_mode"), "%q is not pii or all", r.AttachmentMode)
	}
	if len(r.Senders) == 0 && len(r.Recipients) == 0 && len(r.Hosts) == 0 && r.Channel == "" {
		c.errorf(src, p, "a rule needs a condition (channel, senders, recipients or hosts); for the whole policy use monitor or reasons")
	}
}

// allowKeys returns the keys an allowlisted value stands for: the keys the
// detector itself finds in it, so that they compare equal to what it finds
// in mail. A detector not (yet) built in falls back to the digits (numbers)
// or the NFKC text without spaces (addresses).
func (c *compiler) allowKeys(id, value string) ([]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("empty value")
	}
	var det detectors.Detector
	if d := c.builtin[id]; d != nil {
		det = d
	} else if cu := c.customs[id]; cu != nil {
		det = cu
	}
	if det != nil {
		var keys []string
		var ctx detectors.Context
		det.Scan([]byte(value+"\n"), &ctx, func(m detectors.Match) {
			if m.Detector == id && !slices.Contains(keys, m.Key) {
				keys = append(keys, m.Key)
			}
		})
		if len(keys) > 0 {
			return keys, nil
		}
	}
	switch id {
	case detectors.MyNumber, detectors.Phone, detectors.CreditCard, detectors.CorporateNumber:
		var b strings.Builder
		for _, r := range norm.NFKC.String(value) {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
		if b.Len() < 2 {
			return nil, fmt.Errorf("holds no %s value", id)
		}
		return []string{b.String()}, nil
	}
	if det != nil {
		return nil, fmt.Errorf("the %s detector finds no value in it", id)
	}
	return []string{strings.Join(strings.Fields(norm.NFKC.String(value)), "")}, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
