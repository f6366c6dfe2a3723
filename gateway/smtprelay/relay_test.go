package smtprelay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-smtp"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// clearMyNumber is a (check-digit valid) My Number that must never leave in clear.
const clearMyNumber = "123456789018"
const maskedMyNumber = "********9018"

func allowVerdict() *gateway.Verdict {
	return &gateway.Verdict{Decision: rules.Decision{Verdict: rules.Allow}, Findings: detectors.NewTally()}
}

// piiVerdict is what the real pipeline would say for a body with a My Number.
func piiVerdict(action string) *gateway.Verdict {
	tl := detectors.NewTally()
	tl.Add(detectors.Match{Detector: detectors.MyNumber, Key: clearMyNumber, Masked: maskedMyNumber, Confidence: detectors.High}, "body[1]")
	tl.Add(detectors.Match{Detector: detectors.MyNumber, Key: "987654321096", Masked: "********1096", Confidence: detectors.High}, "body[1]")
	return &gateway.Verdict{
		Decision: rules.Decision{Verdict: rules.Block, Action: action, Reasons: []rules.Reason{{
			Code: rules.ReasonPIIInBody, Article: "第11条(7)", Place: "body",
			Counts: map[string]int{detectors.MyNumber: 2}, Detail: "2 My Numbers in the body",
		}}},
		Header: &extract.Header{Subject: "名簿の件", MessageID: "<m1@client.test>"},
		Parts: []gateway.PartReport{
			{Path: "subject", Type: "text/plain", Role: "body"},
			{Path: "body[1]", Type: "text/plain", Role: "body", Findings: map[string]int{detectors.MyNumber: 2},
				Masked: map[string][]string{detectors.MyNumber: {maskedMyNumber, "********1096"}}},
		},
		Places:   []rules.Place{{Kind: rules.PlaceBody, Name: "body", Findings: tl}},
		Findings: tl,
	}
}

// piiDecider blocks bodies holding clearMyNumber with action.
func piiDecider(action string) func([]byte, gateway.Item) (*gateway.Verdict, error) {
	return func(b []byte, it gateway.Item) (*gateway.Verdict, error) {
		if bytes.Contains(b, []byte(clearMyNumber)) {
			return piiVerdict(action), nil
		}
		return allowVerdict(), nil
	}
}

func testMessage(body string) []byte {
	return []byte("From: Taro <taro@city.example>\r\n" +
		"To: Hanako <hanako@partner.example>\r\n" +
		"Subject: =?UTF-8?B?5ZCN57C/44Gu5Lu2?=\r\n" +
		"Message-ID: <m1@client.test>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\n" + body)
}

var traceRe = regexp.MustCompile(`^Received: from client\.test \(client\.test \[127\.0\.0\.1\]\)\r\n\tby sekisho\.test \(sekisho\) with ESMTP id (\S+)\r\n\tfor <hanako@partner\.example>;\r\n\t[^\r\n]+\r\nX-Sekisho-Verdict: allow; event=(\S+)\r\n`)

func TestAllowedMailArrivesByteIdentical(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	msg := testMessage("こんにちは。\r\n.leading dot line\r\n..two dots\r\nlast line without special\r\n")
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, msg)
	wantCode(t, "DATA", res.dataErr, 250)
	if !strings.Contains(res.dataText, "OK: queued as ") {
		t.Errorf("250 text %q lacks the event id", res.dataText)
	}
	got := k.messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.from != "taro@city.example" || len(m.to) != 1 || m.to[0] != "hanako@partner.example" {
		t.Errorf("envelope: from %q to %v", m.from, m.to)
	}
	sm := traceRe.FindSubmatchIndex(m.data)
	if sm == nil {
		t.Fatalf("trace header not found at the start:\n%s", m.data[:min(len(m.data), 400)])
	}
	id := string(m.data[sm[2]:sm[3]])
	if id2 := string(m.data[sm[4]:sm[5]]); id2 != id {
		t.Errorf("Received id %q != X-Sekisho-Verdict event %q", id, id2)
	}
	if rest := m.data[sm[1]:]; !bytes.Equal(rest, msg) {
		t.Errorf("body not byte-identical after the trace header:\n got %q\nwant %q", rest, msg)
	}
	if len(tr.insp.bodies) != 1 || !bytes.Equal(tr.insp.bodies[0], msg) {
		t.Errorf("inspector did not read the exact message")
	}
	evs := tr.rec.all()
	if len(evs) != 1 || evs[0].ID != id || evs[0].Verdict != "allow" || evs[0].Action != "forward" ||
		evs[0].Sender != "taro@city.example" || evs[0].Size != int64(len(msg)) {
		t.Errorf("event: %+v", evs)
	}
	// spool is empty afterwards
	ents, _ := os.ReadDir(filepath.Join(tr.dir, "spool"))
	for _, e := range ents {
		if !e.IsDir() {
			t.Errorf("spool file left behind: %s", e.Name())
		}
	}
}

