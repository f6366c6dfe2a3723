package rules

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// TestPolicyFiles loads testdata/rules/valid/*.yaml (each must compile and
// pass its check) and testdata/rules/invalid/*.yaml (each must fail with
// exactly the errors listed).
func TestPolicyFiles(t *testing.T) {
	valid := map[string]func(t *testing.T, p *Policy){
		"empty.yaml": func(t *testing.T, p *Policy) {
			if th, _ := p.Threshold("jp_phone"); th != 5 {
				t.Errorf("jp_phone threshold %d", th)
			}
		},
		"thresholds.yaml": func(t *testing.T, p *Policy) {
			if th, _ := p.Threshold("jp_phone"); th != 10 {
				t.Errorf("jp_phone threshold %d, want 10", th)
			}
			if th, _ := p.Threshold("credit_card"); th != 2 {
				t.Errorf("credit_card threshold %d, want 2", th)
			}
			if _, ok := p.Threshold("jp_address"); ok {
				t.Error("jp_address still counts")
			}
			if th, _ := p.Threshold("jp_my_number"); th != 1 {
				t.Error("jp_my_number lost its default")
			}
		},
		"custom.yaml": func(t *testing.T, p *Policy) {
			if th, ok := p.Threshold("member_card"); !ok || th != 2 {
				t.Errorf("member_card threshold %d %v", th, ok)
			}
			if _, ok := p.Threshold("sensitive_words"); ok {
				t.Error("sensitive_words (pii: false) counts")
			}
			ids := p.DetectorIDs()
			if ids[len(ids)-1] != "staff_number" {
				t.Errorf("detector IDs %v", ids)
			}
		},
		"rules.yaml": func(t *testing.T, p *Policy) {
			d := p.Decide(Input{Channel: ChannelSMTP, Sender: "kiroku@corp.example.jp", Recipients: []string{"a@city.example.lg.jp"}, Places: []Place{body("jp_my_number=1")}})
			if d.Verdict != Allow {
				t.Errorf("city rule: %+v", d)
			}
		},
		"lists.yaml": func(t *testing.T, p *Policy) {
			if p.IsFaxRecipient("1@fax.com") || !p.IsFaxRecipient("x@a.fax.example.org") || !p.IsFaxRecipient("fax-gw-1@x.example") {
				t.Error("fax lists")
			}
			if b, _ := p.HostDecision("secure.retarus.com"); b {
				t.Error("*.retarus.com was removed")
			}
			if b, _ := p.HostDecision("www.efax.com"); !b {
				t.Error("*.efax.com was added")
			}
			if p.Intercept("203.0.113.10:443") {
				t.Error("no_intercept by address")
			}
		},
		"monitor.yaml": func(t *testing.T, p *Policy) {
			if !p.Monitor() {
				t.Error("monitor")
			}
			doc := p.Document()
			if doc.Reasons["pii_in_body"].Article != "第11条(7) 個人情報" || doc.Reasons["fax"].Article != "第11条(6)" {
				t.Errorf("reasons %+v", doc.Reasons)
			}
		},
		"attachments_all.yaml": func(t *testing.T, p *Policy) {
			if p.AttachmentMode() != ModeAll {
				t.Error("mode")
			}
		},
		"allow_values.yaml": func(t *testing.T, p *Policy) {
			d := p.Decide(mail(body("credit_card=4111111111111111")))
			if d.Verdict != Allow {
				t.Errorf("allowlisted card: %+v", d)
			}
		},
	}
	invalid := map[string]string{
		"allow_values.yaml":     "allow_values.yaml:2: allow_values.jp_phone[0]: empty value\nallow_values.yaml:2: allow_values.jp_phone[1]: holds no jp_phone value\nallow_values.yaml:3: allow_values.email: unknown detector",
		"attachments.yaml":      "attachments.yaml:2: attachments.mode: \"some\" is not pii or all\nattachments.yaml:4: attachments.exempt[0]: an exemption needs types, names or both\nattachments.yaml:5: attachments.exempt[1].types[0]: \"image png\" is not a type (write image/png, image/* or xlsx)\nattachments.yaml:6: attachments.exempt[1].names[0]: \"[a-\" is not a file name pattern\nattachments.yaml:8: attachments.exempt[2].max_bytes: \"lots\" is not a size (write it like 65536, 512KiB or 64MiB)",
		"bad_regexp.yaml":       "bad_regexp.yaml:3: custom_detectors[0].pattern: error parsing regexp: missing closing ) in `(?<![0-9][0-9]{4`",
		"bad_threshold.yaml":    "bad_threshold.yaml:3: detectors.jp_phone.threshold: 0 is out of range (1 to 4096)\nbad_threshold.yaml:4: detectors.jp_address.threshold: 5000 is out of range (1 to 4096)",
		"bad_yaml.yaml":         "bad_yaml.yaml:1: not valid YAML: did not find expected ',' or '}'",
		"corporate_pii.yaml":    "corporate_pii.yaml:2: detectors.jp_corporate_number.pii: 法人番号 is public information and never counts as personal information",
		"custom_fields.yaml":    "custom_fields.yaml:2: custom_detectors[0].id: \"Bad-ID\" must be lower-case letters, digits, '_' or '-', starting with a letter or '_'\ncustom_fields.yaml:4: custom_detectors[1].id: \"jp_phone\" is the ID of a built-in detector\ncustom_fields.yaml:8: custom_detectors[3].id: \"twice\" is used by another custom detector\ncustom_fields.yaml:10: custom_detectors[4].pattern: a custom detector needs a pattern, keywords or both\ncustom_fields.yaml:13: custom_detectors[5].validator: \"crc32\" is not one of luhn, mod11\ncustom_fields.yaml:16: custom_detectors[6].match_timeout: 10ms is out of range (100ms to 1m0s)\ncustom_fields.yaml:19: custom_detectors[7].group: 3 is not a group of the pattern (it has 2)\ncustom_fields.yaml:21: custom_detectors[8].keywords[1]: empty keyword\ncustom_fields.yaml:24: custom_detectors[9].threshold: -1 is out of range (1 to 4096)\ncustom_fields.yaml:27: custom_detectors[10].normalize: \"upper\" is not one of text, digits\ncustom_fields.yaml:30: custom_detectors[11].proximity: -5 is negative",
		"duplicate_key.yaml":    "duplicate_key.yaml:2: monitor: given twice (first on line 1)",
		"example_fails.yaml":    "example_fails.yaml:5: custom_detectors[0].examples.match[1]: the detector finds no value in this example\nexample_fails.yaml:6: custom_detectors[0].examples.no_match[0]: the detector finds 1 value(s) in this example (*****21), want none",
		"example_timeout.yaml":  "example_timeout.yaml:6: custom_detectors[0].examples.no_match[0]: the pattern timed out on this example (match_timeout 100ms)",
		"lists.yaml":            "lists.yaml:2: fax.local_parts[0]: not a valid regular expression: missing closing ): `(?i)^fax=(`\nlists.yaml:3: fax.domains[1]: \"fax example.com\" is not a domain name\nlists.yaml:3: fax.domains[2]: \"ファックス.jp\": write an international domain name in its xn-- form\nlists.yaml:3: fax.domains[3]: \"*.*.example\": a wildcard is only allowed as a leading \"*.\"\nlists.yaml:3: fax.domains[0]: \"!nothere.example\" removes nothing: \"nothere.example\" is not in the default policy\nlists.yaml:5: hosts.web_fax[1]: \"!*.retarus.com\" removes nothing: \"*.retarus.com\" is not in the default policy\nlists.yaml:6: hosts.blocked[0]: empty name",
		"nothing_counts.yaml":   "nothing_counts.yaml:1: detectors: no detector counts as personal information: the policy could never block personal information",
		"reasons.yaml":          "reasons.yaml:2: reasons.fax.action: \"drop\" is not one of block, bounce, reject, quarantine, monitor\nreasons.yaml:3: reasons.spam: unknown reason (known: fax, pii_in_body, unencrypted_attachment, uninspectable, cleartext_upload, blocked_host)\nreasons.yaml:4: custom_timeout: \"ignore\" is not uninspectable or tempfail",
		"rules.yaml":            "rules.yaml:2: groups.bad name: group name \"bad name\" must be letters, digits, '_' or '-'\nrules.yaml:3: groups.ok[0]: a group cannot hold another group\nrules.yaml:3: groups.ok[1]: \"not an address@\" is not an address\nrules.yaml:4: groups.empty: a group needs at least one member\nrules.yaml:7: rules[0].channel: \"fax\" is not smtp or http\nrules.yaml:8: rules[0].senders[0]: unknown group \"missing\"\nrules.yaml:8: rules[0].senders[1]: \"<a@b>\" is not an address\nrules.yaml:11: rules[0].exempt[0]: unknown reason \"everything\" (known: all, fax, pii_in_body, unencrypted_attachment, uninspectable, cleartext_upload, blocked_host)\nrules.yaml:12: rules[0].actions.fax: \"allow\" is not one of block, bounce, reject, quarantine, monitor\nrules.yaml:12: rules[0].actions.spam: unknown reason (known: fax, pii_in_body, unencrypted_attachment, uninspectable, cleartext_upload, blocked_host)\nrules.yaml:13: rules[0].attachment_mode: \"none\" is not pii or all\nrules.yaml:14: rules[1].name: \"first\" is used by another rule\nrules.yaml:16: rules[1].hosts: hosts apply to the http channel, not smtp\nrules.yaml:17: rules[2].name: missing\nrules.yaml:17: rules[2]: a rule needs a condition (channel, senders, recipients or hosts); for the whole policy use monitor or reasons",
		"unknown_detector.yaml": "unknown_detector.yaml:2: detectors.jp_fone: unknown detector (known: jp_my_number, jp_corporate_number, jp_phone, credit_card, jp_address)",
		"unknown_field.yaml":    "unknown_field.yaml:1: detector: unknown field (did you mean detectors?)",
		"wrong_kind.yaml":       "wrong_kind.yaml:1: detectors: want a mapping, not a list",
		"wrong_type.yaml":       "wrong_type.yaml:2: detectors.jp_phone.threshold: want an integer, not \"many\"\nwrong_type.yaml:2: detectors.jp_phone.threshold: 0 is out of range (1 to 4096)\nwrong_type.yaml:3: detectors.credit_card.pii: want true or false, not \"yes\"",
	}
	files, _ := filepath.Glob("../testdata/rules/valid/*.yaml")
	var names []string
	for _, f := range files {
		name := filepath.Base(f)
		names = append(names, name)
		t.Run("valid/"+name, func(t *testing.T) {
			p, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			check, ok := valid[name]
			if !ok {
				t.Fatal("no check for this file: add one to the table")
			}
			check(t, p)
		})
	}
	if len(names) != len(valid) {
		t.Errorf("valid files %v, table has %d", names, len(valid))
	}
	files, _ = filepath.Glob("../testdata/rules/invalid/*.yaml")
	names = nil
	for _, f := range files {
		name := filepath.Base(f)
		names = append(names, name)
		t.Run("invalid/"+name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data, name)
			want, ok := invalid[name]
			if !ok {
				t.Fatalf("no expected error for this file: add one to the table (got %v)", err)
			}
			if err == nil || err.Error() != want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
	var keys []string
	for k := range invalid {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, names) {
		t.Errorf("invalid files %v, table has %v", names, keys)
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultYAMLStrict(t *testing.T) {
	// The embedded default decodes strictly and compiles; its reasons all
	// name an article.
	p := Default()
	for _, code := range reasonCodes {
		if p.Document().Reasons[code].Article == "" {
			t.Errorf("reason %s has no article", code)
		}
	}
	if len(p.Document().Fax.Domains) < 15 || len(p.Document().Hosts.WebFax) < 7 {
		t.Error("default FAX lists are short")
	}
}
