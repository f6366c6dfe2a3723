// Package benchmsg makes the messages of the relay's benchmarks, shaped as
// peers/smtp-bench.sh makes them, for the Go benchmarks of several
// packages (the inspector's and the relay's).
package benchmsg

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
)

// Message returns a message of about size bytes: below 50 KB text/plain
// prose, else multipart/mixed with a short text part and a base64
// attachment of deterministic random bytes in 76-character lines. Nothing
// in it is personal information: the default policy allows it.
func Message(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: sender@bench.invalid\r\nTo: rcpt@sk.bench.invalid\r\nSubject: bench\r\nMIME-Version: 1.0\r\n")
	if size < 50<<10 {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
		for b.Len() < size {
			b.WriteString("Quarterly inventory report for the warehouse: rows of parts and counts, nothing personal.\r\n")
		}
		return b.Bytes()
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=_bench_b0undary\"\r\n\r\n" +
		"--=_bench_b0undary\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
		"Quarterly inventory attached. Nothing personal in here.\r\n\r\n" +
		"--=_bench_b0undary\r\nContent-Type: application/octet-stream; name=\"warehouse-export.bin\"\r\n" +
		"Content-Disposition: attachment; filename=\"warehouse-export.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	r := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, (size-b.Len()-30)/78*57)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--=_bench_b0undary--\r\n")
	return b.Bytes()
}
