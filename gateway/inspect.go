package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// Item is one message or upload to inspect.
type Item struct {
	Channel    rules.Channel
	Client     string
	Sender     string
	Recipients []string
	Host       string // HTTP destination host
	// Body is the raw RFC 5322 message (when FileName and Form are empty).
	Body io.Reader
	// FileName, when set, makes Body a single file (an uploaded file).
	FileName string
	// ContentType is the HTTP request's Content-Type, for uploads.
	ContentType string
	// Upload, when true, makes Body an HTTP request body with ContentType.
	Upload bool
	// UseHeaderRecipients makes the To/Cc/Bcc addresses stand in for the
	// envelope recipients (for saved messages, which have no envelope).
	UseHeaderRecipients bool
}

// Inspector runs extract → detect → decide. It is safe for concurrent use.
type Inspector struct {
	// Engine overrides the policy's detectors (nil: the policy's own
	// engine, built-in plus custom detectors, which follows a reload).
	Engine *detectors.Engine
	// Policy returns the policy in force; it is called once per item, so an
	// item finishes under the policy it started with even across a reload.
	Policy func() *rules.Policy
	Limits extract.Limits
}

// Inspect inspects one item. An error means inspection itself failed (I/O,
// cancellation): the caller must fail closed. Malformed content is not an
// error: it yields uninspectable parts and so a verdict.
func (in *Inspector) Inspect(ctx context.Context, it Item) (*Verdict, error) {
	pol := in.Policy()
	eng := in.Engine
	if eng == nil {
		eng = pol.Engine()
	}
	c := collector{engine: eng}
	defer c.finish() // stops the detection goroutine if the walk panics
	var hdr *extract.Header
	var err error
	switch {
	case it.Upload:
		err = extract.Upload(ctx, it.ContentType, it.Body, in.Limits, c.visit)
	case it.FileName != "":
		err = extract.File(ctx, it.FileName, it.Body, in.Limits, c.visit)
	default:
		hdr, err = extract.Message(ctx, it.Body, in.Limits, c.visit)
	}
	// The detection of the last parts may still be running.
	if ferr := c.finish(); ferr != nil {
		return nil, ferr
	}
	if err != nil {
		if ctx.Err() != nil || !errors.Is(err, extract.ErrLimit) {
			return nil, fmt.Errorf("inspect: %w", err)
		}
		// A limit over the whole item makes the item uninspectable.
		c.parts = append(c.parts, PartReport{Path: "message", Type: "limit", Role: "body", Uninspectable: err.Error()})
	}
	rcpts := it.Recipients
	if it.UseHeaderRecipients && hdr != nil {
		rcpts = append(append(append(rcpts[:len(rcpts):len(rcpts)], hdr.To...), hdr.Cc...), hdr.Bcc...)
	}
	v := &Verdict{Header: hdr, Parts: c.parts, Places: c.places(), Findings: detectors.NewTally()}
	for _, p := range v.Places {
		v.Findings.Merge(p.Findings)
	}
	v.Decision = pol.Decide(rules.Input{
		Channel:    it.Channel,
		Client:     it.Client,
		Sender:     it.Sender,
		Recipients: rcpts,
		Host:       it.Host,
		Places:     v.Places,
	})
	return v, nil
}

// collector is the visitor that feeds each part's text to the detectors.
// A part larger than one chunk is detected on a second goroutine (see
// scanText); finish waits for it.
type collector struct {
	engine  *detectors.Engine
	parts   []PartReport
	tallies []*detectors.Tally // parallel to parts
	first   []byte             // the chunk buffer until the pipeline starts
	pipe    *detectPipe        // started by the first part larger than a chunk
}

func (c *collector) visit(p *extract.Part, text io.Reader) error {
	i := len(c.parts)
	c.parts = append(c.parts, PartReport{
		Path: p.Path, Name: p.Name, Type: p.Type, Role: p.Role.String(),
		Encrypted: p.Encrypted, Encryption: p.Encryption, Uninspectable: p.Uninspectable,
		Size: p.Size, attachment: p.Attachment, depth: p.Depth, container: p.Container,
	})
	c.tallies = append(c.tallies, nil)
	if text == nil {
		return nil
	}
	n, err := c.scanText(i, c.engine.NewScan(p.Path), text)
	r := &c.parts[i]
	if r.Size == 0 {
		r.Size = n
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if r.Uninspectable == "" {
			r.Uninspectable = err.Error()
		}
	}
	return nil
}

// setTally records the tally of part i in its report.
func (c *collector) setTally(i int, t *detectors.Tally) {
	c.tallies[i] = t
	r := &c.parts[i]
	r.Findings = t.Counts()
	for _, id := range t.Detectors() {
		if r.Masked == nil {
			r.Masked = map[string][]string{}
		}
		for _, v := range t.Samples(id, MaxSamples) {
			r.Masked[id] = append(r.Masked[id], v.Masked)
		}
	}
}

// places groups the parts into the body and one place per attachment.
func (c *collector) places() []rules.Place {
	body := rules.Place{Kind: rules.PlaceBody, Name: "body", Findings: detectors.NewTally()}
	var atts []rules.Place
	index := map[int]int{} // attachment number -> index in atts
	for i, p := range c.parts {
		var pl *rules.Place
		if p.attachment == 0 {
			pl = &body
		} else {
			j, ok := index[p.attachment]
			if !ok {
				name := "attachment[" + strconv.Itoa(p.attachment) + "]"
				if p.Name != "" {
					name += " " + p.Name
				}
				atts = append(atts, rules.Place{Kind: rules.PlaceAttachment, Name: name, Type: p.Type,
					Encrypted: p.Encrypted, Encryption: p.Encryption, Size: p.Size, Findings: detectors.NewTally()})
				j = len(atts) - 1
				index[p.attachment] = j
			} else if p.Encrypted {
				atts[j].EncryptedInside = true
			}
			pl = &atts[j]
		}
		if p.Uninspectable != "" && !p.Encrypted {
			pl.Uninspectable = append(pl.Uninspectable, p.Path+": "+p.Uninspectable)
		}
		pl.Findings.Merge(c.tallies[i])
	}
	return append([]rules.Place{body}, atts...)
}
