package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/sekisho-dlp/sekisho/gateway/event"
)

// The deployment the README documents: Postfix hands every queued message
// to sekisho (content_filter), sekisho re-injects what passes on Postfix's
// loopback port 10026. The snippets under testdata/postfix are what an
// administrator pastes; the test builds its Postfix from them, with only
// the two ports replaced, so the documented configuration is the tested one.
const (
	postfixSnippetDir = "../../testdata/postfix"
	// documentedFilter and documentedReinject are the addresses the
	// snippets name; they must be sekisho's defaults.
	documentedFilter   = "[127.0.0.1]:2525"
	documentedReinject = "127.0.0.1:10026"
	// myNumberVector is a check-digit-valid My Number (written with spaces).
	myNumberVector = "4842 3847 2595"
	myNumberMasked = "********2595"
)

// postfixBin finds postfix; the test runs with SEKISHO_POSTFIX_TEST=1 or
// CI=true and then fails (not skips) when postfix or root is missing.
func postfixBin(t *testing.T) string {
	t.Helper()
	if os.Getenv("SEKISHO_POSTFIX_TEST") == "" && os.Getenv("CI") != "true" {
		t.Skip("set SEKISHO_POSTFIX_TEST=1 (or CI=true) to run the Postfix integration test")
	}
	bin, err := exec.LookPath("postfix")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/postfix"); err2 != nil {
			t.Fatalf("postfix is not installed (DEBIAN_FRONTEND=noninteractive apt-get install -y postfix): %v", err)
		}
		bin = "/usr/sbin/postfix"
	}
	if os.Geteuid() != 0 {
		t.Fatal("the Postfix test needs root (postfix -c DIR start): run it as root, e.g. sudo bash .ci/run")
	}
	return bin
}

// readSnippet reads a documented snippet and replaces the documented
// addresses with the test's; each must occur, so a snippet edited away
// from sekisho's defaults fails here.
func readSnippet(t *testing.T, name string, repl map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(postfixSnippetDir, name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for from, to := range repl {
		if !strings.Contains(s, from) {
			t.Fatalf("%s does not name %s", name, from)
		}
		s = strings.ReplaceAll(s, from, to)
	}
	return s
}

// maildir is one virtual mailbox of the test Postfix.
type maildir string

// messages returns the delivered messages (in no particular order: pick
// one with find).
func (m maildir) messages() [][]byte {
	ents, _ := os.ReadDir(filepath.Join(string(m), "new"))
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		if b, err := os.ReadFile(filepath.Join(string(m), "new", n)); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// find returns the one delivered message that holds every marker; it
// fails the test when none or several do.
func (m maildir) find(t *testing.T, what string, markers ...string) []byte {
	t.Helper()
	var hits [][]byte
	for _, msg := range m.messages() {
		ok := true
		for _, k := range markers {
			ok = ok && bytes.Contains(msg, []byte(k))
		}
		if ok {
			hits = append(hits, msg)
		}
	}
	if len(hits) != 1 {
		t.Fatalf("%s: %d messages in %s hold %q, want 1:\n%s", what, len(hits), m, markers, bytes.Join(m.messages(), []byte("\n=====\n")))
	}
	return hits[0]
}

// selfSignedPEM writes a throwaway certificate and key for Postfix's
// STARTTLS (Debian enables smtpd TLS with a snakeoil certificate).
func selfSignedPEM(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "postfix.test"},
		DNSNames: []string{"postfix.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// decodedParts parses a message and returns its header and the decoded
// body of every leaf part, in order, with its media type.
func decodedParts(t *testing.T, raw []byte) (message.Header, []string, []string) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	var types, bodies []string
	err = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		mt, _, _ := part.Header.ContentType()
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			return err
		}
		types, bodies = append(types, mt), append(bodies, string(b))
		return nil
	})
	if err != nil {
		t.Fatalf("walk message: %v", err)
	}
	return e.Header, types, bodies
}

