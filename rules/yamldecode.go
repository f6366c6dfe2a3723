package rules

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxYAMLNodes bounds the nodes one decode visits, aliases expanded, so an
// alias bomb cannot blow up.
const maxYAMLNodes = 20000

// ParseYAML parses data into its document node. A syntax error is located
// by line.
func ParseYAML(data []byte, file string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if strings.HasPrefix(msg, "line ") {
			rest := msg[len("line "):]
			if i := strings.Index(rest, ":"); i > 0 {
				if n, err := strconv.Atoi(rest[:i]); err == nil {
					line = n
					msg = strings.TrimSpace(rest[i+1:])
				}
			}
		}
		return nil, Errors{{File: file, Line: line, Msg: "not valid YAML: " + msg}}
	}
	return &doc, nil
}

// DecodeYAML decodes node into out (a pointer) strictly: a key that names
// no field is an error, as is a key given twice or a value of the wrong
// kind. Field names are the `yaml` tags. Maps are merged into what out
// already holds; slices replace it. Types that implement
// encoding.TextUnmarshaler decode from scalars. The line of every field is
// recorded in src under its path (prefixed by path).
func DecodeYAML(node *yaml.Node, out any, src *Source, path string) Errors {
	d := &decoder{src: src}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic("rules: DecodeYAML needs a non-nil pointer")
	}
	if node != nil && node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return nil
		}
		node = node.Content[0]
	}
	if node == nil || node.Kind == 0 {
		return nil // an empty document
	}
	if src != nil {
		if _, ok := src.lines[path]; !ok {
			src.lines[path] = node.Line
		}
	}
	d.decode(node, v.Elem(), path)
	return d.errs
}

type decoder struct {
	src   *Source
	errs  Errors
	nodes int
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	nodeType            = reflect.TypeFor[yaml.Node]()
)

func (d *decoder) errorf(line int, path, format string, args ...any) {
	e := &FieldError{Line: line, Field: path, Msg: fmt.Sprintf(format, args...)}
	if d.src != nil {
		e.File = d.src.File
	}
	d.errs = append(d.errs, e)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.nodes++
	if d.nodes > maxYAMLNodes {
		if d.nodes == maxYAMLNodes+1 {
			d.errorf(n.Line, path, "document too large (more than %d nodes, aliases expanded)", maxYAMLNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.errorf(n.Line, path, "unknown alias")
			return
		}
		d.decode(n.Alias, v, path)
		return
	}
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(*n))
		return
	}
	if v.Kind() == reflect.Pointer {
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "want a single value, not %s", kindName(n))
			return
		}
		if isNull(n) {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.errorf(n.Line, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, path, "want a list, not %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			p := index(path, i)
			d.record(p, c.Line)
			d.decode(c, s.Index(i), p)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "want a string, not %s", kindName(n))
			return
		}
		if isNull(n) {
			v.SetString("")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n.Line, path, "want true or false, not %s", kindName(n))
			return
		}
		v.SetBool(strings.EqualFold(n.Value, "true"))
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "want an integer, not %s", kindName(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, v.Type().Bits())
		if err != nil {
			d.errorf(n.Line, path, "want an integer, not %s", kindName(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "want a number, not %s", kindName(n))
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			d.errorf(n.Line, path, "want a number, not %s", kindName(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("rules: DecodeYAML cannot decode into " + v.Type().String())
	}
}

func (d *decoder) record(path string, line int) {
	if d.src != nil {
		d.src.lines[path] = line
	}
}

// fieldsOf maps yaml names to field indexes.
func fieldsOf(t reflect.Type) (map[string]int, []string) {
	m := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
		names = append(names, name)
	}
	return m, names
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "want a mapping of fields, not %s", kindName(n))
		return
	}
	fields, names := fieldsOf(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "a key must be a plain name")
			continue
		}
		p := join(path, k.Value)
		if l, ok := seen[k.Value]; ok {
			d.errorf(k.Line, p, "given twice (first on line %d)", l)
			continue
		}
		seen[k.Value] = k.Line
		fi, ok := fields[k.Value]
		if !ok {
			msg := "unknown field"
			if s := suggest(k.Value, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			d.errorf(k.Line, p, "%s", msg)
			continue
		}
		d.record(p, k.Line)
		d.decode(val, v.Field(fi), p)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "want a mapping, not %s", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic("rules: DecodeYAML needs string map keys")
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errorf(k.Line, path, "a key must be a plain name")
			continue
		}
		p := join(path, k.Value)
		if l, ok := seen[k.Value]; ok {
			d.errorf(k.Line, p, "given twice (first on line %d)", l)
			continue
		}
		seen[k.Value] = k.Line
		d.record(p, k.Line)
		key := reflect.ValueOf(k.Value).Convert(v.Type().Key())
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(key); old.IsValid() {
			elem.Set(old)
		}
		d.decode(val, elem, p)
		v.SetMapIndex(key, elem)
	}
}

// suggest returns the name closest to s (edit distance ≤ 2, or one that
// starts with s), or "".
func suggest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if len(s) >= 3 && strings.HasPrefix(n, s) {
			return n
		}
		if dd := editDistance(s, n); dd < bestD {
			best, bestD = n, dd
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
