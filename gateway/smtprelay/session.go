package smtprelay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.uber.org/zap"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/rules"
)

type rcpt struct {
	addr string
	opts *smtp.RcptOptions
}

// session is one client connection. Its methods hold mu: with BDAT, go-smtp
// may call Reset/Logout while Data still runs (it first closes Data's
// reader, so Data returns soon and the lock is short).
type session struct {
	r       *Relay
	conn    *smtp.Conn
	remote  netip.Addr
	tls     bool
	log     *zap.Logger // with the client's address; made on first use (logger)
	logOnce sync.Once

	mu   sync.Mutex
	user string
	hop  *hop // the next-hop connection, kept across transactions
	inTx bool // a MAIL is open at the next hop
	// mailPending: the client's MAIL was accepted and goes to the next hop
	// with the first RCPT (PIPELINING).
	mailPending bool
	from        string
	mailOpts    smtp.MailOptions
	rcpts       []rcpt
	// xf is what an MTA in front said of the original client (XFORWARD),
	// for the current transaction.
	xf *xforward
}

var (
	_ smtp.Session     = (*session)(nil)
	_ smtp.AuthSession = (*session)(nil)
)

func (s *session) AuthMechanisms() []string {
	if s.r.deps.Auth == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if s.r.deps.Auth == nil || mech != sasl.Plain {
		return nil, &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Unsupported authentication mechanism"}
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		if err := s.r.deps.Auth(username, password); err != nil {
			s.logger().Info("smtp auth failed", zap.String("user", username))
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		s.mu.Lock()
		s.user = username
		s.mu.Unlock()
		return nil
	}), nil
}

// logger returns the session's logger, made on first use: most sessions
// log nothing, and a child logger costs an encoded field.
func (s *session) logger() *zap.Logger {
	s.logOnce.Do(func() { s.log = s.r.log.With(zap.String("client", s.remote.String())) })
	return s.log
}

func (s *session) mayRelay() bool { return s.user != "" || s.r.allowed(s.remote) }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mayRelay() {
		s.logger().Warn("smtp relay denied", zap.String("stage", "mail"))
		return replyRelayDenied
	}
	if opts == nil {
		opts = &smtp.MailOptions{}
	}
	if !opts.UTF8 && !isASCII(from) {
		return replyNeedUTF8
	}
	s.abortTx()
	s.rcpts = nil
	o := smtp.MailOptions{Size: opts.Size, UTF8: opts.UTF8, Return: opts.Return, EnvelopeID: opts.EnvelopeID}
	if _, err := s.connect(&o); err != nil {
		return err
	}
	s.from, s.mailOpts = from, o
	if s.hop.pipelining() {
		// MAIL goes to the next hop with the first RCPT, in one write: a
		// round trip less per message. A next hop that refuses the sender
		// is answered at RCPT (as Postfix's smtpd_delay_reject does).
		s.mailPending = true
		return nil
	}
	_, err := s.openTx(from, &o, "", nil, true)
	return err
}

// connect makes sure the session has a next-hop connection (its own, a
// pooled one or a new one) that can carry a transaction with options o.
// fresh tells that it was dialled just now. The error is the reply.
func (s *session) connect(o *smtp.MailOptions) (fresh bool, err error) {
	if s.hop == nil {
		s.hop = s.r.hops.get()
	}
	if s.hop == nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.r.cfg.NextHopTimeout)
		h, err := s.r.hops.dial(ctx)
		cancel()
		if err != nil {
			s.logger().Warn("next hop unreachable", zap.String("next_hop", s.r.cfg.NextHop), zap.Error(err))
			return false, nextHopError(err, true)
		}
		s.hop, fresh = h, true
	}
	if o.UTF8 {
		if ok, _ := s.hop.c.Extension("SMTPUTF8"); !ok {
			return fresh, &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "Next hop does not support SMTPUTF8"}
		}
	}
	return fresh, nil
}

