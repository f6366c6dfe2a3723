package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/event"
)

// dataDirDefault is the data directory when --data-dir is not given.
const dataDirDefault = "./sekisho-data"

const eventsUsage = `usage: sekisho events COMMAND [flags]

  list    [--since T] [--until T] [--verdict block|allow|monitor] [--reason CODE]
          [--sender ADDR] [--client IP] [--channel smtp|http] [--action A] [--ledger]
          [--limit N] [--json]
  show    ID [--json]
  verify  [--anchor SEQ:HASH]... check the hash chain, and that the events of
          heads written down earlier (sekisho serve logs one every hour) are
          still there unchanged; exit 1 if not
  report  [--since T] [--until T] [--json]: counts per verdict, reason and detector,
          and the ledger (管理簿) of what left with encryption

T is RFC 3339 (2026-11-25T09:00:00+09:00), a date (2026-11-25, local time),
or a duration back from now (24h, 7d). Every command takes --data-dir DIR
(default ./sekisho-data).
`

// eventsFlags are the flags of every events command.
type eventsFlags struct {
	dataDir, since, until, verdict, reason, sender, client, channel, action string
	ledger, json                                                            bool
	limit                                                                   int
	anchors                                                                 anchorList
}

func cmdEvents(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("events", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, eventsUsage) }
	var f eventsFlags
	fs.StringVar(&f.dataDir, "data-dir", dataDirDefault, "data directory holding events.db")
	fs.StringVar(&f.since, "since", "", "only events at or after `T`")
	fs.StringVar(&f.until, "until", "", "only events before `T`")
	fs.StringVar(&f.verdict, "verdict", "", "only this verdict: block, allow or monitor")
	fs.StringVar(&f.reason, "reason", "", "only events with this reason `code`")
	fs.StringVar(&f.sender, "sender", "", "only this envelope sender")
	fs.StringVar(&f.client, "client", "", "only this client `IP` (behind Postfix: the original client, with XFORWARD)")
	fs.StringVar(&f.channel, "channel", "", "only this channel: smtp or http")
	fs.StringVar(&f.action, "action", "", "only this action (forward, bounce, quarantine, destroyed, ...)")
	fs.BoolVar(&f.ledger, "ledger", false, "only ledger (管理簿) entries")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	fs.IntVar(&f.limit, "limit", 0, "print only the latest `N` events (0: all)")
	fs.Var(&f.anchors, "anchor", "verify: a head written down earlier, `SEQ:HASH` (repeatable)")
	pos, code, ok := parseSubcommand(fs, args, eventsUsage, stderr)
	if !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "sekisho events %s: %v\n", pos[0], err)
		return 1
	}
	filter, err := f.filter(time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "sekisho events %s: %v\n", pos[0], err)
		return 2
	}
	run := map[string]func(context.Context, *event.Log) error{
		"list":   func(ctx context.Context, l *event.Log) error { return eventsList(ctx, l, filter, f.json, stdout) },
		"report": func(ctx context.Context, l *event.Log) error { return eventsReport(ctx, l, filter, f.json, stdout) },
		"verify": func(ctx context.Context, l *event.Log) error { return eventsVerify(ctx, l, f.anchors, stdout) },
		"show":   func(ctx context.Context, l *event.Log) error { return eventsShow(ctx, l, pos[1], f.json, stdout) },
	}[pos[0]]
	if run == nil {
		fmt.Fprintf(stderr, "sekisho events: unknown command %q\n", pos[0])
		fmt.Fprint(stderr, eventsUsage)
		return 2
	}
	if pos[0] == "show" && len(pos) != 2 {
		fmt.Fprintln(stderr, "sekisho events show: give one event ID (see sekisho events list)")
		return 2
	}
	if pos[0] != "show" && len(pos) > 1 {
		fmt.Fprintf(stderr, "sekisho events %s: unexpected argument %q\n", pos[0], pos[1])
		return 2
	}
	l, err := openEventLog(f.dataDir)
	if err != nil {
		return fail(err)
	}
	defer l.Close()
	if err := run(context.Background(), l); err != nil {
		return fail(err)
	}
	return 0
}

