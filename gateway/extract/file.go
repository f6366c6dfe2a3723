package extract

import (
	"errors"
	"io"
)

// file sniffs one file, recognises encryption and opens containers.
// (Placeholder: file walk goes here.)
func (w *walker) file(r io.Reader, fi fileInfo) error {
	return errors.New("extract: file walk not implemented")
}
