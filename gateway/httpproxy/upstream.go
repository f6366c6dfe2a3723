package httpproxy

import (
	"errors"
	"net"
	"net/http"

	"github.com/elazarl/goproxy"
	"go.uber.org/zap"
)

// upstreamFailed answers a request whose origin server could not be
// reached or did not answer in time (Config.UpstreamTimeout): 504 for a
// timeout, 502 otherwise, with a message in Japanese and English. goproxy
// would answer 500 with the transport's error text. A response that did
// arrive passes unchanged.
func (p *Proxy) upstreamFailed(resp *http.Response, ctx *goproxy.ProxyCtx) *http.Response {
	if resp != nil || ctx.Error == nil || ctx.Req == nil {
		return resp
	}
	req := ctx.Req
	// The URL without its query (which may hold values); the transport's
	// own errors name the host, not the URL (TestUpstreamFailures).
	p.log.Warn("origin server failed", zap.String("url", urlForLog(req)), zap.Error(ctx.Error))
	if isTimeout(ctx.Error) {
		return textResponse(req, http.StatusGatewayTimeout,
			"sekisho: the server "+req.URL.Host+" did not answer in time. Try again later.\n"+
				"接続先サーバー "+req.URL.Host+" から時間内に応答がありませんでした。時間をおいて再度お試しください。\n")
	}
	return textResponse(req, http.StatusBadGateway,
		"sekisho: the server "+req.URL.Host+" could not be reached or closed the connection. Check the address, or try again later.\n"+
			"接続先サーバー "+req.URL.Host+" に接続できないか、接続が切断されました。アドレスを確認するか、時間をおいて再度お試しください。\n")
}

// isTimeout reports a timeout of the transport: a network timeout or the
// response header wait (both are net.Errors whose Timeout is true).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
