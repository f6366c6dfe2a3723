package extract

import (
	"errors"
	"io"
)

// message walks an RFC 5322 message. (Placeholder: mime walk goes here.)
func (w *walker) message(r io.Reader) (*Header, error) {
	return nil, errors.New("extract: MIME walk not implemented")
}
