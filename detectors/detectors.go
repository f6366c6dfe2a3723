// Package detectors finds personal information in text.
//
// A Detector is a hand-written scanner for one kind of value (a My Number, a
// phone number, a card number, ...). Detectors are pure: they never do I/O,
// are safe for concurrent use, and never let a detected value leave the
// process in clear: every Match carries a Masked form for logs and events and
// a normalised Key that is used only to count distinct values.
//
// The flow is: an Engine (the set of detectors in force) opens a Scan per
// part; extraction writes the part's text into the Scan (it is an io.Writer
// and copes with any chunking); Close returns a Tally of distinct values per
// detector. Tallies of several parts merge into the tally of a place (the
// mail body, one attachment), which is what the policy judges.
package detectors

// Confidence says how sure a detector is that a value is what it claims.
type Confidence uint8

const (
	// Low: the value is valid but nothing around it says what it is.
	Low Confidence = iota + 1
	// Medium: the surroundings fit (a plausible layout, a nearby keyword).
	Medium
	// High: a label or a table column names the kind of value.
	High
)

func (c Confidence) String() string {
	switch c {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return "none"
}

// Match is one value found in a chunk of text.
type Match struct {
	Detector string // detector ID, e.g. "jp_my_number"
	Start    int    // byte offset of the value in the text passed to Scan
	End      int    // byte offset just past the value
	// Key is the normalised value (ASCII digits, no separators). It is only
	// for counting distinct values: never log, store or print it.
	Key        string
	Masked     string // safe to log: e.g. "********9012"
	Confidence Confidence
}

// Detector is one scanner. Scan reports every value in text through emit.
// text always holds whole lines (the Scan splits input at line ends), so a
// value never straddles two calls. ctx carries per-part state shared by all
// detectors (such as the columns of a table header); detectors that need no
// context ignore it.
type Detector interface {
	ID() string
	Scan(text []byte, ctx *Context, emit func(Match))
}