// openTx sends MAIL to the next hop and, when to is set and the next hop
// offers PIPELINING, the first RCPT in the same write; before MAIL, with
// xforward and a next hop that offers XFORWARD, the client's attributes. A reused connection
// found stale is replaced once. err is the reply for a failed MAIL (or
// connection); rcptErr is the next hop's raw answer to RCPT, and is
// errRcptNotSent when RCPT still has to be sent.
func (s *session) openTx(from string, o *smtp.MailOptions, to string, ro *smtp.RcptOptions, xforward bool) (rcptErr, err error) {
	for attempt := 0; ; attempt++ {
		fresh, err := s.connect(o)
		if err != nil {
			return nil, err
		}
		var mailErr error
		rcptErr = errRcptNotSent
		if ok, _ := s.hop.c.Extension("XFORWARD"); ok && xforward {
			s.hop.c.XForward(s.xforwardAttrs())
		} else {
			s.hop.c.XForward(nil) // nothing pending from an earlier transaction
		}
		if to != "" && s.hop.pipelining() {
			mailErr, rcptErr = s.hop.c.MailRcpt(from, o, to, ro)
		} else {
			mailErr = s.hop.c.Mail(from, o)
		}
		if mailErr == nil {
			s.inTx = true
			return rcptErr, nil
		}
		if isConnError(mailErr) || isConnError(rcptErr) {
			s.dropHop()
			if !fresh && attempt == 0 && isConnError(mailErr) {
				continue
			}
		}
		return nil, nextHopError(mailErr, false)
	}
}

// errRcptNotSent is openTx's rcptErr when RCPT did not go with MAIL.
var errRcptNotSent = errors.New("smtprelay: RCPT not sent yet")

// rcpt returns the next hop's answer to RCPT TO:<to>: sent, the answer
// openTx got with MAIL, or that of a RCPT sent now.
func (s *session) rcpt(sent error, to string, opts *smtp.RcptOptions) error {
	if sent != errRcptNotSent {
		return sent
	}
	return s.hop.c.Rcpt(to, opts)
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mayRelay() {
		return replyRelayDenied
	}
	if !s.mailOpts.UTF8 && !isASCII(to) {
		return replyNeedUTF8
	}
	if s.r.deps.IsFax(to) {
		return s.refuseFax(to)
	}
	sent := errRcptNotSent
	switch {
	case s.mailPending:
		var err error
		if sent, err = s.openTx(s.from, &s.mailOpts, to, opts, true); err != nil {
			return err
		}
		s.mailPending = false
	case s.hop == nil || !s.inTx:
		return replyNoTransaction
	}
	if err := s.rcpt(sent, to, opts); err != nil {
		if isConnError(err) {
			s.dropHop()
		}
		return nextHopError(err, false)
	}
	s.rcpts = append(s.rcpts, rcpt{addr: to, opts: opts})
	return nil
}

// refuseFax refuses an email-to-FAX recipient (第11条(6)) and records it.
func (s *session) refuseFax(to string) error {
	now := time.Now()
	id := s.r.deps.NewID(now)
	e := s.newEvent(id, now, 0)
	e.Recipients = []string{to}
	e.Verdict, e.Action = string(rules.Block), "reject"
	e.Reasons = []event.Reason{{Code: rules.ReasonFax, Article: "第11条(6)", Detail: "recipient is an email-to-FAX gateway"}}
	if err := s.r.deps.Recorder.Record(context.Background(), e); err != nil {
		s.logger().Error("event record failed", zap.String("event", id), zap.Error(err))
	}
	s.observe("block", "reject", 0)
	s.logger().Info("smtp fax recipient refused", zap.String("event", id))
	return faxReply(id)
}

func (s *session) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abortTx()
	s.from, s.rcpts, s.mailOpts = "", nil, smtp.MailOptions{}
	s.xf = nil // XFORWARD applies to one transaction
}

func (s *session) Logout() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abortTx()
	if s.hop != nil {
		s.r.hops.put(s.hop)
		s.hop = nil
	}
	return nil
}

// abortTx ends an open next-hop transaction with RSET.
func (s *session) abortTx() {
	if s.hop != nil && s.inTx {
		if err := s.hop.c.Reset(); err != nil {
			s.dropHop()
		}
	}
	s.inTx, s.mailPending = false, false
}