func TestBlockedMailBounceNotice(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = piiDecider("bounce")
	body := "マイナンバー: " + clearMyNumber + "\r\n二人目: 987654321096\r\n"
	msg := testMessage(body)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example", "jiro@partner.example"}, msg)
	wantCode(t, "DATA", res.dataErr, 250)

	got := k.messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages, want only the notice", len(got))
	}
	n := got[0]
	if n.from != "" || len(n.to) != 1 || n.to[0] != "taro@city.example" {
		t.Fatalf("notice envelope: from %q to %v, want <> to the sender", n.from, n.to)
	}
	raw := n.data
	for _, clear := range []string{clearMyNumber, "987654321096", "二人目"} {
		if bytes.Contains(raw, []byte(clear)) {
			t.Errorf("notice holds %q in clear", clear)
		}
	}
	evs := tr.rec.all()
	if len(evs) != 1 || evs[0].Verdict != "block" || evs[0].Action != "bounce" {
		t.Fatalf("events: %+v", evs)
	}
	ev := evs[0]
	if ev.QuarantineID == "" || len(tr.store.data) != 1 || !bytes.Equal(tr.store.data[0], msg) {
		t.Errorf("message not quarantined as received (qid %q)", ev.QuarantineID)
	}
	if len(ev.Detectors) != 1 || ev.Detectors[0].Count != 2 || ev.Detectors[0].Masked[0] != maskedMyNumber {
		t.Errorf("event detectors: %+v", ev.Detectors)
	}
	checkNotice(t, raw, ev.ID, []string{"hanako@partner.example", "jiro@partner.example"})
}