// TestPostfixContentFilterMailboxes runs Postfix with the documented
// content_filter snippets in front of `sekisho serve`, delivering the test
// domains into Maildirs: a clean message reaches the recipient with
// sekisho's trace header; a message with a My Number reaches no one and
// sekisho's bounce notice reaches the sender's mailbox through Postfix; a
// FAX recipient is refused by sekisho at RCPT, Postfix bounces that one
// recipient to the sender and delivers to the other.
func TestPostfixContentFilterMailboxes(t *testing.T) {
	postfix := postfixBin(t)

	// The snippets name sekisho's defaults.
	if want := "[127.0.0.1]:" + strings.TrimPrefix(defaultSMTPListen, "127.0.0.1:"); want != documentedFilter {
		t.Fatalf("sekisho listens on %s by default, the snippets document %s", defaultSMTPListen, documentedFilter)
	}
	if defaultNextHop != documentedReinject {
		t.Fatalf("sekisho's default next hop is %s, the snippets document %s", defaultNextHop, documentedReinject)
	}

	// Postfix's processes run as the postfix user: the work dir must be
	// reachable by it (t.TempDir is 0700).
	work, err := os.MkdirTemp("", "sekisho-postfix-cf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	os.Chmod(work, 0o755)
	conf, spool, data, mboxes := filepath.Join(work, "conf"), filepath.Join(work, "spool"), filepath.Join(work, "data"), filepath.Join(work, "mail")
	for _, d := range []string{conf, spool, data, mboxes} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Mailboxes belong to nobody (virtual_uid_maps).
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("look up user nobody: %v", err)
	}
	for _, c := range [][]string{{"chown", "postfix", data}, {"chown", nobody.Uid + ":" + nobody.Gid, mboxes}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", c, err, out)
		}
	}
	certFile, keyFile := filepath.Join(conf, "cert.pem"), filepath.Join(conf, "key.pem")
	selfSignedPEM(t, certFile, keyFile)
	maillog := func() string { b, _ := os.ReadFile(filepath.Join(work, "maillog")); return string(b) }

	submitPort, reinjectPort := freePort(t), freePort(t)
	reinject := fmt.Sprintf("127.0.0.1:%d", reinjectPort)
	g := startServe(t, reinject)
	_, sekPort, _ := net.SplitHostPort(g.addrs.SMTP)

	// Postfix's name is the host's, as on a real server: sekisho (whose
	// default name is the host's too) must not trip Postfix's loop check.
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "postfix.test"
	}
	mainCf := fmt.Sprintf(`# test base: a private instance on loopback high ports
compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
meta_directory = /etc/postfix
maillog_file = %[3]s/maillog
maillog_file_prefixes = %[3]s
myhostname = %[5]s
mydomain = test
myorigin = $myhostname
mydestination =
local_transport = error:local delivery disabled
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_dns_support_level = disabled
smtp_tls_security_level = may
smtpd_tls_security_level = may
smtpd_tls_cert_file = %[6]s
smtpd_tls_key_file = %[7]s
alias_maps =
alias_database =
biff = no
delay_warning_time = 0
# the two test domains are delivered into Maildirs
virtual_mailbox_domains = city.test corp.test
virtual_mailbox_base = %[4]s
virtual_mailbox_maps = inline:{ tanaka@corp.test=corp.test/tanaka/, kakari@city.test=city.test/kakari/ }
virtual_uid_maps = static:%[8]s
virtual_gid_maps = static:%[9]s
virtual_transport = virtual

`, spool, data, work, mboxes, host, certFile, keyFile, nobody.Uid, nobody.Gid) + readSnippet(t, "main.cf.snippet", map[string]string{documentedFilter: "[127.0.0.1]:" + sekPort})
	masterCf := fmt.Sprintf(`# test base: the users' SMTP listener on a high port, Postfix's own services
127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd

`, submitPort) + readSnippet(t, "master.cf.snippet", map[string]string{documentedReinject: reinject})
	if err := os.WriteFile(filepath.Join(conf, "main.cf"), []byte(mainCf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "master.cf"), []byte(masterCf), 0o644); err != nil {
		t.Fatal(err)
	}
	// A misspelt parameter in a snippet shows here ("unused parameter").
	if out, err := exec.Command(postfix, "-c", conf, "check").CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("postfix check: %v %s", err, out)
	}
	if out, err := exec.Command(postfix, "-c", conf, "start").CombinedOutput(); err != nil {
		t.Fatalf("postfix start: %v %s\n%s", err, out, maillog())
	}
	t.Cleanup(func() { exec.Command(postfix, "-c", conf, "stop").Run() })

	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", submitPort), reinject} {
		var c *smtp.Client
		for i := 0; i < 100; i++ {
			if c, err = smtp.Dial(addr); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if c == nil {
			t.Fatalf("postfix did not listen on %s: %v\n%s", addr, err, maillog())
		}
		c.Close()
	}

	// The users' mail comes from 127.0.0.9, an address of its own, so that
	// the events show XFORWARD at work (Postfix itself is 127.0.0.1).
	submit := func(subject, body string, to ...string) {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}, Timeout: 10 * time.Second}
		conn, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", submitPort))
		if err != nil {
			t.Fatal(err)
		}
		c := smtp.NewClient(conn)
		defer c.Close()
		msg := "From: =?UTF-8?B?55Sw5Lit?= <tanaka@corp.test>\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: " + subject + "\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
		if err := c.SendMail("tanaka@corp.test", to, strings.NewReader(msg)); err != nil {
			t.Fatalf("submit to postfix: %v\n%s", err, maillog())
		}
	}
	kakari := maildir(filepath.Join(mboxes, "city.test", "kakari"))
	tanaka := maildir(filepath.Join(mboxes, "corp.test", "tanaka"))
	// waitMail polls the Maildirs until each holds its count, or 30 s pass.
	waitMail := func(what string, wantKakari, wantTanaka int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if len(kakari.messages()) >= wantKakari && len(tanaka.messages()) >= wantTanaka {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: within 30s kakari has %d messages (want %d), tanaka %d (want %d)\nmaillog:\n%s\nsekisho log:\n%s",
			what, len(kakari.messages()), wantKakari, len(tanaka.messages()), wantTanaka, maillog(), g.log)
	}

	// 1. A clean message reaches kakari's mailbox through sekisho.
	submit("meeting", "会議は10時からです。\r\n", "kakari@city.test")
	waitMail("clean message", 1, 0)
	clean := kakari.messages()[0]
	for _, want := range []string{"X-Sekisho-Verdict: allow; event=", "(sekisho) with", "会議は10時からです。", "Return-Path: <tanaka@corp.test>"} {
		if !bytes.Contains(clean, []byte(want)) {
			t.Errorf("clean message lacks %q:\n%s", want, clean)
		}
	}
	// Postfix received it twice: from the user, then from sekisho on the re-injection port.
	if n := bytes.Count(clean, []byte("(Postfix)")); n < 2 {
		t.Errorf("clean message went through Postfix %d times, want 2 (submission, re-injection):\n%s", n, clean)
	}
	// Postfix named the user's address with XFORWARD: the event records it,
	// with Postfix's queue ID and Postfix as "via".
	if c := waitEventClient(t, g.dir, "meeting"); !strings.HasPrefix(c, "127.0.0.9 (") ||
		!strings.Contains(c, "queue ") || !strings.HasSuffix(c, "; via 127.0.0.1)") {
		t.Errorf("event client %q, want the user's 127.0.0.9 via Postfix's 127.0.0.1", c)
	} else {
		t.Logf("event client: %s", c)
	}
	// sekisho passed it on: Postfix's re-injection listener logs the user
	// as the original client (smtpd_authorized_xforward_hosts).
	if !regexp.MustCompile(`postfix/reinject/smtpd\[\d+\]: \w+: client=\S+, orig_queue_id=\w+, orig_client=\S*\[127\.0\.0\.9\]`).MatchString(maillog()) {
		t.Errorf("Postfix's re-injection log does not name 127.0.0.9 as orig_client:\n%s", maillog())
	}

	// 2. A My Number in the body: kakari gets nothing, tanaka gets
	// sekisho's notice in his mailbox, delivered by Postfix.
	submit("list", "個人番号 "+myNumberVector+"\r\n", "kakari@city.test")
	waitMail("bounce notice", 1, 1)
	notice := tanaka.find(t, "sekisho's notice", "X-Sekisho-Event: ")
	if bytes.Contains(notice, []byte(myNumberVector)) || bytes.Contains(notice, []byte(strings.ReplaceAll(myNumberVector, " ", ""))) {
		t.Errorf("notice holds the My Number in clear:\n%s", notice)
	}
	for _, want := range []string{"Return-Path: <>", "Status: 5.7.1", "X-Sekisho-Event: "} {
		if !bytes.Contains(notice, []byte(want)) {
			t.Errorf("notice lacks %q:\n%s", want, notice)
		}
	}
	hdr, types, bodies := decodedParts(t, notice)
	if mt, p, _ := hdr.ContentType(); mt != "multipart/report" || p["report-type"] != "delivery-status" {
		t.Errorf("notice type %s %v, want multipart/report; report-type=delivery-status", mt, p)
	}
	if len(types) != 3 || types[0] != "text/plain" || types[1] != "message/delivery-status" {
		t.Fatalf("notice parts %v, want text/plain, message/delivery-status, headers", types)
	}
	if !strings.HasPrefix(strings.TrimSpace(bodies[0]), "このメールは送信されませんでした。") {
		t.Errorf("notice does not start in Japanese:\n%s", bodies[0])
	}
	if !strings.Contains(bodies[1], "Final-Recipient: rfc822; kakari@city.test") {
		t.Errorf("notice's delivery status does not name kakari:\n%s", bodies[1])
	}
	for i, b := range bodies {
		if strings.Contains(b, myNumberVector) || strings.Contains(b, strings.ReplaceAll(myNumberVector, " ", "")) {
			t.Errorf("notice part %d (%s) holds the My Number in clear:\n%s", i, types[i], b)
		}
	}
	if strings.Contains(bodies[0], myNumberMasked) {
		t.Logf("notice shows the masked value %s", myNumberMasked)
	}
	mh := mail.Header{Header: hdr}
	if subj, err := mh.Subject(); err != nil || !strings.Contains(subj, "送信できませんでした") {
		t.Errorf("notice subject %q (%v)", subj, err)
	}
	if n := len(kakari.messages()); n != 1 {
		t.Errorf("the blocked message reached kakari (%d messages)", n)
	}

	// 3. A FAX recipient with kakari: sekisho refuses the FAX recipient at
	// RCPT (550 5.7.1, art. 11(6)), Postfix bounces that recipient to
	// tanaka and delivers the message to kakari.
	const fax = "0312345678@fax.tc"
	submit("fax", "FAX でも送ってください。\r\n", fax, "kakari@city.test")
	waitMail("FAX refusal", 2, 2)
	kakari.find(t, "kakari's copy of the FAX message", "FAX でも送ってください。", "X-Sekisho-Verdict: allow")
	bounce := tanaka.find(t, "Postfix's bounce", "Subject: Undelivered Mail Returned to Sender")
	// Postfix folds long lines in its bounce: compare with whitespace collapsed.
	flat := strings.Join(strings.Fields(string(bounce)), " ")
	for _, want := range []string{"MAILER-DAEMON", "Final-Recipient: rfc822; " + fax, "Status: 5.7.1",
		"550 5.7.1 FAX transmission is forbidden (contract art. 11(6)); event ", "(in reply to RCPT TO command)"} {
		if !strings.Contains(flat, want) {
			t.Errorf("Postfix's bounce for the FAX recipient lacks %q:\n%s", want, bounce)
		}
	}
	if bytes.Contains(bounce, []byte("Final-Recipient: rfc822; kakari@city.test")) {
		t.Errorf("Postfix bounced kakari too:\n%s", bounce)
	}

	if strings.Contains(g.log.String(), myNumberVector) || strings.Contains(maillog(), myNumberVector) {
		t.Errorf("a log holds the My Number in clear")
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("postfix maillog:\n%s", maillog())
	}
}

// waitEventClient returns the client of the event whose subject is subject,
// waiting up to 10 s for it to be committed.
func waitEventClient(t *testing.T, dataDir, subject string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, out, _ := runCmdForTest(cmdEvents, "list", "--json", "--data-dir", dataDir)
		var evs []event.Event
		json.Unmarshal([]byte(out), &evs)
		for _, e := range evs {
			if e.Subject == subject {
				return e.Client
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event with subject %q within 10 s:\n%s", subject, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReadmeHasPostfixSnippets: the README's Postfix lines are the tested
// snippets, to the letter.
func TestReadmeHasPostfixSnippets(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"main.cf.snippet", "master.cf.snippet"} {
		b, err := os.ReadFile(filepath.Join(postfixSnippetDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, bytes.TrimSpace(b)) {
			t.Errorf("README.md does not hold testdata/postfix/%s as it is: copy it over", name)
		}
	}
}
