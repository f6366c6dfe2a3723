package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
	"github.com/sekisho-dlp/sekisho/gateway/smtprelay"
)

const quarantineUsage = `usage: sekisho quarantine COMMAND [flags]

  list                       list the items, oldest first [--json]
  show ID [--json]           show an item's envelope and reasons
  show ID --body > x.eml     write the decrypted item (recorded as "viewed")
  release ID --smtp-next-hop HOST:PORT [--smtp-next-hop-tls MODE]
                             send the item on with its stored envelope, then
                             delete it (recorded as "released"); STARTTLS as
                             the relay: opportunistic (default), required, none
  delete ID                  destroy an item (recorded as "deleted")
  sweep                      destroy the items past their retention
                             (recorded as "destroyed", 第15条)

Every command takes --data-dir DIR (default ./sekisho-data). The key comes
from $SEKISHO_QUARANTINE_KEY (see --key-env) or --key-file (default
DIR/quarantine/quarantine.key).
`

type quarantineFlags struct {
	dataDir, keyFile, keyEnv, nextHop, helo string
	nextHopTLS                              string
	json, body                              bool
	timeout                                 time.Duration
}

func cmdQuarantine(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("quarantine", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, quarantineUsage) }
	var f quarantineFlags
	fs.StringVar(&f.dataDir, "data-dir", dataDirDefault, "data directory holding quarantine/ and events.db")
	fs.StringVar(&f.keyFile, "key-file", "", "quarantine key file (default DIR/quarantine/quarantine.key)")
	fs.StringVar(&f.keyEnv, "key-env", quarantine.DefaultKeyEnv, "environment variable holding the quarantine key")
	fs.StringVar(&f.nextHop, "smtp-next-hop", "", "release: the SMTP server to send to, `HOST:PORT`")
	fs.StringVar(&f.nextHopTLS, "smtp-next-hop-tls", string(smtprelay.TLSOpportunistic), "release: STARTTLS to the next hop: `opportunistic`, required or none")
	fs.StringVar(&f.helo, "helo", "", "release: the name to give in EHLO (default this host's name)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "release: give up on the next hop after this long")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	fs.BoolVar(&f.body, "body", false, "show: write the decrypted item itself to standard output")
	pos, code, ok := parseSubcommand(fs, args, quarantineUsage, stderr)
	if !ok {
		return code
	}
	cmd := pos[0]
	wantArgs := map[string]int{"list": 0, "sweep": 0, "show": 1, "release": 1, "delete": 1}
	n, ok := wantArgs[cmd]
	if !ok {
		fmt.Fprintf(stderr, "sekisho quarantine: unknown command %q\n", cmd)
		fmt.Fprint(stderr, quarantineUsage)
		return 2
	}
	if len(pos)-1 != n {
		if n == 1 {
			fmt.Fprintf(stderr, "sekisho quarantine %s: give one item ID (see sekisho quarantine list)\n", cmd)
		} else {
			fmt.Fprintf(stderr, "sekisho quarantine %s: unexpected argument %q\n", cmd, pos[1])
		}
		return 2
	}
	if cmd == "release" && f.nextHop == "" {
		fmt.Fprintln(stderr, "sekisho quarantine release: give the next hop: --smtp-next-hop HOST:PORT")
		return 2
	}
	switch smtprelay.TLSMode(f.nextHopTLS) {
	case smtprelay.TLSOpportunistic, smtprelay.TLSRequired, smtprelay.TLSNone:
	default:
		fmt.Fprintf(stderr, "sekisho quarantine: --smtp-next-hop-tls %q is not one of opportunistic, required, none\n", f.nextHopTLS)
		return 2
	}
	if err := runQuarantine(cmd, pos[1:], &f, stdout); err != nil {
		fmt.Fprintf(stderr, "sekisho quarantine %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func runQuarantine(cmd string, ids []string, f *quarantineFlags, stdout io.Writer) error {
	ctx := context.Background()
	opts := quarantine.Options{KeyFile: f.keyFile, KeyEnv: f.keyEnv, NoCreate: true, Actor: cliActor()}
	// Whatever changes or reveals an item is recorded: those commands need
	// the event log, and fail if it cannot be opened.
	if cmd != "list" && !(cmd == "show" && !f.body) {
		l, err := openEventLog(f.dataDir)
		if err != nil {
			return err
		}
		defer l.Close()
		opts.Events = l
	}
	d, err := quarantine.Open(filepath.Join(f.dataDir, "quarantine"), opts)
	if err != nil {
		return err
	}
	switch cmd {
	case "list":
		return quarantineList(d, f.json, stdout)
	case "show":
		if f.body {
			return quarantineBody(ctx, d, ids[0], opts, stdout)
		}
		m, err := d.Meta(ids[0])
		if err != nil {
			return err
		}
		if f.json {
			return writeIndentedJSON(stdout, m)
		}
		printMeta(stdout, m)
		return nil
	case "delete":
		if err := d.Delete(ids[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted %s\n", ids[0])
		return nil
	case "sweep":
		gone, err := d.Sweep(time.Now())
		for _, m := range gone {
			fmt.Fprintf(stdout, "destroyed %s (expired %s)\n", m.ID, m.Expires.Local().Format(time.RFC3339))
		}
		fmt.Fprintf(stdout, "%d items destroyed\n", len(gone))
		return err
	case "release":
		m, err := d.Meta(ids[0])
		if err != nil {
			return err
		}
		if m.Channel != "smtp" {
			return fmt.Errorf("%s is an upload (channel %q), not a message: it cannot be sent on; use show --body or delete", m.ID, m.Channel)
		}
		if len(m.Recipients) == 0 {
			return fmt.Errorf("%s has no recipients stored: it cannot be sent on", m.ID)
		}
		ctx, cancel := context.WithTimeout(ctx, f.timeout)
		defer cancel()
		if err := d.Release(ctx, m.ID, smtpDeliver(ctx, f.nextHop, heloName(f.helo), smtprelay.TLSMode(f.nextHopTLS))); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "released %s to %s via %s\n", m.ID, strings.Join(m.Recipients, ", "), f.nextHop)
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// cliActor names the person at the terminal in events.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func heloName(s string) string {
	if s != "" {
		return s
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func quarantineList(d *quarantine.Dir, asJSON bool, w io.Writer) error {
	ms, lerr := d.List()
	if asJSON {
		if err := writeIndentedJSON(w, nonNilSlice(ms)); err != nil {
			return err
		}
		return lerr
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tID\tCHANNEL\tSENDER\tRECIPIENTS\tREASONS\tSIZE\tEXPIRES")
	for _, m := range ms {
		when := "?"
		if !m.Time.IsZero() {
			when = m.Time.Local().Format("2006-01-02 15:04:05")
		}
		rcpts := m.Recipients
		if len(rcpts) == 0 && m.Host != "" {
			rcpts = []string{m.Host}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", when, m.ID, orDash(m.Channel), orDash(m.Sender),
			orDash(shortList(rcpts, 2)), orDash(strings.Join(m.Reasons, ",")), m.Size, m.Expires.Local().Format("2006-01-02"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ms) == 0 {
		fmt.Fprintln(w, "(quarantine is empty)")
	}
	return lerr
}

func printMeta(w io.Writer, m quarantine.Meta) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("id", m.ID)
	row("event", m.EventID)
	row("time", m.Time.Local().Format(time.RFC3339))
	row("channel", m.Channel)
	row("sender", m.Sender)
	row("recipients", strings.Join(m.Recipients, ", "))
	row("host", m.Host)
	row("reasons", strings.Join(m.Reasons, ", "))
	row("size", strconv.FormatInt(m.Size, 10)+" bytes")
	row("expires", m.Expires.Local().Format(time.RFC3339))
	tw.Flush()
}

// quarantineBody checks an item, records that it is viewed, and writes it
// out.
func quarantineBody(ctx context.Context, d *quarantine.Dir, id string, opts quarantine.Options, w io.Writer) error {
	if err := d.Verify(id); err != nil {
		return err
	}
	m, r, err := d.Get(id)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := opts.Events.Record(ctx, quarantine.LifecycleEvent(m, "viewed", opts.Actor)); err != nil {
		return fmt.Errorf("record that %s is viewed: %w", id, err)
	}
	_, err = io.Copy(w, r)
	return err
}

// smtpDeliver returns a deliver function for Dir.Release that sends an item
// to the next hop with its stored envelope, over STARTTLS per tlsMode as the
// relay does. The body is checked by Release before, so a read error here
// is an I/O failure: the transaction is then abandoned (no final dot) so
// the next hop never gets a partial message.
func smtpDeliver(ctx context.Context, addr, helo string, tlsMode smtprelay.TLSMode) func(quarantine.Meta, io.Reader) error {
	return func(m quarantine.Meta, r io.Reader) error {
		// Each command, write and the final reply may take what is left of
		// the release's time (--timeout).
		timeout := 5 * time.Minute
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		c, err := smtprelay.Dial(ctx, addr, helo, tlsMode, timeout)
		if err != nil {
			return fmt.Errorf("next hop %s: %w: is --smtp-next-hop (and --smtp-next-hop-tls %s) right?", addr, err, tlsMode)
		}
		defer c.Close()
		opts := &smtp.MailOptions{Size: m.Size}
		if !asciiOnly(m.Sender) || !allASCIIOnly(m.Recipients) {
			opts.UTF8 = true
		}
		if err := c.Mail(m.Sender, opts); err != nil {
			return fmt.Errorf("next hop %s: MAIL FROM:<%s>: %w", addr, m.Sender, err)
		}
		for _, rcpt := range m.Recipients {
			if err := c.Rcpt(rcpt, nil); err != nil {
				return fmt.Errorf("next hop %s: RCPT TO:<%s>: %w", addr, rcpt, err)
			}
		}
		wc, err := c.Data()
		if err != nil {
			return fmt.Errorf("next hop %s: DATA: %w", addr, err)
		}
		if _, err := io.Copy(wc, r); err != nil {
			return fmt.Errorf("send to next hop %s: %w", addr, err)
		}
		if err := wc.Close(); err != nil {
			return fmt.Errorf("next hop %s refused the message: %w", addr, err)
		}
		// The message was accepted at the final dot; a failed QUIT does not
		// undo that.
		_ = c.Quit()
		return nil
	}
}

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allASCIIOnly(ss []string) bool {
	for _, s := range ss {
		if !asciiOnly(s) {
			return false
		}
	}
	return true
}