func (s *session) dropHop() {
	if s.hop != nil {
		s.hop.broken = true
		s.hop.conn.Close()
		s.hop = nil
	}
	s.inTx = false
}

func (s *session) observe(verdict, action string, d time.Duration) {
	if s.r.deps.Observe != nil {
		s.r.deps.Observe(verdict, action, d)
	}
}

// txn is what Data knows about the message being handled.
type txn struct {
	id    string
	start time.Time
	msg   *spooled
	size  int64
}

func (t *txn) body() io.Reader { return t.msg.reader() }

func (s *session) Data(r io.Reader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &txn{start: time.Now()}
	t.id = s.r.deps.NewID(t.start)
	buf := s.r.hops.getBuf()
	msg, err := s.r.spool.receive(r, *buf)
	s.r.hops.putBuf(buf)
	if err != nil {
		s.abortTx()
		if errors.Is(err, smtp.ErrDataReset) {
			return err
		}
		var se *spoolError
		if errors.As(err, &se) {
			s.logger().Error("spool failed", zap.Error(err))
			return replySpoolFailed
		}
		return dataReadError(err)
	}
	defer msg.release()
	t.msg, t.size = msg, msg.size
	if s.hop == nil || !s.inTx || len(s.rcpts) == 0 {
		return replyNoTransaction
	}

	v, dur, err := s.inspect(t)
	if err != nil {
		return s.inspectFailed(t, dur, err)
	}
	switch {
	case v.Verdict != rules.Block || v.Monitor:
		return s.forward(t, v, dur)
	case v.Action == "reject":
		return s.reject(t, v, dur)
	case v.Action == "tempfail":
		return s.policyTempfail(t, v, dur)
	default: // "bounce" (the default action) or anything unknown
		return s.bounce(t, v, dur)
	}
}

type errPanic struct{ v any }

func (e errPanic) Error() string { return "smtprelay: inspection panicked" }

// inspect runs the inspector on the spool file with a timeout, a bound on
// concurrent inspections and a recover: any failure is an error, so the
// caller fails closed.
func (s *session) inspect(t *txn) (*gateway.Verdict, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.r.cfg.InspectTimeout)
	defer cancel()
	start := time.Now()
	select {
	case s.r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, time.Since(start), fmt.Errorf("smtprelay: waiting for an inspection slot: %w", ctx.Err())
	}
	it := gateway.Item{
		Channel: rules.ChannelSMTP,
		Client:  s.clientIP(),
		Sender:  s.from,
		Body:    t.body(),
	}
	for _, rc := range s.rcpts {
		it.Recipients = append(it.Recipients, rc.addr)
	}
	type result struct {
		v   *gateway.Verdict
		err error
	}
	ch := make(chan result, 1)
	t.msg.hold() // the spooled message outlives an abandoned inspection
	s.r.goroutines.run(func() {
		defer t.msg.release()
		defer func() { <-s.r.sem }() // the slot is freed when the inspection really ends
		defer func() {
			if p := recover(); p != nil {
				s.logger().Error("inspection panicked", zap.String("event", t.id), zap.ByteString("stack", debug.Stack()))
				ch <- result{err: errPanic{p}}
			}
		}()
		v, err := s.r.deps.Inspector.Inspect(ctx, it)
		if err == nil && v == nil {
			err = errors.New("smtprelay: inspector returned no verdict")
		}
		ch <- result{v, err}
	})
	select {
	case res := <-ch:
		return res.v, time.Since(start), res.err
	case <-ctx.Done():
		return nil, time.Since(start), fmt.Errorf("smtprelay: inspection: %w", ctx.Err())
	}
}

