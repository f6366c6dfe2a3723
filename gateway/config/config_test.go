package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

func TestExampleParses(t *testing.T) {
	c, err := Parse([]byte(Example()), "example.yaml")
	if err != nil {
		t.Fatalf("the example does not parse:\n%v", err)
	}
	p := c.Policy()
	if p == nil {
		t.Fatal("no policy")
	}
	if th, ok := p.Threshold("birth_date"); !ok || th != 3 {
		t.Errorf("birth_date threshold %d %v", th, ok)
	}
	if !p.IsFaxRecipient("0312345678@mfp.corp.example.jp") || !p.IsFaxRecipient("0312345678@fax.tc") {
		t.Error("example fax lists")
	}
	if b, _ := p.HostDecision("paste.example.com"); !b {
		t.Error("example blocked host")
	}
}

// TestExampleMentionsEveryField keeps the example complete: every field of
// Config (the policy's included) appears in it, as a key or in a comment.
func TestExampleMentionsEveryField(t *testing.T) {
	ex := Example()
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	var missing []string
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() == "go.yaml.in/yaml/v3" {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			if !strings.Contains(ex, name+":") {
				missing = append(missing, path+name)
			}
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeFor[Config](), "")
	if len(missing) > 0 {
		t.Errorf("the example does not mention: %s", strings.Join(missing, ", "))
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Listen != "127.0.0.1:2525" || c.SMTP.NextHop != "127.0.0.1:10026" || c.Proxy.Listen != "127.0.0.1:3128" ||
		c.Admin.Listen != "127.0.0.1:8025" || c.DataDir != "./sekisho-data" || c.SMTP.MaxMessageBytes != 64<<20 ||
		c.Quarantine.Retention.D() != 720*time.Hour || c.SMTP.BlockMode != "bounce" || c.SMTP.NextHopTLS != "opportunistic" ||
		!reflect.DeepEqual(c.SMTP.AllowedNetworks, []string{"127.0.0.0/8", "::1/128"}) || c.Proxy.Intercept {
		t.Errorf("defaults: %+v", c)
	}
	if !reflect.DeepEqual(c.ExtractLimits(), extract.DefaultLimits()) {
		t.Errorf("limits %+v, want %+v", c.ExtractLimits(), extract.DefaultLimits())
	}
	if c.Policy() == nil {
		t.Fatal("no policy")
	}
	d := c.Policy().Decide(rules.Input{Channel: rules.ChannelSMTP, Recipients: []string{"FAX=0312345678@gw.example"}})
	if d.Verdict != rules.Block || d.Action != rules.ActionBounce {
		t.Errorf("default decision %+v", d)
	}
	// Parsing an empty file gives the same.
	c2, err := Parse(nil, "empty.yaml")
	if err != nil || !reflect.DeepEqual(c2.SMTP, c.SMTP) || c2.File() != "empty.yaml" {
		t.Errorf("empty file: %v", err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	var es rules.Errors
	if errors.As(err, &es) {
		t.Fatal("an unreadable file is not a list of field errors")
	}
}

// TestValidateAfterOverride: serve overrides fields from flags, then
// validates again; the policy is recompiled with the new block mode.
func TestValidateAfterOverride(t *testing.T) {
	c, err := Load("../../testdata/config/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.SMTP.Listen = "nonsense"
	err = c.Validate()
	// The field is not in the file: the error points at its section.
	if err == nil || err.Error() != `../../testdata/config/valid/minimal.yaml:2: smtp.listen: "nonsense" is not host:port` {
		t.Fatalf("err = %v", err)
	}
	c.SMTP.Listen = "127.0.0.1:0"
	c.SMTP.NextHop = "bad"
	err = c.Validate()
	if err == nil || err.Error() != `../../testdata/config/valid/minimal.yaml:3: smtp.next_hop: "bad" is not host:port` {
		t.Fatalf("err = %v", err)
	}
	c.SMTP.NextHop = "127.0.0.1:25"
	c.SMTP.BlockMode = "reject"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.Policy().Decide(rules.Input{Recipients: []string{"a@fax.tc"}})
	if d.Action != rules.ActionReject {
		t.Errorf("block_mode reject not applied: %+v", d)
	}
}

func TestConfigFiles(t *testing.T) {
	valid := map[string]func(t *testing.T, c *Config){
		"minimal.yaml": func(t *testing.T, c *Config) {
			if c.SMTP.NextHop != "mail.corp.example.jp:25" || c.SMTP.Listen != "127.0.0.1:2525" {
				t.Errorf("smtp %+v", c.SMTP)
			}
		},
		"users_tls.yaml": func(t *testing.T, c *Config) {
			if len(c.SMTP.Users) != 1 || c.SMTP.Users[0].Name != "mfp-3f" || c.SMTP.TLS.KeyFile == "" || c.SMTP.MaxMessageBytes != 100<<20 ||
				!c.Proxy.Intercept || c.Quarantine.Retention.D() != 2160*time.Hour || c.Limits.MaxRatio != 100.5 ||
				c.ExtractLimits().MaxExpandedBytes != 1<<30 || c.LogLevel != "debug" || len(c.SMTP.AllowedNetworks) != 3 {
				t.Errorf("config %+v", c)
			}
			if d := c.Policy().Decide(rules.Input{Recipients: []string{"a@fax.tc"}}); d.Action != rules.ActionReject {
				t.Errorf("block_mode reject: %+v", d)
			}
		},
		"monitor.yaml": func(t *testing.T, c *Config) {
			if !c.Policy().Monitor() {
				t.Error("monitor")
			}
		},
	}
	invalid := map[string]string{
		"admin.yaml":        "admin.yaml:3: admin.token_env: \"not a name\" is not an environment variable name\nadmin.yaml:5: quarantine.retention: 30m0s is shorter than 1h\nadmin.yaml:7: quarantine.key_env: give key_file or key_env, not both",
		"listeners.yaml":    "listeners.yaml:4: proxy.listen: \"127.0.0.1:8080\" is also smtp.listen\nlisteners.yaml:6: admin.listen: \"127.0.0.1:\" is not host:port (bad port)\nlisteners.yaml:7: data_dir: missing\nlisteners.yaml:8: log_level: \"verbose\" is not one of debug, info, warn, error\nlisteners.yaml:10: limits.max_depth: 0 is out of range (1 to 64)\nlisteners.yaml:11: limits.max_ratio: 0 is out of range (1 to 100000)\nlisteners.yaml:12: limits.spool_threshold: 1KiB is out of range (64KiB to 1GiB)\nlisteners.yaml:13: limits.temp_dir: \"/nonexistent/tmp\" is not a directory\nlisteners.yaml:14: limits.inspect_timeout: 10h0m0s is out of range (1s to 1h0m0s)",
		"policy.yaml":       "policy.yaml:5: policy.detectors.jp_phone.threshold: 0 is out of range (1 to 4096)\npolicy.yaml:11: policy.custom_detectors[0].examples.match[0]: the detector finds no value in this example\npolicy.yaml:14: policy.rules[0].recipients[0]: unknown group \"none\"\npolicy.yaml:16: policy.hosts.blocked[0]: \"bad host\" is not a domain name",
		"smtp.yaml":         "smtp.yaml:2: smtp.listen: \"2525\" is not host:port\nsmtp.yaml:3: smtp.next_hop: \"foo\" is not host:port\nsmtp.yaml:4: smtp.next_hop_tls: \"maybe\" is not one of opportunistic, required, none\nsmtp.yaml:5: smtp.allowed_networks[0]: \"10.0.0.0/33\" is not an address or a CIDR network\nsmtp.yaml:5: smtp.allowed_networks[1]: \"localhost\" is not an address or a CIDR network\nsmtp.yaml:6: smtp.max_message_bytes: 10 is out of range (1KiB to 1GiB)\nsmtp.yaml:7: smtp.max_recipients: 0 is out of range (1 to 10000)\nsmtp.yaml:8: smtp.read_timeout: 0s is out of range (1s to 1h0m0s)\nsmtp.yaml:10: smtp.max_connections_per_client: 20 is more than max_connections (10)\nsmtp.yaml:11: smtp.block_mode: \"drop\" is not bounce or reject\nsmtp.yaml:12: smtp.bounce_from: \"Postmaster <postmaster@corp.example.jp>\" is not a plain address (postmaster@example.jp)\nsmtp.yaml:13: smtp.hostname: \"mail server\" is not a host name\nsmtp.yaml:14: smtp.xforward_networks[0]: \"postfix\" is not an address or a CIDR network",
		"syntax.yaml":       "syntax.yaml:2: not valid YAML: found unexpected end of stream",
		"types.yaml":        "types.yaml:1: smtp: want a mapping of fields, not a list\ntypes.yaml:3: proxy.intercept: want true or false, not \"yes\"\ntypes.yaml:4: proxy.max_upload_bytes: \"big\" is not a size (write it like 65536, 512KiB or 64MiB)\ntypes.yaml:6: quarantine.retention: \"30 days\" is not a duration (write it like 30s, 5m or 720h)",
		"unknown_keys.yaml": "unknown_keys.yaml:3: smtp.nexthop: unknown field (did you mean next_hop?)\nunknown_keys.yaml:5: proxy.max_upload: unknown field (did you mean max_upload_bytes?)\nunknown_keys.yaml:6: loglevel: unknown field (did you mean log_level?)",
		"users.yaml":        "users.yaml:4: smtp.users[0].password_hash: not a bcrypt hash (make one with: htpasswd -nbBC 12 alice PASSWORD)\nusers.yaml:5: smtp.users[1].name: \"alice\" is given twice\nusers.yaml:7: smtp.users[2].name: missing\nusers.yaml:8: smtp.tls: give both cert_file and key_file, or neither\nusers.yaml:9: smtp.tls.cert_file: \"/nonexistent/cert.pem\" cannot be read: no such file or directory\nusers.yaml:11: proxy.ca_key_file: give both ca_cert_file and ca_key_file, or neither\nusers.yaml:11: proxy.ca_key_file: \"../../testdata/config\" is a directory, not a file",
	}
	files, _ := filepath.Glob("../../testdata/config/valid/*.yaml")
	for _, f := range files {
		name := filepath.Base(f)
		t.Run("valid/"+name, func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			check, ok := valid[name]
			if !ok {
				t.Fatal("no check for this file: add one to the table")
			}
			check(t, c)
		})
	}
	if len(files) != len(valid) {
		t.Errorf("%d valid files, %d in the table", len(files), len(valid))
	}
	files, _ = filepath.Glob("../../testdata/config/invalid/*.yaml")
	var names, keys []string
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
				t.Fatalf("no expected error: add one to the table (got %v)", err)
			}
			if err == nil || err.Error() != want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
	for k := range invalid {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, names) {
		t.Errorf("invalid files %v, table %v", names, keys)
	}
}

// scanPlace runs the policy's engine over text as one attachment.
func scanPlace(p *rules.Policy, text string) rules.Place {
	s := p.Engine().NewScan("attachment[1]/roster.txt")
	s.WriteString(text)
	return rules.Place{Kind: rules.PlaceAttachment, Name: "attachment[1] roster.txt", Findings: s.Close()}
}

// TestCatastrophicPattern: a custom pattern that backtracks exponentially
// gives the message a clear verdict within its timeout: uninspectable (block)
// by default, a temporary failure with custom_timeout: tempfail.
func TestCatastrophicPattern(t *testing.T) {
	for _, tc := range []struct {
		timeout string
		check   func(d rules.Decision) bool
	}{
		{"uninspectable", func(d rules.Decision) bool {
			return d.Verdict == rules.Block && !d.TempFail && d.Action == rules.ActionBounce &&
				reflect.DeepEqual(d.Codes(), []string{rules.ReasonUninspectable}) && strings.Contains(d.Reasons[0].Detail, "evil timed out")
		}},
		{"tempfail", func(d rules.Decision) bool {
			return d.Verdict == rules.Block && d.TempFail && d.Action == rules.ActionTempFail
		}},
	} {
		t.Run(tc.timeout, func(t *testing.T) {
			c, err := Parse([]byte(`
policy:
  custom_timeout: `+tc.timeout+`
  custom_detectors:
    - id: evil
      pattern: '(a+)+$'
      match_timeout: 500ms
`), "evil.yaml")
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			pl := scanPlace(c.Policy(), strings.Repeat("a", 100<<10)+"!\n")
			d := c.Policy().Decide(rules.Input{Channel: rules.ChannelSMTP, Recipients: []string{"a@partner.example"}, Places: []rules.Place{pl}})
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v with a 500ms timeout", el)
			}
			if !tc.check(d) {
				t.Fatalf("decision %+v", d)
			}
		})
	}
}

// TestMonitorModePassesAndRecords: in monitor mode the decision names the
// reasons (to record) but the item passes.
func TestMonitorModePassesAndRecords(t *testing.T) {
	c, err := Parse([]byte(`
policy:
  custom_detectors:
    - id: staff_id
      pattern: 'S-[0-9]{6}'
  rules:
    - name: trial
      senders: ["@trial.corp.example.jp"]
      monitor: true
`), "monitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pl := scanPlace(c.Policy(), "S-123456\n")
	if n, _ := pl.Findings.Count("staff_id"); n != 1 {
		t.Fatalf("custom detector not in the engine: %v", pl.Findings.Counts())
	}
	in := rules.Input{Channel: rules.ChannelSMTP, Sender: "a@trial.corp.example.jp", Recipients: []string{"x@partner.example"}, Places: []rules.Place{pl}}
	d := c.Policy().Decide(in)
	if d.Verdict != rules.Block || !d.Monitor || d.Action != rules.ActionMonitor || d.Quarantine ||
		!reflect.DeepEqual(d.Codes(), []string{rules.ReasonUnencryptedAttachment}) || d.Reasons[0].Counts["staff_id"] != 1 {
		t.Fatalf("monitor decision %+v", d)
	}
	in.Sender = "a@corp.example.jp"
	if d := c.Policy().Decide(in); d.Monitor || d.Action != rules.ActionBounce {
		t.Fatalf("outside the rule: %+v", d)
	}
}

// TestSignatureWithBuiltinDetectors runs the real built-in detectors over a
// body whose signature holds the company's phone numbers: they never count.
func TestSignatureWithBuiltinDetectors(t *testing.T) {
	var ids []string
	for _, d := range detectors.Builtin() {
		ids = append(ids, d.ID())
	}
	if !strings.Contains(strings.Join(ids, ","), detectors.Phone) {
		t.Fatal("the phone detector is not among the built-in detectors")
	}
	c, err := Parse([]byte(`
policy:
  allow_values:
    jp_phone: ["03-1234-5678", "03-1234-5679"]
`), "sig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy()
	sig := "株式会社サンプル 営業部\nTEL: 03-1234-5678\nFAX: 03-1234-5679\n"
	others := "TEL: 06-6123-4567\nTEL: 045-212-3456\nTEL: 052-961-1234\n"
	body := func(text string) rules.Place {
		s := p.Engine().NewScan("body[1]")
		s.WriteString(text)
		return rules.Place{Kind: rules.PlaceBody, Name: "body", Findings: s.Close()}
	}
	d := p.Decide(rules.Input{Channel: rules.ChannelSMTP, Places: []rules.Place{body(others + "TEL: 092-711-1234\n" + sig)}})
	if d.Verdict != rules.Allow {
		t.Errorf("4 other phones and the company's: %+v", d)
	}
	d = p.Decide(rules.Input{Channel: rules.ChannelSMTP, Places: []rules.Place{body(others + "TEL: 092-711-1234\nTEL: 011-231-4111\n" + sig)}})
	if d.Verdict != rules.Block {
		t.Errorf("5 other phones: %+v", d)
	}
	// Without the allowlist the signature's two numbers count.
	d = Defaults().Policy().Decide(rules.Input{Channel: rules.ChannelSMTP, Places: []rules.Place{body(others + sig)}})
	if d.Verdict != rules.Block {
		t.Errorf("no allowlist, 5 phones: %+v", d)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Example()))
	f.Add([]byte("smtp: {listen: 127.0.0.1:1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8192 {
			return
		}
		c, err := Parse(data, "fuzz.yaml")
		if err == nil && c.Policy() == nil {
			t.Fatal("valid configuration without a policy")
		}
	})
}
