package smtprelay

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/rules"
)

// Notice is what the bounce notice (an RFC 3464 delivery status
// notification) tells the sender about a blocked message. It holds no
// detected value in clear: only counts and masked samples.
type Notice struct {
	EventID    string
	Arrival    time.Time
	Sender     string
	Recipients []string // the recipients the message did not reach
	// ORCPT holds the original recipients given with RCPT ORCPT=, by recipient.
	ORCPT      map[string]string
	EnvelopeID string
	// Subject is the message's subject, or "" when it held a finding (it is
	// then not repeated).
	Subject string
	Reasons []NoticeReason
}

// NoticeReason is one reason in a notice.
type NoticeReason struct {
	Code    string
	Article string // e.g. "第11条(7)"
	Place   string // "body", "attachment[2] 名簿.xlsx", or "" for envelope reasons
	// Counts are distinct values per detector; Masked are a few masked samples.
	Counts     map[string]int
	Masked     map[string][]string
	Recipients []string
}

// NoticeOptions are the site's facts for writing a notice.
type NoticeOptions struct {
	ReportingMTA string // our host name
	Postmaster   string // From: of the notice
	// OriginalHeader is the raw header block of the blocked message.
	OriginalHeader []byte
	// MaskSubject replaces the Subject field in the returned header block
	// (when the subject itself held a finding).
	MaskSubject bool
	Date        time.Time
}

type label struct{ ja, en string }

func detectorLabel(id string) label {
	switch id {
	case detectors.MyNumber:
		return label{"マイナンバー（個人番号）", "My Number (individual number)"}
	case detectors.CorporateNumber:
		return label{"法人番号", "corporate number"}
	case detectors.Phone:
		return label{"電話番号", "phone number"}
	case detectors.Address:
		return label{"住所", "address"}
	case detectors.CreditCard:
		return label{"クレジットカード番号", "credit card number"}
	}
	return label{id, id}
}

func reasonLabel(code string) label {
	switch code {
	case rules.ReasonFax:
		return label{"FAX への送信は禁止されています", "sending to a FAX gateway is forbidden"}
	case rules.ReasonPIIInBody:
		return label{"本文（件名を含む）に個人情報が含まれています", "the message body (or subject) contains personal information"}
	case rules.ReasonUnencryptedAttachment:
		return label{"暗号化されていない添付ファイルに個人情報が含まれています", "an attachment that is not encrypted contains personal information"}
	case rules.ReasonUninspectable:
		return label{"検査できない内容が含まれています（暗号化も確認できません）", "part of the message cannot be inspected (and is not recognisably encrypted)"}
	case rules.ReasonBlockedHost:
		return label{"送信先が禁止されています", "the destination is blocked"}
	}
	return label{code, code}
}

func placeLabel(p string) label {
	switch {
	case p == "":
		return label{"", ""}
	case p == "body":
		return label{"本文", "body"}
	case strings.HasPrefix(p, "attachment["):
		rest := strings.TrimPrefix(p, "attachment[")
		n, name, _ := strings.Cut(rest, "]")
		name = strings.TrimSpace(name)
		if name != "" {
			return label{"添付ファイル " + n + "「" + name + "」", "attachment " + n + " \"" + name + "\""}
		}
		return label{"添付ファイル " + n, "attachment " + n}
	}
	return label{p, p}
}

func articleEN(a string) string {
	s := articleASCII(a)
	if s == "" {
		return ""
	}
	return "contract " + s
}

