package smtprelay

import (
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
	"github.com/sekisho-dlp/sekisho/rules"
)

// Replies sekisho gives on its own account. Every reply text is ASCII: a
// sending MTA copies it into its bounce, and some mangle anything else.
var (
	replyRelayDenied = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "Relay access denied: connect from an allowed network or authenticate"}
	replyNeedUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
		Message: "Non-ASCII address requires SMTPUTF8"}
	replyNoTransaction = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Next hop transaction lost, try again later"}
	replySpoolFailed = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Cannot spool the message, try again later"}
	replyReadFailed = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Error while reading the message, try again later"}
	replyLineTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 4, 0},
		Message: "Line too long"}
	replyShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "Service shutting down, try again later"}
)

func tempfail(enh smtp.EnhancedCode, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 451, EnhancedCode: enh, Message: msg}
}

// dataReadError maps an error met while reading the client's DATA.
// go-smtp matches *smtp.SMTPError with a plain type assertion, so the size
// error is returned as is, never wrapped.
func dataReadError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se // ErrDataTooLarge: 552 5.3.4
	}
	if errors.Is(err, smtp.ErrTooLongLine) {
		return replyLineTooLong
	}
	return replyReadFailed
}

// nextHopError maps an error from the next hop into the reply for our
// client: the next hop's 4xx and 5xx pass through with their codes (a 421
// becomes a 451, since we keep our connection open); a network error or a
// timeout becomes 451 4.4.x so that the sender retries. dialing is true for
// errors met while connecting.
func nextHopError(err error, dialing bool) *smtp.SMTPError {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 400 && se.Code < 600 {
		enh := se.EnhancedCode
		msg := cleanReplyText(se.Message)
		if enh == (smtp.EnhancedCode{0, 0, 0}) || enh == smtp.EnhancedCodeNotSet {
			// The next hop put its enhanced code only on the last line.
			enh, msg = parseEnhanced(msg, se.Code)
		}
		code := se.Code
		if code == 421 {
			code = 451
			if enh != smtp.NoEnhancedCode && enh != smtp.EnhancedCodeNotSet {
				enh[0] = 4
			}
		}
		if msg == "" {
			msg = "Next hop refused"
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return tempfail(smtp.EnhancedCode{4, 4, 2}, "Next hop timed out, try again later")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, errHopBroken):
		return tempfail(smtp.EnhancedCode{4, 4, 2}, "Next hop dropped the connection, try again later")
	case strings.Contains(err.Error(), "SMTPUTF8"):
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
			Message: "Next hop does not support SMTPUTF8"}
	case strings.Contains(err.Error(), "STARTTLS"):
		return tempfail(smtp.EnhancedCode{4, 7, 10}, "Next hop TLS (STARTTLS) failed or is not offered, try again later")
	case dialing:
		return tempfail(smtp.EnhancedCode{4, 4, 1}, "Next hop unreachable, try again later")
	}
	return tempfail(smtp.EnhancedCode{4, 4, 0}, "Next hop error, try again later")
}

var enhancedRe = regexp.MustCompile(`(?m)^([245])\.(\d{1,3})\.(\d{1,3}) `)

// parseEnhanced finds an enhanced status code at the start of a line of msg
// (matching the reply's class) and returns it with the text without it.
func parseEnhanced(msg string, code int) (smtp.EnhancedCode, string) {
	m := enhancedRe.FindAllStringSubmatchIndex(msg, -1)
	for i := len(m) - 1; i >= 0; i-- {
		loc := m[i]
		class, _ := strconv.Atoi(msg[loc[2]:loc[3]])
		if class != code/100 {
			continue
		}
		a, _ := strconv.Atoi(msg[loc[4]:loc[5]])
		b, _ := strconv.Atoi(msg[loc[6]:loc[7]])
		return smtp.EnhancedCode{class, a, b}, strings.TrimSpace(msg[:loc[0]] + msg[loc[1]:])
	}
	return smtp.EnhancedCodeNotSet, msg
}

// cleanReplyText keeps reply text printable ASCII, one line per "\n", and
// bounded in length.
func cleanReplyText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteByte('\n')
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		}
		if b.Len() > 400 {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// articleASCII turns "第11条(7)" into "art. 11(7)" and "第11条(10)イ" into
// "art. 11(10)(a)" for ASCII replies.
func articleASCII(a string) string {
	if a == "" {
		return ""
	}
	iroha := map[rune]string{'イ': "(a)", 'ロ': "(b)", 'ハ': "(c)", 'ニ': "(d)", 'ホ': "(e)"}
	var b strings.Builder
	for _, r := range a {
		switch {
		case r == '第':
			b.WriteString("art. ")
		case r == '条':
		case iroha[r] != "":
			b.WriteString(iroha[r])
		case r < 0x7f && r >= 0x20:
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '（':
			b.WriteByte('(')
		case r == '）':
			b.WriteByte(')')
		}
	}
	return strings.TrimSpace(b.String())
}

// reasonASCII is a short English summary of one reason for an SMTP reply.
func reasonASCII(r rules.Reason) string {
	var what string
	switch r.Code {
	case rules.ReasonFax:
		what = "FAX transmission is forbidden"
	case rules.ReasonPIIInBody:
		what = "personal information in the message body"
	case rules.ReasonUnencryptedAttachment:
		what = "personal information in an unencrypted attachment"
		if n := placeASCII(r.Place); n != "" {
			what += " " + n
		}
	case rules.ReasonUninspectable:
		what = "content that cannot be inspected"
		if n := placeASCII(r.Place); n != "" {
			what += " in " + n
		}
	case rules.ReasonBlockedHost:
		what = "blocked destination"
	default:
		what = cleanReplyText(strings.ReplaceAll(r.Code, "_", " "))
	}
	if n := countsASCII(r.Counts); n != "" {
		what += " (" + n + ")"
	}
	if art := articleASCII(r.Article); art != "" {
		what += " (contract " + art + ")"
	}
	return what
}

// placeASCII gives the ASCII part of a place name ("attachment[2]").
func placeASCII(p string) string {
	if p == "" || p == "body" {
		return ""
	}
	head, _, _ := strings.Cut(p, " ")
	return cleanReplyText(head)
}

func countsASCII(c map[string]int) string {
	var parts []string
	for _, id := range sortedKeys(c) {
		parts = append(parts, strconv.Itoa(c[id])+" "+detectorLabel(id).en)
	}
	return strings.Join(parts, ", ")
}

// blockedReply is the 550 5.7.1 reply of the reject action.
func blockedReply(d rules.Decision, eventID string) *smtp.SMTPError {
	var rs []string
	seen := map[string]bool{}
	for _, r := range d.Reasons {
		s := reasonASCII(r)
		if !seen[s] {
			seen[s] = true
			rs = append(rs, s)
		}
	}
	msg := "Message blocked by the data-loss-prevention policy"
	if len(rs) > 0 {
		msg += ": " + strings.Join(rs, "; ")
	}
	if len(msg) > 380 {
		msg = msg[:377] + "..."
	}
	msg += "; event " + eventID
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: msg}
}

// faxReply is the RCPT reply for an email-to-FAX recipient.
func faxReply(eventID string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "FAX transmission is forbidden (contract art. 11(6)); event " + eventID}
}

// inspectFailedReply is the reply when inspection itself failed.
func inspectFailedReply(eventID string) *smtp.SMTPError {
	return tempfail(smtp.EnhancedCode{4, 7, 0}, "Message could not be inspected, try again later; event "+eventID)
}