// checkNotice parses a notice with go-message and checks its structure.
func checkNotice(t *testing.T, raw []byte, eventID string, rcpts []string) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse notice: %v", err)
	}
	if got := e.Header.Get("X-Sekisho-Event"); got != eventID {
		t.Errorf("X-Sekisho-Event %q, want %q", got, eventID)
	}
	if got := e.Header.Get("Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted %q", got)
	}
	subj, err := e.Header.Text("Subject")
	if err != nil || !strings.Contains(subj, "送信できませんでした") {
		t.Errorf("Subject %q (%v)", subj, err)
	}
	if rawSubj := e.Header.Get("Subject"); !isASCII(rawSubj) {
		t.Errorf("Subject not RFC 2047 encoded: %q", rawSubj)
	}
	mt, params, _ := e.Header.ContentType()
	if mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %s %v", mt, params)
	}
	mr := e.MultipartReader()
	var types []string
	var texts [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := p.Header.ContentType()
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, pt)
		texts = append(texts, b)
	}
	if strings.Join(types, ",") != "text/plain,message/delivery-status,text/rfc822-headers" {
		t.Fatalf("parts %v", types)
	}
	human := string(texts[0])
	ja, en := strings.Index(human, "このメールは送信されませんでした"), strings.Index(human, "This message was NOT delivered")
	if ja < 0 || en < 0 || ja > en {
		t.Errorf("human part: Japanese first then English wanted (ja %d, en %d)", ja, en)
	}
	for _, want := range []string{"第11条(7)", "マイナンバー（個人番号）: 2 件", maskedMyNumber, "My Number (individual number): 2",
		"パスワード", "password", "file transfer service", eventID, rcpts[0]} {
		if !strings.Contains(human, want) {
			t.Errorf("human part lacks %q:\n%s", want, human)
		}
	}
	ds := string(texts[1])
	if !strings.Contains(ds, "Reporting-MTA: dns; sekisho.test") || !strings.Contains(ds, "Arrival-Date: ") {
		t.Errorf("per-message fields missing:\n%s", ds)
	}
	for _, rc := range rcpts {
		if !strings.Contains(ds, "Final-Recipient: rfc822; "+rc+"\r\nAction: failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: smtp; 550 5.7.1 ") {
			t.Errorf("per-recipient fields for %s missing:\n%s", rc, ds)
		}
	}
	if !strings.Contains(ds, "art. 11(7)") || !isASCII(ds) {
		t.Errorf("diagnostic: %s", ds)
	}
	hdrs := texts[2]
	if !bytes.Contains(hdrs, []byte("Message-ID: <m1@client.test>")) {
		t.Errorf("headers part lacks the original header:\n%s", hdrs)
	}
	if bytes.Contains(hdrs, []byte("マイナンバー")) || bytes.Contains(bytes.TrimRight(hdrs, "\r\n"), []byte("\r\n\r\n")) {
		t.Errorf("headers part holds body text:\n%s", hdrs)
	}
}

func TestBlockedMailReject(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = func(b []byte, it gateway.Item) (*gateway.Verdict, error) {
		v := piiVerdict("reject")
		v.Quarantine = true
		return v, nil
	}
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("x "+clearMyNumber+"\r\n"))
	wantCode(t, "DATA", res.dataErr, 550, "5.7.1", "art. 11(7)", "event ")
	if _, text := smtpCode(res.dataErr); !isASCII(text) || strings.Contains(text, clearMyNumber) {
		t.Errorf("reject text %q", text)
	}
	if n := len(k.messages()); n != 0 {
		t.Errorf("blocked mail arrived at the next hop (%d messages)", n)
	}
	if k.dataSeen != 0 {
		t.Errorf("next hop saw a DATA for blocked mail")
	}
	evs := tr.rec.all()
	if len(evs) != 1 || evs[0].Action != "reject" || evs[0].QuarantineID == "" {
		t.Errorf("events: %+v", evs)
	}
}

func TestMonitorForwards(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = func(b []byte, it gateway.Item) (*gateway.Verdict, error) {
		v := piiVerdict("bounce")
		v.Monitor = true
		return v, nil
	}
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("x\r\n"))
	wantCode(t, "DATA", res.dataErr, 250)
	got := k.messages()
	if len(got) != 1 || !bytes.Contains(got[0].data, []byte("X-Sekisho-Verdict: monitor; event=")) {
		t.Fatalf("monitored mail not forwarded with its verdict: %d", len(got))
	}
	if evs := tr.rec.all(); len(evs) != 1 || evs[0].Verdict != "monitor" || evs[0].Action != "forward" {
		t.Errorf("events: %+v", evs)
	}
}

func TestNullSenderBlockedGetsNoNotice(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = piiDecider("bounce")
	res := send(t, tr.addr, "", []string{"hanako@partner.example"}, testMessage(clearMyNumber+"\r\n"))
	wantCode(t, "DATA", res.dataErr, 250)
	if n := len(k.messages()); n != 0 {
		t.Errorf("next hop got %d messages (a notice to <> or the blocked mail)", n)
	}
	if len(tr.store.data) != 1 {
		t.Errorf("not quarantined")
	}
	if evs := tr.rec.all(); len(evs) != 1 || evs[0].Verdict != "block" || evs[0].Action != "quarantine" {
		t.Errorf("events: %+v", evs)
	}
}