// openEventLog opens the event log of an existing data directory.
func openEventLog(dataDir string) (*event.Log, error) {
	return event.OpenWithOptions(filepath.Join(dataDir, "events.db"), nil, event.Options{MustExist: true})
}

func (f *eventsFlags) filter(now time.Time) (event.Filter, error) {
	var flt event.Filter
	var err error
	if flt.Since, err = parseWhen(f.since, now); err != nil {
		return flt, fmt.Errorf("--since: %w", err)
	}
	if flt.Until, err = parseWhen(f.until, now); err != nil {
		return flt, fmt.Errorf("--until: %w", err)
	}
	switch f.verdict {
	case "", "block", "allow", "monitor":
	default:
		return flt, fmt.Errorf("--verdict %q: want block, allow or monitor", f.verdict)
	}
	switch f.channel {
	case "", "smtp", "http":
	default:
		return flt, fmt.Errorf("--channel %q: want smtp or http", f.channel)
	}
	if f.limit < 0 {
		return flt, fmt.Errorf("--limit %d: want 0 or more", f.limit)
	}
	flt.Verdict, flt.Reason, flt.Sender, flt.Channel, flt.Action = f.verdict, f.reason, f.sender, f.channel, f.action
	if f.client != "" {
		a, err := netip.ParseAddr(f.client)
		if err != nil {
			return flt, fmt.Errorf("--client %q: want an IP address such as 192.0.2.7", f.client)
		}
		flt.Client = a.Unmap().String()
	}
	flt.Ledger, flt.Limit = f.ledger, f.limit
	return flt, nil
}

// parseWhen reads a time flag: RFC 3339, a date or date-time in local time,
// or a duration back from now (Go syntax, plus "d" for days).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-25T09:00:00+09:00), a date (2026-11-25) or a duration (24h, 7d)", s)
}

func eventsList(ctx context.Context, l *event.Log, f event.Filter, asJSON bool, w io.Writer) error {
	evs, err := l.Query(ctx, f)
	if err != nil {
		return err
	}
	if asJSON {
		return writeIndentedJSON(w, nonNilSlice(evs))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tID\tCHANNEL\tVERDICT\tACTION\tSENDER\tRECIPIENTS\tREASONS\tDETECTORS")
	for _, e := range evs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.Time.Local().Format("2006-01-02 15:04:05"), e.ID, e.Channel, e.Verdict, e.Action,
			orDash(eventFrom(e)), orDash(shortList(eventTo(e), 2)), orDash(reasonCodes(e.Reasons)), orDash(detectorCounts(e.Detectors)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(evs) == 0 {
		fmt.Fprintln(w, "(no events match)")
	}
	return nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// eventFrom is who sent: the envelope sender, or the client of an upload.
func eventFrom(e event.Event) string {
	if e.Sender != "" || e.Channel == "smtp" {
		return e.Sender
	}
	return e.Client
}

// eventTo is where it went: the recipients, or the host of an upload.
func eventTo(e event.Event) []string {
	if len(e.Recipients) > 0 || e.Host == "" {
		return e.Recipients
	}
	return []string{e.Host}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortList(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ",")
	}
	return fmt.Sprintf("%s,+%d", strings.Join(s[:n], ","), len(s)-n)
}

func reasonCodes(rs []event.Reason) string {
	var s []string
	for _, r := range rs {
		if r.Article != "" {
			s = append(s, r.Code+"("+r.Article+")")
		} else {
			s = append(s, r.Code)
		}
	}
	return strings.Join(s, ",")
}

func detectorCounts(ds []event.DetectorCount) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%s×%d", d.Detector, d.Count))
	}
	return strings.Join(s, ",")
}

