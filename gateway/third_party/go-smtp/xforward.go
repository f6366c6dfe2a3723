// sekisho patch: Postfix's XFORWARD extension (not part of upstream).
// See https://www.postfix.org/XFORWARD_README.html.

package smtp

import (
	"errors"
	"fmt"
	"strings"
)

// XForwardSession is an add-on interface for Session (sekisho patch). A
// session that implements it, and whose XForwardAllowed says yes, is
// offered Postfix's XFORWARD extension: an MTA in front (a Postfix content
// filter's smtp client with smtp_send_xforward_command = yes) tells it the
// original client's name, address, HELO name and queue ID before each
// transaction, so that what the session records names the real client
// rather than the MTA.
type XForwardSession interface {
	Session

	// XForwardAllowed reports whether this client may send XFORWARD; the
	// extension is advertised in the EHLO reply only then, and the command
	// is refused (550 5.7.0) otherwise. It is called at each EHLO.
	XForwardAllowed() bool
	// XForward receives the attributes of one XFORWARD command, names
	// upper-cased (NAME, ADDR, PORT, PROTO, HELO, IDENT, SOURCE), values
	// xtext-decoded ("[UNAVAILABLE]" and "[TEMPUNAVAIL]" are passed as
	// they are). A client may send several commands before MAIL; they
	// apply to the next transaction (Reset ends it). An error refuses the
	// command.
	XForward(attrs map[string]string) error
}

// xforwardAttrs are the attributes advertised and accepted, in the order
// of the EHLO keyword.
var xforwardAttrs = []string{"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"}

// xforwardSession returns the session as an XForwardSession when it offers
// the extension to this client.
func (c *Conn) xforwardSession() (XForwardSession, bool) {
	xs, ok := c.Session().(XForwardSession)
	return xs, ok
}

func (c *Conn) handleXForward(arg string) {
	if c.helo == "" {
		c.writeResponse(503, EnhancedCode{5, 5, 1}, "Please introduce yourself first.")
		return
	}
	xs, ok := c.xforwardSession()
	if !ok {
		c.protocolError(500, EnhancedCode{5, 5, 2}, "Syntax errors, XFORWARD command unrecognized")
		return
	}
	if !xs.XForwardAllowed() {
		c.writeResponse(550, EnhancedCode{5, 7, 0}, "Error: insufficient authorization")
		return
	}
	if c.fromReceived {
		c.writeResponse(503, EnhancedCode{5, 5, 1}, "Error: MAIL transaction in progress")
		return
	}
	attrs, err := parseXForward(arg)
	if err != nil {
		c.writeResponse(501, EnhancedCode{5, 5, 4}, err.Error())
		return
	}
	if err := xs.XForward(attrs); err != nil {
		c.writeError(550, EnhancedCode{5, 7, 0}, err)
		return
	}
	c.writeResponse(250, EnhancedCode{2, 0, 0}, "Ok")
}

// parseXForward parses "NAME=value ADDR=value ...": at least one
// attribute, each known, values xtext (RFC 3461) decoded.
func parseXForward(arg string) (map[string]string, error) {
	fields := strings.Fields(arg)
	if len(fields) == 0 {
		return nil, fmt.Errorf("Syntax: XFORWARD attribute=value...")
	}
	attrs := make(map[string]string, len(fields))
	for _, f := range fields {
		name, value, ok := strings.Cut(f, "=")
		name = strings.ToUpper(name)
		if !ok || !knownXForwardAttr(name) {
			return nil, fmt.Errorf("Bad XFORWARD attribute name: %.64s", f)
		}
		v, ok := xtextDecode(value)
		if !ok {
			return nil, fmt.Errorf("Bad XFORWARD attribute value for %s", name)
		}
		attrs[name] = v
	}
	return attrs, nil
}

// xtextDecode decodes RFC 3461 xtext byte by byte: printable US-ASCII but
// "+" and "=" stand for themselves, "+HH" (upper-case hex) for any byte;
// anything else is not xtext. (conn.go's decodeXtext, upstream's, works on
// runes and refuses bytes above 0x7F.)
func xtextDecode(v string) (string, bool) {
	if !strings.ContainsAny(v, "+=") && isXtextPlain(v) {
		return v, true
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '+':
			if i+2 >= len(v) {
				return "", false
			}
			hi, ok1 := upperHex(v[i+1])
			lo, ok2 := upperHex(v[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, hi<<4|lo)
			i += 2
		case c >= '!' && c <= '~' && c != '=':
			b = append(b, c)
		default:
			return "", false
		}
	}
	return string(b), true
}

func isXtextPlain(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < '!' || v[i] > '~' {
			return false
		}
	}
	return true
}

func upperHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// xtextEncode is xtextDecode's inverse, byte by byte.
func xtextEncode(v string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= '!' && c <= '~' && c != '+' && c != '=' {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('+')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

func knownXForwardAttr(name string) bool {
	for _, a := range xforwardAttrs {
		if a == name {
			return true
		}
	}
	return false
}

// XForward makes the next MAIL (Mail or MailRcpt) go out behind an XFORWARD
// command with attrs (sekisho patch), so that a Postfix next hop logs the
// original client rather than this one. Only the attributes the server
// advertised are sent, in its order, xtext-encoded; with none left, or when
// XFORWARD is not offered, nothing is sent. A refusal of the command does
// not stop the mail: XFORWARD only informs the next hop's logs.
func (c *Client) XForward(attrs map[string]string) {
	c.xforward = ""
	offered, ok := c.ext["XFORWARD"]
	if !ok {
		return
	}
	var sb strings.Builder
	for _, name := range strings.Fields(strings.ToUpper(offered)) {
		v, ok := attrs[name]
		if !ok || !knownXForwardAttr(name) {
			continue
		}
		if v == "" {
			v = "[UNAVAILABLE]"
		}
		fmt.Fprintf(&sb, " %s=%s", name, xtextEncode(v))
	}
	if sb.Len() > 0 {
		c.xforward = "XFORWARD" + sb.String()
	}
}

// sendXForward sends a pending XFORWARD command in lock-step; a refusal is
// dropped (see XForward), a broken connection is returned.
func (c *Client) sendXForward() error {
	line := c.xforward
	c.xforward = ""
	if line == "" {
		return nil
	}
	_, _, err := c.cmd(250, "%s", line)
	return ignoreSMTPError(err)
}

func ignoreSMTPError(err error) error {
	var se *SMTPError
	if errors.As(err, &se) {
		return nil
	}
	return err
}