func TestNoticeCannotBeSentTempfails(t *testing.T) {
	k := startSink(t, nil, func(k *sink) {
		k.mailErr = func(from string) error {
			if from == "" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "no bounces here"}
			}
			return nil
		}
	})
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = piiDecider("bounce")
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage(clearMyNumber+"\r\n"))
	wantCode(t, "DATA", res.dataErr, 451, "4.4.0")
	if n := len(k.messages()); n != 0 {
		t.Errorf("next hop got %d messages", n)
	}
	if evs := tr.rec.all(); len(evs) != 1 || evs[0].Action != "tempfail" {
		t.Errorf("events: %+v", evs)
	}
}

func TestQuarantineFailureTempfails(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = piiDecider("bounce")
	tr.store.err = errors.New("disk full")
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage(clearMyNumber+"\r\n"))
	wantCode(t, "DATA", res.dataErr, 451)
	if n := len(k.messages()); n != 0 {
		t.Errorf("next hop got %d messages", n)
	}
}

func TestFaxRecipientRefusedOthersDelivered(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, func(d *Deps) {
		d.IsFax = func(a string) bool { return strings.HasSuffix(a, "@fax.example") }
	})
	res := send(t, tr.addr, "taro@city.example", []string{"0312345678@fax.example", "hanako@partner.example"}, testMessage("hello\r\n"))
	wantCode(t, "RCPT fax", res.rcptErrs[0], 550, "5.7.1", "FAX transmission is forbidden (contract art. 11(6)); event ")
	wantCode(t, "RCPT other", res.rcptErrs[1], 250)
	wantCode(t, "DATA", res.dataErr, 250)
	got := k.messages()
	if len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != "hanako@partner.example" {
		t.Fatalf("delivered: %+v", got)
	}
	evs := tr.rec.all()
	if len(evs) != 2 || evs[0].Reasons[0].Code != rules.ReasonFax || evs[0].Reasons[0].Article != "第11条(6)" ||
		evs[0].Recipients[0] != "0312345678@fax.example" || evs[1].Action != "forward" {
		t.Errorf("events: %+v", evs)
	}
	if _, text := smtpCode(res.rcptErrs[0]); !strings.Contains(text, evs[0].ID) {
		t.Errorf("fax reply %q lacks event %s", text, evs[0].ID)
	}
}

func TestOpenRelayRefused(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) {
		c.AllowedNetworks = []netip.Prefix{mustPrefix("10.0.0.0/8")}
	}, nil)
	res := send(t, tr.addr, "spammer@evil.example", []string{"victim@partner.example"}, testMessage("spam\r\n"))
	wantCode(t, "MAIL", res.mailErr, 550, "5.7.1", "Relay access denied")
	if k.dataSeen != 0 || len(k.messages()) != 0 {
		t.Errorf("next hop was used")
	}
}

func TestNextHopDownTempfails(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	tr := startRelay(t, dead, nil, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "MAIL", res.mailErr, 451, "4.4.1")
	if len(tr.rec.all()) != 0 || tr.insp.bodies != nil {
		t.Errorf("message handled although the next hop is down")
	}
}

func TestNextHopDropsAtDataTempfails(t *testing.T) {
	var sinkConn atomic.Pointer[net.Conn]
	k := startSink(t, nil, func(k *sink) {
		k.dataErr = func(m *sinkMsg) error {
			if c := sinkConn.Load(); c != nil {
				(*c).Close()
			}
			return errors.New("dropped")
		}
		k.onSession = func(c *smtp.Conn) { // capture the sink's server-side conn
			nc := c.Conn()
			sinkConn.Store(&nc)
		}
	})
	tr := startRelay(t, k.addr, nil, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "DATA", res.dataErr, 451, "4.4.2")
	if evs := tr.rec.all(); len(evs) != 1 || evs[0].Action != "forward-failed" {
		t.Errorf("events: %+v", evs)
	}
	// the relay recovers: the next message goes through on a new connection
	k.mu.Lock()
	k.dataErr = nil
	k.mu.Unlock()
	res = send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("again\r\n"))
	wantCode(t, "DATA after drop", res.dataErr, 250)
}

