package extract

import (
	"errors"
	"io"
)

// upload walks an HTTP request body. (Placeholder: upload walk goes here.)
func (w *walker) upload(contentType string, r io.Reader) error {
	return errors.New("extract: upload walk not implemented")
}