// RenderNoticeText returns the human-readable text of a notice: the
// Japanese section and the English section. The body of the notice's first
// part is ja, a separator line, then en.
func RenderNoticeText(n Notice) (ja, en string) {
	var j, e strings.Builder
	when := n.Arrival.In(jst).Format("2006-01-02 15:04:05 MST")

	j.WriteString("このメールは送信されませんでした。\n")
	j.WriteString("情報セキュリティ特記仕様書に基づき、情報漏えい防止ゲートウェイ（関所 / sekisho）が送信を止めました。\n\n")
	fmt.Fprintf(&j, "  受付日時:   %s\n", when)
	if n.Subject != "" {
		fmt.Fprintf(&j, "  件名:       %s\n", n.Subject)
	}
	fmt.Fprintf(&j, "  宛先:       %s\n", strings.Join(n.Recipients, ", "))
	fmt.Fprintf(&j, "  イベントID: %s\n\n", n.EventID)
	j.WriteString("止めた理由:\n")

	e.WriteString("This message was NOT delivered.\n")
	e.WriteString("The data-loss-prevention gateway (sekisho) stopped it under the information security\n")
	e.WriteString("special terms of the contract (情報セキュリティ特記仕様書).\n\n")
	fmt.Fprintf(&e, "  Received:   %s\n", n.Arrival.UTC().Format(time.RFC1123Z))
	if n.Subject != "" {
		fmt.Fprintf(&e, "  Subject:    %s\n", n.Subject)
	}
	fmt.Fprintf(&e, "  Recipients: %s\n", strings.Join(n.Recipients, ", "))
	fmt.Fprintf(&e, "  Event ID:   %s\n\n", n.EventID)
	e.WriteString("Why it was stopped:\n")

	codes := map[string]bool{}
	for _, r := range n.Reasons {
		codes[r.Code] = true
		rl, pl := reasonLabel(r.Code), placeLabel(r.Place)
		fmt.Fprintf(&j, "  ・%s", r.Article)
		if r.Article != "" {
			j.WriteString(" ")
		}
		if pl.ja != "" && r.Code != rules.ReasonPIIInBody {
			fmt.Fprintf(&j, "%s: ", pl.ja)
		}
		j.WriteString(rl.ja + "\n")
		fmt.Fprintf(&e, "  - ")
		if a := articleEN(r.Article); a != "" {
			fmt.Fprintf(&e, "[%s] ", a)
		}
		if pl.en != "" && r.Code != rules.ReasonPIIInBody {
			fmt.Fprintf(&e, "%s: ", pl.en)
		}
		e.WriteString(rl.en + "\n")
		if len(r.Recipients) > 0 {
			fmt.Fprintf(&j, "      対象の宛先: %s\n", strings.Join(r.Recipients, ", "))
			fmt.Fprintf(&e, "      recipients: %s\n", strings.Join(r.Recipients, ", "))
		}
		for _, id := range sortedKeys(r.Counts) {
			dl := detectorLabel(id)
			samples := ""
			if m := r.Masked[id]; len(m) > 0 {
				if len(m) > 3 {
					m = m[:3]
				}
				samples = strings.Join(m, ", ")
			}
			fmt.Fprintf(&j, "      %s: %d 件", dl.ja, r.Counts[id])
			fmt.Fprintf(&e, "      %s: %d", dl.en, r.Counts[id])
			if samples != "" {
				fmt.Fprintf(&j, "（例・伏字: %s）", samples)
				fmt.Fprintf(&e, " (masked examples: %s)", samples)
			}
			j.WriteString("\n")
			e.WriteString("\n")
		}
	}

	j.WriteString("\n直し方:\n")
	e.WriteString("\nHow to send it correctly:\n")
	if codes[rules.ReasonPIIInBody] || codes[rules.ReasonUnencryptedAttachment] || codes[rules.ReasonUninspectable] {
		j.WriteString("  ・個人情報は本文や件名に書かず、ファイルにしてパスワード付きで暗号化し（暗号化 ZIP、\n")
		j.WriteString("    パスワード付き Office 文書・PDF など）、添付して送ってください。\n")
		j.WriteString("  ・パスワードはこのメールとは別の手段（電話、別の連絡手段など）で相手に伝えてください。\n")
		j.WriteString("  ・または、承認されたファイル転送サービスを使ってください。\n")
		e.WriteString("  - Do not put personal information in the body or the subject. Put it in a file,\n")
		e.WriteString("    encrypt the file with a password (encrypted ZIP, password-protected Office\n")
		e.WriteString("    document or PDF, ...) and attach it.\n")
		e.WriteString("  - Give the password to the recipient another way (by phone, another channel),\n")
		e.WriteString("    never in the same mail.\n")
		e.WriteString("  - Or use the approved file transfer service.\n")
	}
	if codes[rules.ReasonFax] {
		j.WriteString("  ・FAX での送信は禁止されています（第11条(6)）。FAX 宛先を外して送り直してください。\n")
		e.WriteString("  - Sending by FAX is forbidden (contract art. 11(6)). Remove the FAX recipients and send again.\n")
	}
	j.WriteString("  ・判定が誤っていると思われる場合は、上のイベントIDを添えて情報セキュリティ担当者に連絡してください。\n")
	j.WriteString("    止めたメールは隔離されており、担当者が確認できます。\n")
	e.WriteString("  - If you think this is a mistake, contact the information security staff and quote\n")
	e.WriteString("    the event ID above. The message is kept in quarantine for review.\n")
	return j.String(), e.String()
}

// noticeSubject is the Subject of a notice.
const noticeSubject = "送信できませんでした / Undelivered Mail: blocked by DLP policy"

