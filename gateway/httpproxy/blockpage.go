package httpproxy

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/rules"
)

// reasonText explains a reason code to the person who was blocked,
// Japanese first, then English.
var reasonText = map[string][2]string{
	rules.ReasonFax: {
		"FAX による送信は禁止されています(情報セキュリティ特記仕様書 第11条(6))。宛先は FAX 送信サービスです。",
		"Sending by FAX is forbidden (contract article 11(6)). The destination is a FAX service.",
	},
	rules.ReasonBlockedHost: {
		"この宛先への送信は許可されていません。",
		"Sending to this destination is not allowed.",
	},
	rules.ReasonCleartextUpload: {
		"個人情報を暗号化せずにインターネットへ送信しようとしました(第11条(10)イ)。",
		"Personal information was about to be sent to the Internet without encryption (article 11(10)i).",
	},
	rules.ReasonUnencryptedAttachment: {
		"暗号化されていないファイルに個人情報が含まれています(第11条(10)イ)。",
		"A file that is not encrypted carries personal information (article 11(10)i).",
	},
	rules.ReasonPIIInBody: {
		"送信内容に個人情報が含まれています(第11条(10)イ)。",
		"The content carries personal information (article 11(10)i).",
	},
	rules.ReasonUninspectable: {
		"内容を検査できないファイルが含まれているため送信できません。",
		"The upload holds a file that could not be inspected, so it was not sent.",
	},
}

const howToFix = `個人情報を含むファイルはパスワード付きで暗号化し、パスワードは別の経路で伝えてください。` +
	`市の承認済みファイル転送サービスを利用することもできます。必要な送信であれば、イベント ID を添えて情報セキュリティ担当者に連絡してください。`

const howToFixEN = `Encrypt files that carry personal information with a password and send the password another way, ` +
	`or use the city's approved file transfer service. If the transfer is necessary, contact the information security staff with the event ID.`

var pageTmpl = template.Must(template.New("block").Parse(`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>送信をブロックしました / Blocked by sekisho</title>
<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.6}
h1{font-size:1.4em;color:#a00}h2{font-size:1.1em;margin-top:2em}.id{font-family:monospace;background:#eee;padding:.1em .4em}
section+section{border-top:1px solid #ccc;margin-top:2em}</style></head><body>
<section lang="ja"><h1>送信をブロックしました</h1>
<p>宛先: <b>{{.Host}}</b></p>
<ul>{{range .Reasons}}<li>{{index . 0}}</li>{{end}}</ul>
{{if .Found}}<p>検出: {{range $i, $f := .Found}}{{if $i}}、{{end}}{{$f.JA}} {{$f.N}} 件{{end}}</p>{{end}}
<p>{{.FixJA}}</p>
<p>イベント ID: <span class="id">{{.ID}}</span></p></section>
<section lang="en"><h2>Blocked by sekisho</h2>
<p>Destination: <b>{{.Host}}</b></p>
<ul>{{range .Reasons}}<li>{{index . 1}}</li>{{end}}</ul>
{{if .Found}}<p>Found: {{range $i, $f := .Found}}{{if $i}}, {{end}}{{$f.N}} × {{$f.EN}}{{end}}</p>{{end}}
<p>{{.FixEN}}</p>
<p>Event ID: <span class="id">{{.ID}}</span></p></section>
</body></html>
`))

type blockJSON struct {
	Error   string       `json:"error"`
	EventID string       `json:"event_id"`
	Host    string       `json:"host"`
	Reasons []reasonJSON `json:"reasons"`
	Remedy  string       `json:"remedy"`
}

type reasonJSON struct {
	Code      string `json:"code"`
	Article   string `json:"article,omitempty"`
	MessageJA string `json:"message_ja"`
	Message   string `json:"message"`
}

// blockResponse is the 403 answer to a blocked request: a page, or JSON for
// API clients (Accept: application/json).
func blockResponse(req *http.Request, id string, reasons []rules.Reason) *http.Response {
	host := hostOnly(req.URL.Host)
	if host == "" {
		host = hostOnly(req.Host)
	}
	var texts [][2]string
	var js []reasonJSON
	type found struct {
		JA, EN string
		N      int
	}
	var founds []found
	counted := map[string]bool{}
	seen := map[string]bool{}
	for _, r := range reasons {
		for _, id := range sortedKeys(r.Counts) {
			if !counted[id] {
				counted[id] = true
				ja, en := detectors.DisplayName(id)
				founds = append(founds, found{ja, en, r.Counts[id]})
			}
		}
		if seen[r.Code] {
			continue
		}
		seen[r.Code] = true
		t, ok := reasonText[r.Code]
		if !ok {
			t = [2]string{"ポリシーにより送信できません (" + r.Code + ")。", "Blocked by policy (" + r.Code + ")."}
		}
		texts = append(texts, t)
		js = append(js, reasonJSON{Code: r.Code, Article: r.Article, MessageJA: t[0], Message: t[1]})
	}
	var body bytes.Buffer
	ctype := "text/html; charset=utf-8"
	if wantsJSON(req) {
		ctype = "application/json; charset=utf-8"
		json.NewEncoder(&body).Encode(blockJSON{Error: "blocked by sekisho", EventID: id, Host: host, Reasons: js, Remedy: howToFixEN})
	} else {
		pageTmpl.Execute(&body, map[string]any{"Host": host, "Reasons": texts, "Found": founds, "ID": id, "FixJA": howToFix, "FixEN": howToFixEN})
	}
	resp := newResponse(req, http.StatusForbidden, ctype, body.Bytes())
	resp.Header.Set("X-Sekisho-Event", id)
	return resp
}

func wantsJSON(req *http.Request) bool {
	a := req.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

func textResponse(req *http.Request, status int, msg string) *http.Response {
	return newResponse(req, status, "text/plain; charset=utf-8", []byte(msg))
}

// failClosedResponse answers when inspection failed: nothing was forwarded.
func failClosedResponse(req *http.Request, id string) *http.Response {
	return textResponse(req, http.StatusServiceUnavailable,
		"sekisho: the upload could not be inspected, so it was not sent (fail closed). Try again later; if it persists, contact the information security staff with event "+id+".\n"+
			"検査できなかったため送信しませんでした。時間をおいて再送し、解決しない場合はイベント ID "+id+" を添えて情報セキュリティ担当者に連絡してください。\n")
}

func newResponse(req *http.Request, status int, ctype string, body []byte) *http.Response {
	return &http.Response{
		Request:       req,
		StatusCode:    status,
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {ctype}, "Cache-Control": {"no-store"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
