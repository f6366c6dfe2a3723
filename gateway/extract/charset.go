package extract

import "io"

// textReader decodes r, declared as charset label ("" if none), to UTF-8.
// When the label is missing, wrong or unknown it sniffs (ISO-2022-JP escapes,
// UTF-8 validity, Shift_JIS/CP932, EUC-JP). It returns a non-empty reason
// when no decoding yields text (the part is then uninspectable).
// (Placeholder: the charset work replaces this.)
func textReader(r io.Reader, label string) (io.Reader, string) {
	return r, ""
}
