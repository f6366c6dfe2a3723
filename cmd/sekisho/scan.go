package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/rules"
)

// scanResult is the JSON form of one scanned file (`sekisho scan --json`).
type scanResult struct {
	File     string               `json:"file"`
	Verdict  string               `json:"verdict"`
	Monitor  bool                 `json:"monitor,omitempty"`
	Reasons  []string             `json:"reasons"`
	Details  []rules.Reason       `json:"details,omitempty"`
	Findings map[string]int       `json:"findings"`
	Parts    []gateway.PartReport `json:"parts"`
	Header   *scanHeader          `json:"header,omitempty"`
}

type scanHeader struct {
	MessageID string   `json:"message_id,omitempty"`
	From      string   `json:"from,omitempty"`
	To        []string `json:"to,omitempty"`
	Cc        []string `json:"cc,omitempty"`
}

func cmdScan(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("scan", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	configPath := fs.String("config", "", "configuration `FILE` whose policy to use (default: the embedded policy)")
	var rcpts stringList
	fs.Var(&rcpts, "rcpt", "envelope recipient `ADDR` (repeatable; default: the To/Cc/Bcc addresses)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sekisho scan [--json] [--config FILE] [--rcpt ADDR]... FILE... (FILE - is stdin)")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	insp, err := loadInspector(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "sekisho scan: %v\n", err)
		return 2
	}
	status := 0
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, name := range files {
		res, err := scanFile(insp, name, rcpts)
		if err != nil {
			fmt.Fprintf(stderr, "sekisho scan: %s: %v\n", name, err)
			status = 2
			continue
		}
		if res.Verdict == string(rules.Block) && !res.Monitor && status == 0 {
			status = 1
		}
		if *asJSON {
			if err := enc.Encode(res); err != nil {
				fmt.Fprintf(stderr, "sekisho scan: write: %v\n", err)
				return 2
			}
			continue
		}
		printScanSummary(stdout, res)
	}
	return status
}

func scanFile(insp *gateway.Inspector, name string, rcpts []string) (*scanResult, error) {
	var r io.Reader
	if name == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot open: %w", unwrapPathError(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("is a directory, not a message file")
		}
		r = f
	}
	// Without --rcpt the header's recipients stand in for the envelope: a
	// first pass is not needed because the policy only judges recipients
	// after the walk, so the header summary is used below.
	v, err := insp.Inspect(context.Background(), gateway.Item{
		Channel:             rules.ChannelSMTP,
		Body:                r,
		Recipients:          rcpts,
		UseHeaderRecipients: len(rcpts) == 0,
	})
	if err != nil {
		return nil, err
	}
	res := &scanResult{
		File:     name,
		Verdict:  string(v.Verdict),
		Monitor:  v.Monitor,
		Reasons:  v.Codes(),
		Details:  v.Reasons,
		Findings: v.Findings.Counts(),
		Parts:    v.Parts,
	}
	if res.Reasons == nil {
		res.Reasons = []string{}
	}
	if res.Parts == nil {
		res.Parts = []gateway.PartReport{}
	}
	if v.Header != nil {
		res.Header = &scanHeader{MessageID: v.Header.MessageID, From: v.Header.From, To: v.Header.To, Cc: v.Header.Cc}
	}
	return res, nil
}

func printScanSummary(w io.Writer, r *scanResult) {
	verdict := strings.ToUpper(r.Verdict)
	if r.Monitor {
		verdict += " (monitor: would block, passes)"
	}
	fmt.Fprintf(w, "%s: %s\n", r.File, verdict)
	for _, rs := range r.Details {
		line := "  reason " + rs.Code + " (" + rs.Article + ")"
		if rs.Place != "" {
			line += " in " + rs.Place
		}
		if len(rs.Recipients) > 0 {
			line += " to " + strings.Join(rs.Recipients, ", ")
		}
		if rs.Detail != "" {
			line += ": " + rs.Detail
		}
		fmt.Fprintln(w, line)
	}
	var ids []string
	for id := range r.Findings {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "  found %s: %d distinct\n", id, r.Findings[id])
	}
	for _, p := range r.Parts {
		flags := p.Type
		if p.Encrypted {
			flags += ", encrypted (" + p.Encryption + ")"
		}
		if p.Uninspectable != "" {
			flags += ", uninspectable: " + p.Uninspectable
		}
		var found []string
		for id, n := range p.Findings {
			found = append(found, fmt.Sprintf("%s=%d %v", id, n, p.Masked[id]))
		}
		sort.Strings(found)
		fmt.Fprintf(w, "  part %s [%s] %s\n", p.Path, flags, strings.Join(found, " "))
	}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