// inspectFailed keeps the spooled message for diagnosis and answers 451:
// uninspected mail is never forwarded.
func (s *session) inspectFailed(t *txn, dur time.Duration, ierr error) error {
	s.abortTx()
	class := "inspection failed"
	var p errPanic
	switch {
	case errors.As(ierr, &p):
		class = "inspection panicked"
	case errors.Is(ierr, context.DeadlineExceeded):
		class = "inspection timed out"
	}
	path, kerr := t.msg.keep(t.id)
	if kerr != nil {
		s.logger().Error("keeping failed message", zap.String("event", t.id), zap.Error(kerr))
	}
	s.logger().Error("smtp "+class+": answered 451, message kept", zap.String("event", t.id),
		zap.String("spool", path), zap.String("error_type", fmt.Sprintf("%T", ierr)))
	e := s.newEvent(t.id, t.start, t.size)
	e.Verdict, e.Action, e.Error = "error", "tempfail", class
	e.DurationMS = time.Since(t.start).Milliseconds()
	if err := s.r.deps.Recorder.Record(context.Background(), e); err != nil {
		s.logger().Error("event record failed", zap.String("event", t.id), zap.Error(err))
	}
	s.observe("error", "tempfail", dur)
	return inspectFailedReply(t.id)
}

// forward sends allowed (or monitored) mail to the next hop.
func (s *session) forward(t *txn, v *gateway.Verdict, dur time.Duration) error {
	verdict := string(rules.Allow)
	if v.Verdict == rules.Block {
		verdict = "monitor"
	}
	prefix := s.traceHeader(t.id, verdict)
	text, err := s.r.hops.sendBody(s.hop, prefix, t.body())
	s.inTx = false
	e := s.newEvent(t.id, t.start, t.size)
	gateway.FillEvent(e, v)
	e.Verdict, e.Action = verdict, "forward"
	e.Ledger = verdict == string(rules.Allow) && v.CarriesEncrypted()
	var reply error
	if err != nil {
		if s.hop.broken {
			s.dropHop()
		}
		r := nextHopError(err, false)
		e.Action, e.Error = "forward-failed", fmt.Sprintf("next hop: %d %s", r.Code, enh(r.EnhancedCode))
		reply = r
	} else {
		msg := "OK: queued as " + t.id
		if nt := cleanReplyText(strings.ReplaceAll(text, "\n", " ")); nt != "" {
			msg += " (next hop: " + nt + ")"
		}
		reply = &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: msg}
	}
	e.DurationMS = time.Since(t.start).Milliseconds()
	// The next hop has the message: answering 4xx now would deliver it
	// twice, so a recording failure is only logged (and the recorder's
	// asynchronous path is used when it offers one).
	var rerr error
	if ar, ok := s.r.deps.Recorder.(asyncRecorder); ok {
		rerr = ar.RecordAsync(e)
	} else {
		rerr = s.r.deps.Recorder.Record(context.Background(), e)
	}
	if rerr != nil {
		s.logger().Error("event record failed", zap.String("event", t.id), zap.Error(rerr))
	}
	s.observe(verdict, e.Action, dur)
	return reply
}

// asyncRecorder is offered by recorders that can queue an event without
// waiting for its commit (event.Log).
type asyncRecorder interface {
	RecordAsync(e *event.Event) error
}

// policyTempfail answers 451 when the policy could not finish its decision
// (e.g. custom detectors timed out): the sender retries later.
func (s *session) policyTempfail(t *txn, v *gateway.Verdict, dur time.Duration) error {
	s.abortTx()
	e := s.newEvent(t.id, t.start, t.size)
	gateway.FillEvent(e, v)
	e.Verdict, e.Action, e.Error = string(rules.Block), "tempfail", "policy asked to try again later"
	e.DurationMS = time.Since(t.start).Milliseconds()
	if err := s.r.deps.Recorder.Record(context.Background(), e); err != nil {
		s.logger().Error("event record failed", zap.String("event", t.id), zap.Error(err))
	}
	s.observe("block", "tempfail", dur)
	return tempfail(smtp.EnhancedCode{4, 7, 0}, "Message could not be fully inspected, try again later; event "+t.id)
}