// WriteNotice writes the whole notice (RFC 5322 message, multipart/report;
// report-type=delivery-status) addressed to n.Sender.
func WriteNotice(w io.Writer, n Notice, o NoticeOptions) error {
	if o.Date.IsZero() {
		o.Date = time.Now()
	}
	global := !isASCII(n.Sender) || !allASCII(n.Recipients)

	var h mail.Header
	// Set prepends: fields are written in the reverse order of the calls.
	h.Set("X-Sekisho-Event", n.EventID)
	h.Set("Auto-Submitted", "auto-replied")
	h.SetContentType("multipart/report", map[string]string{"report-type": "delivery-status"})
	h.SetSubject(noticeSubject)
	h.SetAddressList("To", []*mail.Address{{Address: n.Sender}})
	h.SetAddressList("From", []*mail.Address{{Name: "Mail Delivery System (sekisho)", Address: o.Postmaster}})
	if err := h.GenerateMessageIDWithHostname(o.ReportingMTA); err != nil {
		return fmt.Errorf("smtprelay: notice message id: %w", err)
	}
	h.SetDate(o.Date)

	mw, err := message.CreateWriter(w, h.Header)
	if err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}

	// 1. The human part: Japanese first, English second.
	ja, en := RenderNoticeText(n)
	var th message.Header
	th.Set("Content-Transfer-Encoding", "base64")
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Language", "ja, en")
	pw, err := mw.CreatePart(th)
	if err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}
	text := ja + "\n----------------------------------------------------------------------\n\n" + en
	io.WriteString(pw, strings.ReplaceAll(text, "\n", "\r\n"))
	if err := pw.Close(); err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}

	// 2. The machine-readable part.
	var dh message.Header
	dtype := "message/delivery-status"
	if global {
		dtype = "message/global-delivery-status"
		dh.Set("Content-Transfer-Encoding", "8bit")
	} else {
		dh.Set("Content-Transfer-Encoding", "7bit")
	}
	dh.SetContentType(dtype, nil)
	pw, err = mw.CreatePart(dh)
	if err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}
	io.WriteString(pw, deliveryStatus(n, o))
	if err := pw.Close(); err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}

	// 3. The original header only, never the body.
	hdr := o.OriginalHeader
	if o.MaskSubject {
		hdr = maskHeaderField(hdr, "Subject", "(masked by sekisho: the subject contains personal information)")
	}
	var oh message.Header
	if isASCII(string(hdr)) {
		oh.Set("Content-Transfer-Encoding", "7bit")
	} else {
		oh.Set("Content-Transfer-Encoding", "8bit")
	}
	oh.SetContentType("text/rfc822-headers", nil)
	pw, err = mw.CreatePart(oh)
	if err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}
	pw.Write(hdr)
	if err := pw.Close(); err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("smtprelay: write notice: %w", err)
	}
	return nil
}

// deliveryStatus renders the message/delivery-status body (RFC 3464 §2.2, 2.3).
func deliveryStatus(n Notice, o NoticeOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\n", o.ReportingMTA)
	if n.EnvelopeID != "" {
		fmt.Fprintf(&b, "Original-Envelope-Id: %s\r\n", n.EnvelopeID)
	}
	fmt.Fprintf(&b, "X-Sekisho-Event: %s\r\n", n.EventID)
	fmt.Fprintf(&b, "Arrival-Date: %s\r\n", n.Arrival.Format(time.RFC1123Z))
	diag := "Message blocked by the data-loss-prevention policy"
	var rs []string
	for _, r := range n.Reasons {
		rs = append(rs, reasonASCII(rules.Reason{Code: r.Code, Article: r.Article, Place: r.Place}))
	}
	if len(rs) > 0 {
		diag += ": " + strings.Join(rs, "; ")
	}
	diag += "; event " + n.EventID
	for _, rc := range n.Recipients {
		b.WriteString("\r\n")
		fmt.Fprintf(&b, "Final-Recipient: rfc822; %s\r\n", rc)
		if orc := n.ORCPT[rc]; orc != "" {
			fmt.Fprintf(&b, "Original-Recipient: rfc822; %s\r\n", orc)
		}
		b.WriteString("Action: failed\r\n")
		b.WriteString("Status: 5.7.1\r\n")
		fmt.Fprintf(&b, "Diagnostic-Code: smtp; 550 5.7.1 %s\r\n", diag)
	}
	return b.String()
}

// maskHeaderField replaces the value of every field named name (with its
// continuation lines) in a raw header block.
func maskHeaderField(hdr []byte, name, value string) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(hdr))
	sc.Buffer(make([]byte, 64<<10), len(hdr)+1)
	skipping := false
	prefix := strings.ToLower(name) + ":"
	for sc.Scan() {
		line := sc.Text()
		if skipping && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			continue
		}
		skipping = false
		if strings.HasPrefix(strings.ToLower(line), prefix) {
			out.WriteString(name + ": " + value + "\r\n")
			skipping = true
			continue
		}
		out.WriteString(strings.TrimSuffix(line, "\r") + "\r\n")
	}
	return out.Bytes()
}

// readHeaderBlock reads the header block of a message (up to and including
// the blank line), at most max bytes, cut at a line end.
func readHeaderBlock(r io.Reader, max int) ([]byte, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	var out bytes.Buffer
	for out.Len() < max {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && !bytes.HasSuffix(line, []byte("\n")) && err == bufio.ErrBufferFull {
			// a very long header line: keep reading it, bounded by max
			out.Write(line)
			continue
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 && len(line) > 0 {
			break // end of header
		}
		out.Write(line)
		if err != nil {
			if err == io.EOF {
				break
			}
			return out.Bytes(), err
		}
	}
	b := out.Bytes()
	if len(b) > max {
		b = b[:max]
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
		}
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\r', '\n')
	}
	return b, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}

var jst = time.FixedZone("JST", 9*3600)