func eventsShow(ctx context.Context, l *event.Log, id string, asJSON bool, w io.Writer) error {
	e, err := l.Get(ctx, id)
	if err != nil {
		if errors.Is(err, event.ErrNotFound) {
			return fmt.Errorf("%w: check the ID with sekisho events list", err)
		}
		return err
	}
	if asJSON {
		return writeIndentedJSON(w, e)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("id", e.ID)
	row("time", e.Time.Local().Format(time.RFC3339Nano))
	row("channel", e.Channel)
	row("client", e.Client)
	row("sender", e.Sender)
	row("recipients", strings.Join(e.Recipients, ", "))
	row("host", e.Host)
	row("url", e.URL)
	row("message-id", e.MessageID)
	row("subject", e.Subject)
	row("size", strconv.FormatInt(e.Size, 10)+" bytes")
	row("verdict", e.Verdict)
	row("action", e.Action)
	for _, r := range e.Reasons {
		v := r.Code
		if r.Article != "" {
			v += " " + r.Article
		}
		if r.Place != "" {
			v += " in " + r.Place
		}
		if r.Detail != "" {
			v += ": " + r.Detail
		}
		row("reason", v)
	}
	for _, d := range e.Detectors {
		v := fmt.Sprintf("%s: %d", d.Detector, d.Count)
		if len(d.Masked) > 0 {
			v += " (" + strings.Join(d.Masked, ", ") + ")"
		}
		row("detector", v)
	}
	for _, a := range e.Attachments {
		row("attachment", attachmentLine(a))
	}
	if e.Ledger {
		row("ledger", "yes (管理簿)")
	}
	row("quarantine", e.QuarantineID)
	row("ref", e.Ref)
	row("error", e.Error)
	row("duration", strconv.FormatInt(e.DurationMS, 10)+" ms")
	return tw.Flush()
}

func attachmentLine(a event.Attachment) string {
	v := fmt.Sprintf("%s (%s, %d bytes", a.Name, a.Type, a.Size)
	if a.Encrypted {
		v += ", encrypted"
		if a.Encryption != "" {
			v += ": " + a.Encryption
		}
	}
	if a.Uninspectable != "" {
		v += ", uninspectable: " + a.Uninspectable
	}
	return v + ")"
}

// errEventLogTampered is returned by eventsVerify after it printed the break.
var errEventLogTampered = errors.New("the event log has been tampered with")

func eventsVerify(ctx context.Context, l *event.Log, anchors anchorList, w io.Writer) error {
	n, err := l.Verify(ctx)
	var te *event.TamperError
	if errors.As(err, &te) {
		fmt.Fprintf(w, "TAMPERED: %s: first broken seq %d: %s (%d events before it intact)\n", l.Path(), te.Seq, te.Reason, n)
		return errEventLogTampered
	}
	if err != nil {
		return err
	}
	// The chain is intact; an anchor shows whether it is still the chain
	// that was there when the anchor was written down.
	for _, a := range anchors {
		hash, err := l.HashAt(ctx, a.seq)
		switch {
		case errors.Is(err, event.ErrNotFound):
			fmt.Fprintf(w, "TAMPERED: %s: the anchored event seq %d is gone: the log was cut off after %d events\n", l.Path(), a.seq, n)
			return errEventLogTampered
		case err != nil:
			return err
		case hash != a.hash:
			fmt.Fprintf(w, "TAMPERED: %s: seq %d has hash %s, the anchor says %s: the log was rewritten\n", l.Path(), a.seq, hash, a.hash)
			return errEventLogTampered
		}
	}
	fmt.Fprintf(w, "ok: %d events, chain intact\n", n)
	if len(anchors) > 0 {
		fmt.Fprintf(w, "anchors: %d, each event found with its hash\n", len(anchors))
	}
	if seq, hash, err := l.Head(ctx); err == nil && seq > 0 {
		fmt.Fprintf(w, "head: seq %d sha256 %s (keep it elsewhere to detect a rewrite of the whole log)\n", seq, hash)
	}
	return nil
}

// eventReport is the JSON form of `events report`.
type eventReport struct {
	Since     time.Time          `json:"since,omitzero"`
	Until     time.Time          `json:"until,omitzero"`
	Events    int                `json:"events"`
	Verdicts  map[string]int     `json:"verdicts"`
	Actions   map[string]int     `json:"actions"`
	Reasons   map[string]int     `json:"reasons"`
	Detectors map[string]int     `json:"detectors"`
	Ledger    []eventLedgerEntry `json:"ledger"`
}

// eventLedgerEntry is one line of the 管理簿: what left, when, to whom.
type eventLedgerEntry struct {
	Time        time.Time          `json:"time"`
	ID          string             `json:"id"`
	Channel     string             `json:"channel"`
	From        string             `json:"from"`
	To          []string           `json:"to"`
	Subject     string             `json:"subject,omitempty"`
	Attachments []event.Attachment `json:"attachments,omitempty"`
}

func eventsReport(ctx context.Context, l *event.Log, f event.Filter, asJSON bool, w io.Writer) error {
	evs, err := l.Query(ctx, event.Filter{Since: f.Since, Until: f.Until})
	if err != nil {
		return err
	}
	r := eventReport{Since: f.Since, Until: f.Until, Events: len(evs), Verdicts: map[string]int{},
		Actions: map[string]int{}, Reasons: map[string]int{}, Detectors: map[string]int{}, Ledger: []eventLedgerEntry{}}
	for _, e := range evs {
		r.Verdicts[e.Verdict]++
		r.Actions[e.Action]++
		for _, rs := range e.Reasons {
			k := rs.Code
			if rs.Article != "" {
				k += " " + rs.Article
			}
			r.Reasons[k]++
		}
		for _, d := range e.Detectors {
			r.Detectors[d.Detector] += d.Count
		}
		if e.Ledger {
			r.Ledger = append(r.Ledger, eventLedgerEntry{Time: e.Time, ID: e.ID, Channel: e.Channel, From: eventFrom(e),
				To: eventTo(e), Subject: e.Subject, Attachments: e.Attachments})
		}
	}
	if asJSON {
		return writeIndentedJSON(w, r)
	}
	period := "all events"
	if !f.Since.IsZero() || !f.Until.IsZero() {
		period = fmt.Sprintf("events from %s until %s", timeOrDash(f.Since), timeOrDash(f.Until))
	}
	fmt.Fprintf(w, "sekisho event report: %s: %d events\n", period, r.Events)
	section := func(title string, m map[string]int) {
		fmt.Fprintf(w, "\n%s\n", title)
		if len(m) == 0 {
			fmt.Fprintln(w, "  (none)")
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if m[keys[i]] != m[keys[j]] {
				return m[keys[i]] > m[keys[j]]
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			fmt.Fprintf(w, "  %6d  %s\n", m[k], k)
		}
	}
	section("verdicts", r.Verdicts)
	section("actions", r.Actions)
	section("reasons", r.Reasons)
	section("detectors (distinct values found)", r.Detectors)
	fmt.Fprintf(w, "\nledger (管理簿, 第11条(2)(4)): %d entries\n", len(r.Ledger))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.Ledger) > 0 {
		fmt.Fprintln(tw, "  TIME\tID\tCHANNEL\tFROM\tTO\tATTACHMENTS")
	}
	for _, le := range r.Ledger {
		var atts []string
		for _, a := range le.Attachments {
			s := a.Name
			if a.Encrypted {
				s += " [" + orDash(a.Encryption) + "]"
			}
			atts = append(atts, s)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", le.Time.Local().Format("2006-01-02 15:04:05"), le.ID, le.Channel,
			orDash(le.From), orDash(strings.Join(le.To, ",")), orDash(strings.Join(atts, ", ")))
	}
	return tw.Flush()
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}