func TestNextHop5xxPassedThrough(t *testing.T) {
	k := startSink(t, nil, func(k *sink) {
		k.dataErr = func(m *sinkMsg) error {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content refused by next hop"}
		}
	})
	tr := startRelay(t, k.addr, nil, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "DATA", res.dataErr, 554, "5.6.0", "content refused by next hop")
}

func TestNextHop4xxPassedThrough(t *testing.T) {
	k := startSink(t, nil, func(k *sink) {
		k.dataErr = func(m *sinkMsg) error {
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "queue full"}
		}
	})
	tr := startRelay(t, k.addr, nil, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "DATA", res.dataErr, 452, "4.3.1")
}

func TestRcptRepliesPassedThrough(t *testing.T) {
	k := startSink(t, nil, func(k *sink) {
		k.rcptErr = func(to string) error {
			if strings.HasPrefix(to, "nobody@") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			if strings.HasPrefix(to, "later@") {
				return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy"}
			}
			return nil
		}
	})
	tr := startRelay(t, k.addr, nil, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"nobody@partner.example", "later@partner.example", "hanako@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "RCPT nobody", res.rcptErrs[0], 550, "5.1.1", "no such user")
	wantCode(t, "RCPT later", res.rcptErrs[1], 450, "4.2.1")
	wantCode(t, "RCPT ok", res.rcptErrs[2], 250)
	wantCode(t, "DATA", res.dataErr, 250)
	if got := k.messages(); len(got) != 1 || strings.Join(got[0].to, ",") != "hanako@partner.example" {
		t.Errorf("delivered: %+v", got)
	}
}

func TestSizeLimit(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) { c.MaxMessageBytes = 4096 }, nil)
	res := sendOpts(t, tr.addr, "taro@city.example", &smtp.MailOptions{Size: 10000}, []string{"hanako@partner.example"}, nil, bytes.NewReader(nil))
	wantCode(t, "MAIL SIZE=10000", res.mailErr, 552, "5.3.4")
	big := testMessage(strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 200))
	res = send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, big)
	wantCode(t, "DATA too big", res.dataErr, 552, "5.3.4")
	if len(k.messages()) != 0 || len(tr.insp.bodies) != 0 {
		t.Errorf("oversized message was inspected or forwarded")
	}
}

func TestInspectionPanicTempfailsAndKeepsSpool(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = func(b []byte, it gateway.Item) (*gateway.Verdict, error) { panic("detector bug") }
	msg := testMessage("hello\r\n")
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, msg)
	wantCode(t, "DATA", res.dataErr, 451, "4.7.0", "event ")
	evs := tr.rec.all()
	if len(evs) != 1 || evs[0].Verdict != "error" || evs[0].Action != "tempfail" || evs[0].Error != "inspection panicked" {
		t.Fatalf("events: %+v", evs)
	}
	kept := filepath.Join(tr.dir, "spool", "failed", evs[0].ID+".eml")
	b, err := os.ReadFile(kept)
	if err != nil || !bytes.Equal(b, msg) {
		t.Errorf("spool copy not kept at %s: %v", kept, err)
	}
	if len(k.messages()) != 0 || k.dataSeen != 0 {
		t.Errorf("uninspected mail was forwarded")
	}
}

func TestInspectionTimeoutTempfails(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) { c.InspectTimeout = 200 * time.Millisecond }, nil)
	block := make(chan struct{})
	defer close(block)
	tr.insp.decide = func(b []byte, it gateway.Item) (*gateway.Verdict, error) {
		<-block // ignores its context, as a buggy stage might
		return allowVerdict(), nil
	}
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("hello\r\n"))
	wantCode(t, "DATA", res.dataErr, 451, "4.7.0")
	if evs := tr.rec.all(); len(evs) != 1 || evs[0].Error != "inspection timed out" {
		t.Errorf("events: %+v", evs)
	}
	if len(k.messages()) != 0 {
		t.Errorf("forwarded")
	}
}

