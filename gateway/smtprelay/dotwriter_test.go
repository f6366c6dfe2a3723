package smtprelay

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/internal/benchmsg"
)

// dotStuffed writes body through dotWriter in pieces of at most step bytes
// and finishes it through a textproto DotWriter on the same stream, as
// sendBody does with go-smtp's.
func dotStuffed(t testing.TB, body []byte, step int) []byte {
	var raw bytes.Buffer
	bw := bufio.NewWriter(&raw)
	wc := textproto.NewWriter(bw).DotWriter()
	dw := newDotWriter(&raw, nil)
	for p := body; len(p) > 0; {
		n := min(step, len(p))
		if _, err := dw.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := dw.finish(wc, nil); err != nil {
		t.Fatal(err)
	}
	if err := wc.Close(); err != nil {
		t.Fatal(err)
	}
	return raw.Bytes()
}

// referenceStuffed is RFC 5321 §4.5.2 done line by line: every line ends
// in CRLF (a bare LF becomes CRLF, a final unterminated line or a final
// bare CR gets one), a leading '.' is doubled, then ".\r\n".
func referenceStuffed(body []byte) []byte {
	var out bytes.Buffer
	s := string(body)
	if strings.HasSuffix(s, "\r") {
		s += "\n"
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" && len(lines) > 1 {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\n")
		l = strings.TrimSuffix(l, "\r")
		if strings.HasPrefix(l, ".") {
			out.WriteByte('.')
		}
		out.WriteString(l + "\r\n")
	}
	out.WriteString(".\r\n")
	return out.Bytes()
}

func TestDotWriter(t *testing.T) {
	for _, body := range []string{
		"",
		"a",
		"a\r\n",
		"a\n",
		".\r\n",
		"..\r\n.x\r\n",
		"line\r\n.\r\nmore\r\n",
		"no final break",
		"bare\rcr\r\n",
		"ends in cr\r",
		"\r\n\r\n",
		"x\n.y\n\n.\n",
		strings.Repeat("0123456789", 9000) + "\r\n." + strings.Repeat("y", 70000) + "\r\n",
	} {
		want := referenceStuffed([]byte(body))
		for _, step := range []int{1, 2, 3, 7, 64 << 10, 1 << 20} {
			got := dotStuffed(t, []byte(body), step)
			if !bytes.Equal(got, want) {
				t.Errorf("body %.40q in steps of %d:\n got %.80q\nwant %.80q", body, step, got, want)
			}
		}
	}
}

// TestDotWriterLikeTextproto: on input without a CR before a CR (where
// textproto adds a CR), the output is byte for byte what net/textproto's
// DotWriter alone would write.
func TestDotWriterLikeTextproto(t *testing.T) {
	body := []byte("From: a\r\nSubject: x\r\n\r\n.hidden\r\nbare lf\n.\n..\r\nlast line no break")
	var raw bytes.Buffer
	bw := bufio.NewWriter(&raw)
	wc := textproto.NewWriter(bw).DotWriter()
	wc.Write(body)
	wc.Close()
	if got := dotStuffed(t, body, 5); !bytes.Equal(got, raw.Bytes()) {
		t.Errorf("got  %q\nwant %q", got, raw.Bytes())
	}
}

func FuzzDotWriter(f *testing.F) {
	f.Add([]byte("a\r\n.b\n\r\rc\r"), 3)
	f.Add([]byte(".\r\n"), 1)
	f.Fuzz(func(t *testing.T, body []byte, step int) {
		if step <= 0 || step > 1<<16 {
			step = 1 + len(body)
		}
		if got, want := dotStuffed(t, body, step), referenceStuffed(body); !bytes.Equal(got, want) {
			t.Fatalf("got %q want %q", got, want)
		}
	})
}

// While hold is set the next-hop connection keeps a write back; the next
// write sends both, in order (as one writev on TCP).
func TestWriteDeadlineConnHold(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c := &writeDeadlineConn{Conn: client, timeout: 5 * time.Second}
	c.hold = true
	if n, err := c.Write([]byte("last line of the body")); n != 21 || err != nil {
		t.Fatalf("held write: %d %v", n, err)
	}
	c.hold = false
	peer.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := peer.Read(make([]byte, 64)); n != 0 || err == nil {
		t.Fatalf("the held bytes were sent early: %d %v", n, err)
	}
	if n, err := c.Write([]byte("\r\n.\r\n")); n != 5 || err != nil {
		t.Fatalf("write after hold: %d %v", n, err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 26)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "last line of the body\r\n.\r\n" {
		t.Fatalf("peer got %q %v", got, err)
	}
	if c.held != nil {
		t.Error("held bytes kept after they were sent")
	}
}

// BenchmarkDotWriter dot-stuffs the 2 MB message of the SMTP benchmark
// (base64 lines) in 64 KiB pieces, as sendBody writes a spooled message.
func BenchmarkDotWriter(b *testing.B) {
	msg := benchmsg.Message(2 << 20)
	wc := textproto.NewWriter(bufio.NewWriter(io.Discard)).DotWriter()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		dw := newDotWriter(io.Discard, nil)
		for p := msg; len(p) > 0; {
			n := min(64<<10, len(p))
			dw.Write(p[:n])
			p = p[n:]
		}
		if err := dw.finish(wc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