// reject answers 550 5.7.1; the sending MTA writes the bounce.
func (s *session) reject(t *txn, v *gateway.Verdict, dur time.Duration) error {
	s.abortTx()
	e := s.newEvent(t.id, t.start, t.size)
	gateway.FillEvent(e, v)
	e.Verdict, e.Action = string(rules.Block), "reject"
	if v.Quarantine && s.r.deps.Quarantine != nil {
		qid, err := s.quarantine(t, v)
		if err != nil {
			return s.tempfailBlocked(t, e, dur, "quarantine failed", err)
		}
		e.QuarantineID = qid
	}
	e.DurationMS = time.Since(t.start).Milliseconds()
	if err := s.r.deps.Recorder.Record(context.Background(), e); err != nil {
		s.logger().Error("event record failed: answering 451", zap.String("event", t.id), zap.Error(err))
		s.observe("block", "tempfail", dur)
		return tempfail(smtp.EnhancedCode{4, 3, 0}, "Cannot record the decision, try again later; event "+t.id)
	}
	s.observe("block", "reject", dur)
	return blockedReply(v.Decision, t.id)
}

// bounce quarantines the message, sends the sender a notice through the
// next hop and answers 250; the quarantine copy and the event are durable
// before the 250. If the notice cannot be handed over, it answers 4xx.
func (s *session) bounce(t *txn, v *gateway.Verdict, dur time.Duration) error {
	s.abortTx()
	e := s.newEvent(t.id, t.start, t.size)
	gateway.FillEvent(e, v)
	e.Verdict, e.Action = string(rules.Block), "bounce"
	if s.r.deps.Quarantine != nil {
		qid, err := s.quarantine(t, v)
		if err != nil {
			return s.tempfailBlocked(t, e, dur, "quarantine failed", err)
		}
		e.QuarantineID = qid
	}
	msg := "Blocked by the data-loss-prevention policy; a notice was sent to the sender; event " + t.id
	if s.from == "" {
		// No notice for a null sender: no bounce loops.
		e.Action = "quarantine"
		msg = "Blocked by the data-loss-prevention policy and quarantined (null sender, no notice); event " + t.id
	} else if err := s.sendNotice(t, v); err != nil {
		r := nextHopError(err, false)
		return s.tempfailBlocked(t, e, dur, fmt.Sprintf("notice not accepted by the next hop: %d %s", r.Code, enh(r.EnhancedCode)), err)
	}
	e.DurationMS = time.Since(t.start).Milliseconds()
	if err := s.r.deps.Recorder.Record(context.Background(), e); err != nil {
		s.logger().Error("event record failed: answering 451", zap.String("event", t.id), zap.Error(err))
		s.observe("block", "tempfail", dur)
		return tempfail(smtp.EnhancedCode{4, 3, 0}, "Cannot record the decision, try again later; event "+t.id)
	}
	s.observe("block", e.Action, dur)
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: msg}
}

// tempfailBlocked records a blocked message that could not be handled and answers 451.
func (s *session) tempfailBlocked(t *txn, e *event.Event, dur time.Duration, why string, err error) error {
	s.logger().Error("smtp blocked message: "+why+": answered 451", zap.String("event", t.id), zap.Error(err))
	e.Action, e.Error = "tempfail", why
	e.DurationMS = time.Since(t.start).Milliseconds()
	if rerr := s.r.deps.Recorder.Record(context.Background(), e); rerr != nil {
		s.logger().Error("event record failed", zap.String("event", t.id), zap.Error(rerr))
	}
	s.observe("block", "tempfail", dur)
	if strings.HasPrefix(why, "notice") {
		return tempfail(smtp.EnhancedCode{4, 4, 0}, "Blocked by policy and the notice to the sender could not be sent, try again later; event "+t.id)
	}
	return tempfail(smtp.EnhancedCode{4, 3, 0}, "Blocked by policy and could not be quarantined, try again later; event "+t.id)
}