func TestInspectionErrorTempfails(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	tr.insp.decide = func(b []byte, it gateway.Item) (*gateway.Verdict, error) { return nil, errors.New("inspect: i/o") }
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("hello\r\n"))
	wantCode(t, "DATA", res.dataErr, 451, "4.7.0")
	if len(k.messages()) != 0 {
		t.Errorf("forwarded")
	}
}

func TestESMTPParametersPassThrough(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	mo := &smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "env-42", Size: 300}
	ro := &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed},
		OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "hanako@partner.example"}
	res := sendOpts(t, tr.addr, "taro@city.example", mo, []string{"hanako@partner.example"}, ro, bytes.NewReader(testMessage("x\r\n")))
	wantCode(t, "DATA", res.dataErr, 250)
	got := k.messages()
	if len(got) != 1 {
		t.Fatal("not delivered")
	}
	m := got[0]
	if m.mailOpts.Return != smtp.DSNReturnHeaders || m.mailOpts.EnvelopeID != "env-42" || m.mailOpts.Size != 300 ||
		m.mailOpts.Body != smtp.Body8BitMIME {
		t.Errorf("MAIL parameters: %+v", m.mailOpts)
	}
	if len(m.rcptOpts) != 1 || len(m.rcptOpts[0].Notify) != 2 || m.rcptOpts[0].OriginalRecipient != "hanako@partner.example" {
		t.Errorf("RCPT parameters: %+v", m.rcptOpts)
	}

	// SMTPUTF8
	res = sendOpts(t, tr.addr, "太郎@市役所.example", &smtp.MailOptions{UTF8: true}, []string{"花子@相手.example"}, nil, bytes.NewReader(testMessage("x\r\n")))
	wantCode(t, "DATA utf8", res.dataErr, 250)
	got = k.messages()
	if len(got) != 2 || !got[1].mailOpts.UTF8 || got[1].to[0] != "花子@相手.example" {
		t.Errorf("SMTPUTF8 not passed: %+v", got[len(got)-1])
	}
	// non-ASCII without SMTPUTF8 is refused
	res = send(t, tr.addr, "太郎@市役所.example", []string{"hanako@partner.example"}, testMessage("x\r\n"))
	wantCode(t, "MAIL non-ASCII", res.mailErr, 553, "5.6.7")
}

func TestBDATRelayed(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	msg := testMessage("via BDAT\r\n")
	c, err := net.Dial("tcp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	lines := []string{
		"EHLO client.test\r\n", "MAIL FROM:<taro@city.example>\r\n", "RCPT TO:<hanako@partner.example>\r\n",
	}
	r := newLineReader(c)
	r.expect(t, "220")
	for _, l := range lines {
		io.WriteString(c, l)
		r.expect(t, "250")
	}
	half := len(msg) / 2
	io.WriteString(c, "BDAT "+itoa(half)+"\r\n")
	c.Write(msg[:half])
	r.expect(t, "250")
	io.WriteString(c, "BDAT "+itoa(len(msg)-half)+" LAST\r\n")
	c.Write(msg[half:])
	r.expect(t, "250")
	io.WriteString(c, "QUIT\r\n")
	got := k.messages()
	if len(got) != 1 || !bytes.HasSuffix(got[0].data, msg) {
		t.Fatalf("BDAT message not relayed intact")
	}
}

func TestConnectionsPerClientLimited(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) { c.MaxConnsPerClient = 1 }, nil)
	c1, err := net.Dial("tcp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	r1 := newLineReader(c1)
	r1.expect(t, "220")
	c2, err := net.Dial("tcp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	newLineReader(c2).expect(t, "421 4.7.0")
}

func TestIdleClientDisconnected(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond }, nil)
	c, err := net.Dial("tcp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := newLineReader(c)
	r.expect(t, "220")
	io.WriteString(c, "EHLO client.test\r\n")
	r.expect(t, "250 ")
	io.WriteString(c, "MAIL FROM:<taro@city.example>\r\nRCPT TO:<hanako@partner.example>\r\nDATA\r\n")
	r.expect(t, "250")
	r.expect(t, "250")
	r.expect(t, "354")
	start := time.Now()
	io.WriteString(c, "Subject: slow\r\n") // then stall
	r.expect(t, "4")                       // a 4xx (421 idle timeout or 451), then close
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled client held the connection %v", d)
	}
	if len(k.messages()) != 0 {
		t.Errorf("partial message forwarded")
	}
}

