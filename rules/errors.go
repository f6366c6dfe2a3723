package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one error in a policy or configuration file, located by
// file, line and field: `sekisho.yaml:12: smtp.next_hop: "foo" is not host:port`.
type FieldError struct {
	File  string // file name as given ("" when unknown)
	Line  int    // 1-based line, 0 when the field is not in the file
	Field string // dotted path: "policy.custom_detectors[0].pattern"
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every error found in a file, in line order. Its Error joins
// them with newlines.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns es sorted by line, or nil when es is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// Source maps the field paths of one YAML document to their lines, so that
// errors found after decoding (in validation) still name their line.
type Source struct {
	File  string
	lines map[string]int
}

// NewSource returns an empty source for file.
func NewSource(file string) *Source { return &Source{File: file, lines: map[string]int{}} }

// Line returns the line of path, or of its nearest ancestor in the file, or 0.
func (s *Source) Line(path string) int {
	if s == nil {
		return 0
	}
	for path != "" {
		if l, ok := s.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return s.lines[""]
}

// Has reports whether path was given in the file.
func (s *Source) Has(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.lines[path]
	return ok
}

// Errorf returns an error at path.
func (s *Source) Errorf(path, format string, args ...any) *FieldError {
	e := &FieldError{Field: path, Msg: fmt.Sprintf(format, args...)}
	if s != nil {
		e.File = s.File
		e.Line = s.Line(path)
	}
	return e
}

// join builds a field path: join("a", "b") = "a.b"; join("", "b") = "b".
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
