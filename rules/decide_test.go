package rules

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sekisho-dlp/sekisho/detectors"
)

// compileDoc compiles a policy document (YAML) over the default, with no
// built-in detectors (allowlisted values then normalise to their digits).
func compileDoc(t *testing.T, doc string, opt Options) *Policy {
	t.Helper()
	node, err := ParseYAML([]byte(doc), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := NewSource("test.yaml")
	d, err := DecodeDocument(node, src, "")
	if err != nil {
		t.Fatal(err)
	}
	if opt.Builtin == nil {
		opt.Builtin = []detectors.Detector{}
	}
	p, err := Compile(d, src, "", opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tally builds a tally from "detector=key" values.
func tally(vals ...string) *detectors.Tally {
	t := detectors.NewTally()
	for _, v := range vals {
		id, key, _ := strings.Cut(v, "=")
		t.Add(detectors.Match{Detector: id, Key: key, Masked: "****"}, "test")
	}
	return t
}

// n returns n distinct values of detector id.
func n(id string, count int) []string {
	var out []string
	for i := 0; i < count; i++ {
		out = append(out, fmt.Sprintf("%s=%010d", id, 3000000000+i))
	}
	return out
}

func body(vals ...string) Place {
	return Place{Kind: PlaceBody, Name: "body", Findings: tally(vals...)}
}

func att(name string, vals ...string) Place {
	return Place{Kind: PlaceAttachment, Name: "attachment[1] " + name, Type: "text/csv", Findings: tally(vals...), Size: 1000}
}

func mail(places ...Place) Input {
	return Input{Channel: ChannelSMTP, Sender: "staff@corp.example.jp", Recipients: []string{"someone@partner.example.com"}, Places: places}
}

func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func TestDecideDefaultThresholds(t *testing.T) {
	p := compileDoc(t, "{}", Options{})
	cases := []struct {
		name  string
		in    Input
		codes []string
	}{
		{"empty", mail(body()), nil},
		{"one my number in body", mail(body("jp_my_number=123456789018")), []string{ReasonPIIInBody}},
		{"one card in body", mail(body("credit_card=4111111111111111")), []string{ReasonPIIInBody}},
		{"four phones pass", mail(body(n("jp_phone", 4)...)), nil},
		{"five phones block", mail(body(n("jp_phone", 5)...)), []string{ReasonPIIInBody}},
		{"two addresses pass", mail(body("jp_address=a", "jp_address=b")), nil},
		{"three addresses block", mail(body("jp_address=a", "jp_address=b", "jp_address=c")), []string{ReasonPIIInBody}},
		{"signature: own phone and address pass", mail(body("jp_phone=0312345678", "jp_address=東京都千代田区丸の内1-1-1")), nil},
		{"corporate numbers are public", mail(body(n("jp_corporate_number", 50)...)), nil},
		{"unknown detector ignored", mail(body("email=a@b")), nil},
		{"attachment with my number", mail(body(), att("名簿.csv", "jp_my_number=123456789018")), []string{ReasonUnencryptedAttachment}},
		{"attachment with four phones passes", mail(body(), att("a.csv", n("jp_phone", 4)...)), nil},
		{"encrypted attachment passes", mail(body(), Place{Kind: PlaceAttachment, Name: "attachment[1] a.zip", Encrypted: true, Findings: tally()}), nil},
		{"values found inside an encrypted container are cleartext", mail(body(), Place{Kind: PlaceAttachment, Name: "attachment[1] a.zip", Encrypted: true, Findings: tally("jp_my_number=123456789018")}), []string{ReasonUnencryptedAttachment}},
		{"uninspectable attachment", mail(body(), Place{Kind: PlaceAttachment, Name: "attachment[1] a.zip", Uninspectable: []string{"attachment[1]/a.zip: corrupt zip"}, Findings: tally()}), []string{ReasonUninspectable}},
		{"nil findings", mail(Place{Kind: PlaceBody, Name: "body"}), nil},
		{"fax and body", Input{Channel: ChannelSMTP, Recipients: []string{"FAX=+81-3-1234-5678@faxgw.example.jp"}, Places: []Place{body("jp_my_number=1")}}, []string{ReasonFax, ReasonPIIInBody}},
		{"empty channel is mail", Input{Recipients: []string{"0312345678@fax.tc"}}, []string{ReasonFax}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Decide(c.in)
			if !reflect.DeepEqual(d.Codes(), c.codes) {
				t.Fatalf("codes = %v, want %v (%+v)", d.Codes(), c.codes, d)
			}
			if c.codes == nil {
				if d.Verdict != Allow || d.Action != "" || d.Quarantine {
					t.Fatalf("allow decision = %+v", d)
				}
				return
			}
			if d.Verdict != Block || d.Action != ActionBounce || !d.Quarantine || d.Monitor || d.TempFail {
				t.Fatalf("block decision = %+v", d)
			}
			for _, r := range d.Reasons {
				want := map[string]string{ReasonFax: "第11条(6)", ReasonPIIInBody: "第11条(7)", ReasonUnencryptedAttachment: "第11条(7)", ReasonUninspectable: "第11条(7)"}[r.Code]
				if r.Article != want || r.Action != ActionBounce || r.Detail == "" {
					t.Errorf("reason %+v: want article %s, action bounce and a detail", r, want)
				}
			}
		})
	}
}

func TestDecideReasonDetails(t *testing.T) {
	p := Default()
	d := p.Decide(mail(body(n("jp_phone", 6)...), att("名簿.xlsx", cat(n("jp_address", 3), []string{"jp_my_number=123456789018"})...)))
	if len(d.Reasons) != 2 {
		t.Fatalf("reasons = %+v", d.Reasons)
	}
	if r := d.Reasons[0]; r.Place != "body" || !reflect.DeepEqual(r.Counts, map[string]int{"jp_phone": 6}) {
		t.Errorf("body reason = %+v", r)
	}
	if r := d.Reasons[1]; r.Place != "attachment[1] 名簿.xlsx" || !reflect.DeepEqual(r.Counts, map[string]int{"jp_address": 3, "jp_my_number": 1}) {
		t.Errorf("attachment reason = %+v", r)
	}
	for _, r := range d.Reasons {
		if strings.ContainsAny(r.Detail, "0123456789") {
			t.Errorf("detail %q holds digits", r.Detail)
		}
	}
}

func TestDecideDoesNotChangeTallies(t *testing.T) {
	p := compileDoc(t, "allow_values: {jp_phone: ['03-0000-0000', '03-0000-0001']}", Options{})
	pl := body(cat([]string{"jp_phone=0300000000", "jp_phone=0300000001"}, n("jp_phone", 3))...)
	before := pl.Findings.Counts()
	if d := p.Decide(mail(pl)); d.Verdict != Allow {
		t.Fatalf("decision = %+v", d)
	}
	if after := pl.Findings.Counts(); !reflect.DeepEqual(before, after) {
		t.Fatalf("tally changed: %v -> %v", before, after)
	}
}

func TestDecideAllowValues(t *testing.T) {
	p := compileDoc(t, `
allow_values:
  jp_phone: ["03-1234-5678", "０３－１２３４－５６７９"]
  jp_address: ["東京都 千代田区丸の内1-1-1"]
  jp_my_number: ["1234 5678 9018"]
`, Options{})
	own := []string{"jp_phone=0312345678", "jp_phone=0312345679"}
	cases := []struct {
		name string
		pl   Place
		want Verdict
	}{
		{"own phones and three others", body(cat(own, n("jp_phone", 3))...), Allow},
		{"own phones and five others", body(cat(own, n("jp_phone", 5))...), Block},
		{"own address and two others", body("jp_address=東京都千代田区丸の内1-1-1", "jp_address=b", "jp_address=c"), Allow},
		{"own address and three others", body("jp_address=東京都千代田区丸の内1-1-1", "jp_address=b", "jp_address=c", "jp_address=d"), Block},
		{"allowlisted my number", body("jp_my_number=123456789018"), Allow},
		{"another my number", body("jp_my_number=123456789018", "jp_my_number=111111111118"), Block},
	}
	for _, c := range cases {
		if d := p.Decide(mail(c.pl)); d.Verdict != c.want {
			t.Errorf("%s: verdict %s, want %s (%+v)", c.name, d.Verdict, c.want, d)
		}
	}
}

func TestDecideSaturated(t *testing.T) {
	p := compileDoc(t, "allow_values: {jp_phone: ['03-0000-0000']}", Options{})
	tl := detectors.NewTally()
	for i := 0; i < detectors.MaxDistinct+10; i++ {
		tl.Add(detectors.Match{Detector: "jp_phone", Key: fmt.Sprint(i)}, "x")
	}
	if d := p.Decide(mail(Place{Kind: PlaceBody, Name: "body", Findings: tl})); d.Verdict != Block {
		t.Fatalf("saturated tally passed: %+v", d)
	}
}

func TestIsFaxRecipient(t *testing.T) {
	p := Default()
	cases := map[string]bool{
		"FAX=+81-3-1234-5678@fax.example":                   true,
		"fax=0312345678@gw.example.co.jp":                   true,
		"FAX=+81312345678/T33S=100@faxgw.example":           true,
		"/FAX=+81312345678/@gw.example":                     true,
		"FAX=+81.3.1234.5678@gw.example":                    true,
		"<FAX=0312345678@mfp.corp.example.jp>":              true,
		"ＦＡＸ＝０３１２３４５６７８@gw.example":                         true, // full width, after NFKC
		"FAX#0312345678@old.example":                        true,
		"0312345678@fax.tc":                                 true,
		"\"0312345678\"@cl1.faximo.jp":                      true,
		"anything@efaxsend.com":                             true,
		"movfax@mail01.lcloud.jp":                           true,
		"81312345678@shoretelfax.com":                       true,
		"12125551234@us.rfax.net":                           true,
		"4412345678@FAX.PLUS":                               true,
		"remote-printer.Name@8.7.6.5.4.3.2.1.3.1.8.tpc.int": true,
		"fax-support@example.co.jp":                         false,
		"fax@example.co.jp":                                 false,
		"FAX=abc@gw.example":                                false,
		"TEL=+8131234@gw.example":                           false,
		"FAX=+81312345678/T33S=@gw.example":                 false,
		"0312345678@example.co.jp":                          false,
		"user@notfax.tc":                                    false,
		"user@tpc.int.example.com":                          false,
		"":                                                  false,
		"FAX=0312345678":                                    true, // no domain: the local part alone says FAX
	}
	for addr, want := range cases {
		if got := p.IsFaxRecipient(addr); got != want {
			t.Errorf("IsFaxRecipient(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestFaxNumberDomainsAndRemoval(t *testing.T) {
	p := compileDoc(t, `
fax:
  local_parts: ['^fax-gw-[0-9]+$']
  domains: ["!fax.com", fax.example.net]
  number_domains: [mfp.corp.example.jp]
`, Options{})
	cases := map[string]bool{
		"0312345678@mfp.corp.example.jp":      true,
		"+81-3-1234-5678@mfp.corp.example.jp": true,
		"012345678@mfp.corp.example.jp":       false, // 9 digits
		"scanner@mfp.corp.example.jp":         false,
		"8885558888@fax.com":                  false, // removed
		"x@fax.example.net":                   true,
		"FAX-GW-12@corp.example.jp":           true,
		"fax-gw-x@corp.example.jp":            false,
		"0312345678@fax.tc":                   true, // default kept
	}
	for addr, want := range cases {
		if got := p.IsFaxRecipient(addr); got != want {
			t.Errorf("IsFaxRecipient(%q) = %v, want %v", addr, got, want)
		}
	}
	d := p.Decide(Input{Channel: ChannelSMTP, Recipients: []string{"ok@partner.example", "0312345678@mfp.corp.example.jp"}})
	if d.Verdict != Block || len(d.Reasons) != 1 || d.Reasons[0].Code != ReasonFax ||
		!reflect.DeepEqual(d.Reasons[0].Recipients, []string{"0312345678@mfp.corp.example.jp"}) || d.Reasons[0].Article != "第11条(6)" {
		t.Fatalf("decision = %+v", d)
	}
}

func TestDecideAttachmentModeAll(t *testing.T) {
	p := compileDoc(t, `
attachments:
  mode: all
  exempt:
    - types: [image/*]
      max_bytes: 100KiB
    - names: ["*.ics"]
`, Options{})
	png := func(size int64) Place {
		return Place{Kind: PlaceAttachment, Name: "attachment[1] logo.png", Type: "image/png", Size: size, Findings: tally()}
	}
	cases := []struct {
		name string
		pl   Place
		want []string
	}{
		{"plain pdf without pii", Place{Kind: PlaceAttachment, Name: "attachment[1] 見積書.pdf", Type: "pdf", Size: 5000, Findings: tally()}, []string{ReasonUnencryptedAttachment}},
		{"encrypted zip", Place{Kind: PlaceAttachment, Name: "attachment[1] a.zip", Type: "application/zip", Encrypted: true, Findings: tally()}, nil},
		{"plain zip with an encrypted member", Place{Kind: PlaceAttachment, Name: "attachment[1] a.zip", Type: "application/zip", EncryptedInside: true, Findings: tally()}, nil},
		{"small image exempt", png(50 << 10), nil},
		{"large image not exempt", png(200 << 10), []string{ReasonUnencryptedAttachment}},
		{"calendar exempt by name", Place{Kind: PlaceAttachment, Name: "attachment[2] Invite.ICS", Type: "text/calendar", Size: 1 << 20, Findings: tally()}, nil},
		{"exempt type with pii still blocked", Place{Kind: PlaceAttachment, Name: "attachment[1] a.ics", Type: "text/calendar", Findings: tally("jp_my_number=1")}, []string{ReasonUnencryptedAttachment}},
		{"body is not an attachment", body(), nil},
	}
	for _, c := range cases {
		if d := p.Decide(mail(c.pl)); !reflect.DeepEqual(d.Codes(), c.want) {
			t.Errorf("%s: codes %v, want %v (%+v)", c.name, d.Codes(), c.want, d)
		}
	}
	// Mode pii (the default) lets the plain pdf pass.
	pdf := Place{Kind: PlaceAttachment, Name: "attachment[1] 見積書.pdf", Type: "pdf", Findings: tally()}
	if d := Default().Decide(mail(pdf)); d.Verdict != Allow {
		t.Errorf("mode pii: %+v", d)
	}
}

func TestDecideRules(t *testing.T) {
	p := compileDoc(t, `
groups:
  records: [kiroku@corp.example.jp, "@records.corp.example.jp"]
rules:
  - name: city
    channel: smtp
    senders: ["group:records"]
    recipients: [city.example.lg.jp, "*.city.example.lg.jp"]
    exempt: [pii_in_body]
    actions: {unencrypted_attachment: quarantine}
  - name: strict-partner
    recipients: [partner.example.com]
    attachment_mode: all
  - name: trial
    senders: ["*.sales.corp.example.jp"]
    monitor: true
  - name: fax-ok
    recipients: ["FAX=0312345678@mfp.corp.example.jp"]
    exempt: [all]
`, Options{})
	pii := body("jp_my_number=123456789018")
	plainPDF := Place{Kind: PlaceAttachment, Name: "attachment[1] a.pdf", Type: "pdf", Findings: tally()}
	cases := []struct {
		name       string
		in         Input
		codes      []string
		action     string
		monitor    bool
		quarantine bool
	}{
		{"records to the city: body exempt", Input{Sender: "kiroku@corp.example.jp", Recipients: []string{"ka@city.example.lg.jp", "x@soumu.city.example.lg.jp"}, Places: []Place{pii}}, nil, "", false, false},
		{"records domain member", Input{Sender: "a@records.corp.example.jp", Recipients: []string{"ka@city.example.lg.jp"}, Places: []Place{pii}}, nil, "", false, false},
		{"records to the city: attachment quarantined", Input{Sender: "KIROKU@corp.example.jp", Recipients: []string{"ka@city.example.lg.jp"}, Places: []Place{body(), att("a.csv", "jp_my_number=1")}}, []string{ReasonUnencryptedAttachment}, ActionQuarantine, false, true},
		{"one recipient outside the city: no exemption", Input{Sender: "kiroku@corp.example.jp", Recipients: []string{"ka@city.example.lg.jp", "x@gmail.example"}, Places: []Place{pii}}, []string{ReasonPIIInBody}, ActionBounce, false, true},
		{"other sender to the city", Input{Sender: "x@corp.example.jp", Recipients: []string{"ka@city.example.lg.jp"}, Places: []Place{pii}}, []string{ReasonPIIInBody}, ActionBounce, false, true},
		{"null sender", Input{Sender: "", Recipients: []string{"ka@city.example.lg.jp"}, Places: []Place{pii}}, []string{ReasonPIIInBody}, ActionBounce, false, true},
		{"partner: mode all", Input{Sender: "x@corp.example.jp", Recipients: []string{"a@partner.example.com"}, Places: []Place{body(), plainPDF}}, []string{ReasonUnencryptedAttachment}, ActionBounce, false, true},
		{"others: mode pii", Input{Sender: "x@corp.example.jp", Recipients: []string{"a@other.example.com"}, Places: []Place{body(), plainPDF}}, nil, "", false, false},
		{"trial: monitor", Input{Sender: "y@tokyo.sales.corp.example.jp", Recipients: []string{"a@other.example.com"}, Places: []Place{pii}}, []string{ReasonPIIInBody}, ActionMonitor, true, false},
		{"approved fax", Input{Sender: "y@corp.example.jp", Recipients: []string{"fax=0312345678@MFP.corp.example.jp"}}, nil, "", false, false},
		{"rule channel smtp does not apply to http", Input{Channel: ChannelHTTP, Sender: "kiroku@corp.example.jp", Host: "upload.example.com", Places: []Place{pii}}, []string{ReasonCleartextUpload}, ActionReject, false, false},
	}
	for _, c := range cases {
		d := p.Decide(c.in)
		if !reflect.DeepEqual(d.Codes(), c.codes) || d.Action != c.action || d.Monitor != c.monitor || d.Quarantine != c.quarantine {
			t.Errorf("%s: got codes %v action %q monitor %v quarantine %v, want %v %q %v %v", c.name, d.Codes(), d.Action, d.Monitor, d.Quarantine, c.codes, c.action, c.monitor, c.quarantine)
		}
		if c.monitor && d.Verdict != Block {
			t.Errorf("%s: monitor verdict %s, want block (recorded, passes)", c.name, d.Verdict)
		}
	}
}

func TestDecideMonitorAndActions(t *testing.T) {
	pii := body("jp_my_number=123456789018")
	fax := Input{Channel: ChannelSMTP, Recipients: []string{"0312345678@fax.tc"}, Places: []Place{pii}}

	mon := compileDoc(t, "monitor: true", Options{})
	d := mon.Decide(fax)
	if d.Verdict != Block || !d.Monitor || d.Action != ActionMonitor || d.Quarantine || len(d.Reasons) != 2 {
		t.Fatalf("global monitor: %+v", d)
	}
	for _, r := range d.Reasons {
		if r.Action != ActionMonitor {
			t.Errorf("reason %s action %q, want monitor", r.Code, r.Action)
		}
	}

	// One reason monitored, the other enforced: the enforced one decides.
	part := compileDoc(t, "reasons: {pii_in_body: {action: monitor}}", Options{})
	d = part.Decide(fax)
	if d.Monitor || d.Action != ActionBounce || d.Reasons[1].Action != ActionMonitor {
		t.Fatalf("partial monitor: %+v", d)
	}
	d = part.Decide(mail(pii))
	if !d.Monitor || d.Action != ActionMonitor {
		t.Fatalf("only monitored reasons: %+v", d)
	}

	// The strongest action wins: reject > bounce > quarantine.
	mixed := compileDoc(t, "reasons: {fax: {action: reject}, pii_in_body: {action: quarantine}}", Options{})
	d = mixed.Decide(fax)
	if d.Action != ActionReject || !d.Quarantine {
		t.Fatalf("mixed: %+v", d)
	}
	d = mixed.Decide(mail(pii))
	if d.Action != ActionQuarantine || !d.Quarantine {
		t.Fatalf("quarantine: %+v", d)
	}

	// smtp.block_mode reject; quarantine_rejected keeps a copy.
	rej := compileDoc(t, "{}", Options{MailBlockAction: ActionReject})
	if d := rej.Decide(mail(pii)); d.Action != ActionReject || d.Quarantine {
		t.Fatalf("block_mode reject: %+v", d)
	}
	rejq := compileDoc(t, "quarantine_rejected: true", Options{MailBlockAction: ActionReject})
	if d := rejq.Decide(mail(pii)); d.Action != ActionReject || !d.Quarantine {
		t.Fatalf("quarantine_rejected: %+v", d)
	}
}

func TestDecideHTTP(t *testing.T) {
	p := compileDoc(t, `
hosts:
  blocked: [paste.example.com]
  upload_allowlist: [transfer.example.jp]
  no_intercept: ["*.bank.example.jp"]
`, Options{})
	up := func(host string, places ...Place) Input {
		return Input{Channel: ChannelHTTP, Sender: "user1", Host: host, Places: places}
	}
	file := Place{Kind: PlaceAttachment, Name: "attachment[1] 名簿.csv", Findings: tally("jp_my_number=1")}
	cases := []struct {
		name  string
		in    Input
		codes []string
	}{
		{"form field with pii", up("forms.example.com", body("jp_my_number=1")), []string{ReasonCleartextUpload}},
		{"file with pii", up("forms.example.com:443", body(), file), []string{ReasonCleartextUpload}},
		{"encrypted file without findings", up("forms.example.com", Place{Kind: PlaceAttachment, Name: "attachment[1] a.zip", Encrypted: true, Findings: tally()}), nil},
		{"plain file without pii (mode all is for mail)", up("forms.example.com", Place{Kind: PlaceAttachment, Name: "attachment[1] a.pdf", Findings: tally()}), nil},
		{"allowlisted host", up("TRANSFER.example.jp.", body("jp_my_number=1"), file), nil},
		{"web fax host", up("www.interfax.jp"), []string{ReasonFax}},
		{"web fax subdomain", up("app.fax.plus", body()), []string{ReasonFax}},
		{"blocked host", up("paste.example.com"), []string{ReasonBlockedHost}},
		{"uninspectable upload", up("forms.example.com", Place{Kind: PlaceAttachment, Name: "attachment[1] x.zip", Uninspectable: []string{"x.zip: corrupt zip"}, Findings: tally()}), []string{ReasonUninspectable}},
	}
	for _, c := range cases {
		d := p.Decide(c.in)
		if !reflect.DeepEqual(d.Codes(), c.codes) {
			t.Errorf("%s: codes %v, want %v", c.name, d.Codes(), c.codes)
			continue
		}
		if c.codes == nil {
			continue
		}
		if d.Action != ActionReject {
			t.Errorf("%s: action %q, want reject", c.name, d.Action)
		}
		want := map[string]string{ReasonCleartextUpload: "第11条(10)イ", ReasonFax: "第11条(6)", ReasonBlockedHost: "第11条(10)イ", ReasonUninspectable: "第11条(10)イ"}[c.codes[0]]
		if d.Reasons[0].Article != want {
			t.Errorf("%s: article %q, want %q", c.name, d.Reasons[0].Article, want)
		}
	}

	if b, r := p.HostDecision("WWW.EFAXCORPORATE.JP:443"); !b || r.Code != ReasonFax || r.Article != "第11条(6)" || r.Action != ActionReject {
		t.Errorf("HostDecision(web fax) = %v %+v", b, r)
	}
	if b, r := p.HostDecision("paste.example.com"); !b || r.Code != ReasonBlockedHost {
		t.Errorf("HostDecision(blocked) = %v %+v", b, r)
	}
	if b, r := p.HostDecision("www.example.com"); b || r.Code != "" {
		t.Errorf("HostDecision(other) = %v %+v", b, r)
	}
	if !p.Intercept("www.example.com") || p.Intercept("online.bank.example.jp:443") {
		t.Error("Intercept does not follow hosts.no_intercept")
	}
	if !p.HostAllowlisted("transfer.example.jp:443") || p.HostAllowlisted("evil-transfer.example.jp") {
		t.Error("HostAllowlisted does not follow hosts.upload_allowlist")
	}

	mon := compileDoc(t, "reasons: {fax: {action: monitor}}", Options{})
	if b, r := mon.HostDecision("www.fax.com"); b || r.Code != ReasonFax || r.Action != ActionMonitor {
		t.Errorf("monitored HostDecision = %v %+v", b, r)
	}
	ex := compileDoc(t, "rules: [{name: fax-ok, hosts: [www.fax.com], exempt: [fax]}]", Options{})
	if b, _ := ex.HostDecision("www.fax.com"); b {
		t.Error("a host rule's exemption is not applied")
	}
}

func TestDecideCustomTimeout(t *testing.T) {
	timeout := Place{Kind: PlaceAttachment, Name: "attachment[1] a.txt", Findings: tally(detectors.TimeoutID("roster") + "=timeout")}
	d := Default().Decide(mail(body(), timeout))
	if d.Verdict != Block || !reflect.DeepEqual(d.Codes(), []string{ReasonUninspectable}) || d.TempFail || d.Action != ActionBounce ||
		!strings.Contains(d.Reasons[0].Detail, "roster timed out") {
		t.Fatalf("timeout, uninspectable: %+v", d)
	}
	p := compileDoc(t, "custom_timeout: tempfail", Options{})
	d = p.Decide(mail(body(), timeout))
	if d.Verdict != Block || !d.TempFail || d.Action != ActionTempFail || d.Quarantine || d.Reasons[0].Action != ActionTempFail {
		t.Fatalf("timeout, tempfail: %+v", d)
	}
	// A definite reason wins over a tempfail.
	d = p.Decide(mail(body("jp_my_number=1"), timeout))
	if d.TempFail || d.Action != ActionBounce {
		t.Fatalf("timeout and pii: %+v", d)
	}
	// Monitor wins over a tempfail.
	pm := compileDoc(t, "custom_timeout: tempfail\nmonitor: true", Options{})
	if d := pm.Decide(mail(body(), timeout)); d.TempFail || !d.Monitor {
		t.Fatalf("timeout under monitor: %+v", d)
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	for id, want := range map[string]int{"jp_my_number": 1, "credit_card": 1, "jp_phone": 5, "jp_address": 3} {
		if got, ok := p.Threshold(id); !ok || got != want {
			t.Errorf("threshold %s = %d %v, want %d", id, got, ok, want)
		}
	}
	if _, ok := p.Threshold("jp_corporate_number"); ok {
		t.Error("jp_corporate_number counts as personal information")
	}
	if p.AttachmentMode() != ModePII || p.Monitor() {
		t.Error("default mode")
	}
	if p.Engine() == nil || len(p.Engine().Detectors()) != len(detectors.Builtin()) {
		t.Error("default engine is not the built-in detectors")
	}
}