// TestLargeMessageBoundedMemory relays a 50 MiB message and checks the heap.
func TestLargeMessageBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	k := startSink(t, nil, func(k *sink) { k.discard = true })
	tr := startRelay(t, k.addr, func(c *Config) { c.MaxMessageBytes = 60 << 20 }, nil)
	tr.insp.stream = true
	const size = 50 << 20
	gen := func() io.Reader { return &genReader{left: size} }
	h := sha256.New()
	io.Copy(h, gen())
	var want [32]byte
	copy(want[:], h.Sum(nil))

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	res := sendOpts(t, tr.addr, "taro@city.example", nil, []string{"hanako@partner.example"}, nil, gen())
	close(stop)
	<-done
	wantCode(t, "DATA 50 MiB", res.dataErr, 250)
	got := k.messages()
	if len(got) != 1 {
		t.Fatal("not delivered")
	}
	if len(tr.insp.sums) != 1 || tr.insp.sums[0] != want {
		t.Errorf("inspector did not see the whole message")
	}
	if got[0].size <= size {
		t.Errorf("sink got %d bytes, want %d plus the trace header", got[0].size, size)
	}
	grow := int64(peak.Load()) - int64(base)
	t.Logf("50 MiB relayed; heap in use grew by at most %.1f MiB (client, relay and sink in one process)", float64(grow)/(1<<20))
	if grow > 24<<20 {
		t.Errorf("heap grew by %d MiB relaying 50 MiB: not bounded", grow>>20)
	}
}

// genReader yields a deterministic CRLF message of left bytes.
type genReader struct {
	left int
	hdr  bool
	line int
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	if !g.hdr {
		g.hdr = true
		n = copy(p, "From: a@city.example\r\nSubject: big\r\n\r\n")
	}
	for n+80 <= len(p) && g.left-n > 80 {
		g.line++
		l := "line " + itoa(g.line) + " " + strings.Repeat("abcdefghij", 8)
		l = l[:78] + "\r\n"
		n += copy(p[n:], l)
	}
	if n == 0 {
		k := min(len(p), g.left)
		for i := 0; i < k-2; i++ {
			p[i] = 'z'
		}
		if k >= 2 {
			p[k-2], p[k-1] = '\r', '\n'
		}
		n = k
	}
	g.left -= n
	return n, nil
}

func TestRelayShutdownRefusesNewSessions(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := tr.relay.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", tr.addr, time.Second); err == nil {
		c.SetDeadline(time.Now().Add(time.Second))
		b := make([]byte, 10)
		if n, _ := c.Read(b); n > 0 && strings.HasPrefix(string(b[:n]), "220") {
			t.Errorf("still greeting after shutdown")
		}
		c.Close()
	}
}

func TestRecipientAndLineLimits(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) { c.MaxRecipients = 2; c.MaxLineLength = 1000 }, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"a@partner.example", "b@partner.example", "c@partner.example"}, testMessage("x\r\n"))
	wantCode(t, "third RCPT", res.rcptErrs[2], 452, "4.5.3")
	wantCode(t, "DATA for two", res.dataErr, 250)
	if got := k.messages(); len(got) != 1 || len(got[0].to) != 2 {
		t.Fatalf("delivered: %+v", got)
	}
	res = send(t, tr.addr, "taro@city.example", []string{"a@partner.example"}, testMessage(strings.Repeat("x", 5000)+"\r\n"))
	if c, _ := smtpCode(res.dataErr); c/100 != 5 {
		t.Errorf("line over the limit: got %d, want 5xx", c)
	}
	if len(k.messages()) != 1 || len(tr.insp.bodies) != 1 {
		t.Errorf("over-long line was inspected or forwarded")
	}
}