// sendNotice sends the bounce notice with MAIL FROM:<> to the sender.
func (s *session) sendNotice(t *txn, v *gateway.Verdict) error {
	hdr, err := readHeaderBlock(t.body(), 1<<20)
	if err != nil {
		return fmt.Errorf("smtprelay: read header for notice: %w", err)
	}
	n := s.notice(t, v)
	var buf bytes.Buffer
	if err := WriteNotice(&buf, n, NoticeOptions{
		ReportingMTA:   s.r.cfg.Hostname,
		Postmaster:     s.r.cfg.Postmaster,
		OriginalHeader: hdr,
		MaskSubject:    v.SubjectHasFinding(),
		Date:           time.Now(),
	}); err != nil {
		return err
	}
	utf8 := !isASCII(s.from) || !allASCII(n.Recipients)
	o := &smtp.MailOptions{UTF8: utf8}
	// The notice is sekisho's own mail: no XFORWARD naming the client.
	sent, err := s.openTx("", o, s.from, nil, false)
	if err != nil {
		return err
	}
	if err := s.rcpt(sent, s.from, nil); err != nil {
		if isConnError(err) {
			s.dropHop()
		} else {
			s.abortTx()
		}
		return err
	}
	_, err = s.r.hops.sendBody(s.hop, nil, &buf)
	s.inTx = false
	if err != nil && s.hop.broken {
		s.dropHop()
	}
	return err
}

// notice gathers what the bounce notice says.
func (s *session) notice(t *txn, v *gateway.Verdict) Notice {
	n := Notice{EventID: t.id, Arrival: t.start, Sender: s.from, EnvelopeID: s.mailOpts.EnvelopeID, ORCPT: map[string]string{}}
	for _, rc := range s.rcpts {
		n.Recipients = append(n.Recipients, rc.addr)
		if rc.opts != nil && rc.opts.OriginalRecipient != "" {
			n.ORCPT[rc.addr] = rc.opts.OriginalRecipient
		}
	}
	if v.Header != nil && !v.SubjectHasFinding() {
		n.Subject = v.Header.Subject
	}
	for _, r := range v.Reasons {
		n.Reasons = append(n.Reasons, NoticeReason{
			Code: r.Code, Article: r.Article, Place: r.Place, Counts: r.Counts,
			Masked: maskedFor(v, r.Place, r.Counts), Recipients: r.Recipients,
		})
	}
	return n
}

// traceHeader is the Received field and the X-Sekisho-Verdict field added
// in front of a forwarded message.
func (s *session) traceHeader(id, verdict string) []byte {
	helo := headerToken(s.conn.Hostname())
	with := "ESMTP"
	if s.mailOpts.UTF8 {
		with = "UTF8SMTP"
	}
	if s.tls {
		with += "S"
	}
	if s.user != "" {
		with += "A"
	}
	// Appended, not formatted: it is made for every message.
	b := make([]byte, 0, 256+2*len(helo)+len(id)*2)
	b = append(b, "Received: from "...)
	b = append(b, helo...)
	b = append(b, " ("...)
	b = append(b, helo...)
	b = append(b, " ["...)
	b = s.remote.AppendTo(b)
	b = append(b, "])\r\n\tby "...)
	b = append(b, s.r.cfg.Hostname...)
	b = append(b, " (sekisho) with "...)
	b = append(b, with...)
	b = append(b, " id "...)
	b = append(b, id...)
	if len(s.rcpts) == 1 {
		b = append(b, "\r\n\tfor <"...)
		b = append(b, s.rcpts[0].addr...)
		b = append(b, '>')
	}
	b = append(b, ";\r\n\t"...)
	b = time.Now().AppendFormat(b, time.RFC1123Z)
	b = append(b, "\r\nX-Sekisho-Verdict: "...)
	b = append(b, verdict...)
	b = append(b, "; event="...)
	b = append(b, id...)
	return append(b, "\r\n"...)
}

// headerToken keeps a client-supplied name safe for a header comment.
func headerToken(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0x20 && r < 0x7f && r != '(' && r != ')' && r != '[' && r != ']' && r != '\\' {
			b.WriteRune(r)
		}
		if b.Len() >= 255 {
			break
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

func enh(c smtp.EnhancedCode) string {
	if c == smtp.NoEnhancedCode || c == smtp.EnhancedCodeNotSet {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
}

// isConnError reports whether err is a failure of the connection rather than
// a reply of the next hop (a 421 counts as a closed connection).
func isConnError(err error) bool {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code == 421
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, errHopBroken)
}
