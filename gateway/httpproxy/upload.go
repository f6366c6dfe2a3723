package httpproxy

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/elazarl/goproxy"
	"go.uber.org/zap"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
	"github.com/sekisho-dlp/sekisho/rules"
)

// handleRequest runs for every proxied request (plain HTTP, and HTTPS inside
// an intercepted tunnel): host policy first, then the body, if any.
func (p *Proxy) handleRequest(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	start := time.Now()
	host := hostOnly(req.URL.Host)
	if host == "" {
		host = hostOnly(req.Host)
	}
	pol := p.cfg.Hosts()
	it := gateway.Item{Channel: rules.ChannelHTTP, Client: clientOf(req), Host: host, Upload: true, ContentType: req.Header.Get("Content-Type")}
	if blocked, reason := pol.HostDecision(host); blocked {
		drain(req)
		return req, p.blockHost(req, it, reason, req.Method+" "+urlForLog(req))
	}
	if !hasBody(req) {
		return req, nil
	}
	sp, err := p.spool(req)
	if err != nil {
		var tooLarge *tooLargeError
		if errors.As(err, &tooLarge) {
			return req, textResponse(req, http.StatusRequestEntityTooLarge, fmt.Sprintf(
				"sekisho: the upload is larger than the limit of %d bytes; nothing was sent.\nアップロードが上限 (%d バイト) を超えたため送信しませんでした。\n", p.cfg.MaxUploadBytes, p.cfg.MaxUploadBytes))
		}
		p.log.Warn("reading upload failed", zap.String("host", host), zap.Error(err))
		return req, textResponse(req, http.StatusBadGateway, "sekisho: the upload could not be read completely; nothing was sent.\nアップロードを読み取れなかったため送信しませんでした。\n")
	}
	id := event.NewID(start)
	v, ierr := p.inspect(req.Context(), it, sp, req.Header.Get("Content-Encoding"))
	if ierr != nil {
		sp.remove()
		p.log.Error("inspection failed: upload held back", zap.String("event", id), zap.String("host", host), zap.Error(ierr))
		e := gateway.NewEvent(id, start, it, nil)
		e.URL, e.Action, e.Error, e.Size = req.Method+" "+urlForLog(req), "tempfail", "inspection failed", sp.size
		e.Verdict = "error"
		e.DurationMS = time.Since(start).Milliseconds()
		p.record(e)
		return req, failClosedResponse(req, id)
	}
	e := gateway.NewEvent(id, start, it, v)
	e.URL, e.Size = req.Method+" "+urlForLog(req), sp.size
	if v.Verdict == rules.Block && !v.Monitor {
		e.Action = "reject"
		if v.Quarantine && p.cfg.Quarantine != nil {
			if qid, err := p.quarantine(req.Context(), e, sp); err == nil {
				e.QuarantineID, e.Action = qid, "quarantine"
			} else {
				p.log.Error("quarantine failed", zap.String("event", id), zap.Error(err))
			}
		}
		sp.remove()
		e.DurationMS = time.Since(start).Milliseconds()
		p.record(e)
		return req, blockResponse(req, id, v.Reasons)
	}
	// Allowed (or monitored): forward the original bytes.
	// Recorded: monitored items, and uploads that carried personal
	// information out in a permitted way (to an allowlisted or exempted
	// destination, or inside an encrypted file): the 管理簿 (ledger).
	e.Action = "forward"
	e.Ledger = e.Ledger || v.PII
	if v.Monitor || e.Ledger {
		e.DurationMS = time.Since(start).Milliseconds()
		p.recordAsync(e)
	}
	f, err := sp.reopen()
	if err != nil {
		sp.remove()
		return req, failClosedResponse(req, id)
	}
	req.Body = f
	req.ContentLength = sp.size
	req.TransferEncoding = nil
	req.Header.Del("Transfer-Encoding")
	return req, nil
}

// inspect runs the pipeline on the spooled body, decoding Content-Encoding.
func (p *Proxy) inspect(ctx context.Context, it gateway.Item, sp *spooled, encoding string) (v *gateway.Verdict, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("httpproxy: inspection panicked: %v", r)
		}
	}()
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("httpproxy: waiting for an inspection slot: %w", ctx.Err())
	}
	f, err := sp.open()
	if err != nil {
		return nil, fmt.Errorf("httpproxy: open spooled upload: %w", err)
	}
	defer f.Close()
	body, err := decodeContent(f, encoding)
	if err != nil {
		// An encoding we cannot undo is not inspectable: the pipeline sees
		// it as an opaque file, which the policy judges.
		return nil, err
	}
	it.Body = body
	return p.cfg.Inspector.Inspect(ctx, it)
}

// decodeContent undoes the Content-Encoding of a request body.
func decodeContent(body io.Reader, encoding string) (io.Reader, error) {
	enc := strings.ToLower(strings.TrimSpace(encoding))
	if enc == "" || enc == "identity" {
		return body, nil // read as it is: no buffer needed
	}
	r := bufio.NewReaderSize(body, 32<<10)
	switch enc {
	case "gzip", "x-gzip":
		return gzip.NewReader(r)
	case "deflate":
		// "deflate" is zlib-wrapped by the standard, raw in practice too.
		if b, err := r.Peek(2); err == nil && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 && b[0]&0x0f == 8 {
			return zlib.NewReader(r)
		}
		return flate.NewReader(r), nil
	}
	return nil, fmt.Errorf("httpproxy: unsupported Content-Encoding %q", encoding)
}

func (p *Proxy) quarantine(ctx context.Context, e *event.Event, sp *spooled) (string, error) {
	f, err := sp.open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	var reasons []string
	for _, r := range e.Reasons {
		reasons = append(reasons, r.Code)
	}
	return p.cfg.Quarantine.Put(ctx, quarantine.Meta{EventID: e.ID, Time: e.Time, Channel: e.Channel,
		Sender: e.Client, Host: e.Host, Reasons: reasons, Size: sp.size}, f)
}

func hasBody(req *http.Request) bool {
	if req.Body == nil || req.Body == http.NoBody {
		return false
	}
	return req.ContentLength != 0 || len(req.TransferEncoding) > 0
}

func drain(req *http.Request) {
	if req.Body != nil {
		io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
		req.Body.Close()
	}
}

// urlForLog is the URL without its query (which may hold values).
func urlForLog(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	if u.Host == "" {
		u.Host = req.Host
	}
	return u.String()
}
