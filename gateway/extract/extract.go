// Package extract turns a mail message or an upload into parts with text.
//
// It is the first stage of sekisho's flow (extract → detect → decide → act →
// record). Message walks an RFC 5322 message (MIME, charsets, transfer
// encodings, nested multiparts and forwarded messages); File walks one file
// (an attachment or an uploaded file): it sniffs the type from the content,
// recognises encryption, and opens containers (zip, OOXML, PDF, ...)
// recursively. Every part, text or not, is reported to a Visitor, with its
// text streamed so that a large part never sits whole in memory. A part that
// cannot be opened and is not recognisably encrypted is reported with
// Uninspectable set: nothing is ever dropped silently.
package extract

import (
	"context"
	"errors"
	"io"
)

// Role says which place of a message a part belongs to.
type Role int

const (
	RoleBody       Role = iota // Subject or an inline text part of the message body
	RoleAttachment             // an attachment, or anything inside one
)

func (r Role) String() string {
	if r == RoleAttachment {
		return "attachment"
	}
	return "body"
}

// Part describes one part of a message or upload.
type Part struct {
	// Path locates the part for people: "subject", "body[1]" (an inline text
	// part), "attachment[2]/名簿.zip/list.csv".
	Path string
	// Name is the decoded file name, if any.
	Name string
	// Declared is the media type the sender declared (lower case, no params).
	Declared string
	// Type is the type sniffed from the content: "text/plain", "text/csv",
	// "text/html", "application/zip", "xlsx", "docx", "pptx", "pdf", "7z",
	// "rar", "cfb" (legacy Office), "smime", "smime-signature", "pgp", "message/rfc822",
	// "application/octet-stream" (opaque), ...
	Type string
	Role Role
	// Attachment is the 1-based index of the top-level attachment that holds
	// this part (0 for the body). All parts with the same index form one
	// place for the policy.
	Attachment int
	// Depth is the nesting depth (0 for top-level parts).
	Depth int
	// Container is true for a part whose content is reported as child parts
	// (multipart, zip, ...); it has no text of its own.
	Container bool
	// Encrypted is true when the content is recognisably encrypted;
	// Encryption names the scheme ("zip-zipcrypto", "zip-aes", "7z-aes",
	// "rar", "ooxml-agile", "office-legacy", "pdf-user-password", "smime",
	// "pgp").
	Encrypted  bool
	Encryption string
	// Uninspectable is non-empty when the part could not be inspected: the
	// reason ("corrupt zip", "depth limit", "expanded size limit", "broken
	// base64", "unknown charset", "unknown transfer encoding", ...).
	Uninspectable string
	// Size is the decoded size of the part in bytes, when known.
	Size int64
}

// Visitor receives every part in document order. text is the part's text as
// UTF-8 (nil for parts without text); the visitor must read it to the end or
// stop and return an error. Returning an error stops the walk.
type Visitor func(p *Part, text io.Reader) error

// Header is the summary of a message's top-level header.
type Header struct {
	MessageID string
	Subject   string
	From      string
	To, Cc    []string // addresses only
	Bcc       []string
	Date      string
}

// Limits bound the work and memory one message or upload may take.
type Limits struct {
	MaxDepth         int     // nesting of multiparts, archives and documents (default 8)
	MaxExpandedBytes int64   // total decoded and decompressed bytes (default 512 MiB)
	MaxRatio         float64 // largest compression ratio of one archive member (default 200)
	MaxEntries       int     // entries per archive (default 10000)
	MaxParts         int     // parts per message (default 10000)
	SpoolThreshold   int64   // parts larger than this spool to a temp file (default 8 MiB)
	TempDir          string  // where to spool ("" = os.TempDir())
}

// DefaultLimits returns the safe defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:         8,
		MaxExpandedBytes: 512 << 20,
		MaxRatio:         200,
		MaxEntries:       10000,
		MaxParts:         10000,
		SpoolThreshold:   8 << 20,
	}
}

// ErrLimit is wrapped by errors that report a limit being hit.
var ErrLimit = errors.New("extract: limit exceeded")

// Message walks an RFC 5322 message and returns its top-level header summary.
// The Subject is reported first as a part with Path "subject".
func Message(ctx context.Context, r io.Reader, lim Limits, visit Visitor) (*Header, error) {
	w := newWalker(ctx, lim, visit)
	return w.message(r)
}

// File walks one file (an upload or a stand-alone attachment) named name.
func File(ctx context.Context, name string, r io.Reader, lim Limits, visit Visitor) error {
	w := newWalker(ctx, lim, visit)
	return w.file(r, fileInfo{name: name, path: name, role: RoleAttachment, attachment: 1})
}

// Upload walks an HTTP request body of the given Content-Type: form fields
// (urlencoded or multipart) and raw or JSON bodies are body parts; every
// file of a multipart/form-data body is an attachment, walked like File.
func Upload(ctx context.Context, contentType string, r io.Reader, lim Limits, visit Visitor) error {
	w := newWalker(ctx, lim, visit)
	return w.upload(contentType, r)
}
