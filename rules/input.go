package rules

import "github.com/sekisho-dlp/sekisho/detectors"

// Channel is where an item came from.
type Channel string

const (
	ChannelSMTP Channel = "smtp"
	ChannelHTTP Channel = "http"
)

// PlaceKind tells the body of a message from an attachment.
type PlaceKind string

const (
	PlaceBody       PlaceKind = "body"       // Subject plus every inline text part (or an HTTP form's fields)
	PlaceAttachment PlaceKind = "attachment" // one attachment (or uploaded file) with everything inside it
)

// Place is one unit the policy judges: the body, or one attachment as a whole.
type Place struct {
	Kind PlaceKind
	// Name is what people see: "body", or the attachment's path and file name.
	Name string
	// Type is the sniffed type of the top-level part ("xlsx", "application/zip", ...).
	Type string
	// Encrypted is true when the top-level part is recognisably encrypted.
	Encrypted  bool
	Encryption string
	// Uninspectable lists, per inner part path, why it could not be inspected
	// (only for parts that are not recognisably encrypted).
	Uninspectable []string
	// EncryptedInside is true when some inner part is encrypted.
	EncryptedInside bool
	// Findings holds the distinct values found anywhere in the place.
	Findings *detectors.Tally
	Size     int64
}

// Input is everything the policy may look at for one item.
type Input struct {
	Channel    Channel
	Client     string   // client IP address
	Sender     string   // envelope sender (SMTP) or authenticated user (HTTP); "" for <>
	Recipients []string // envelope recipients (SMTP)
	Host       string   // destination host (HTTP)
	Places     []Place
}
