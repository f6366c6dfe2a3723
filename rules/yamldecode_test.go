package rules

import (
	"strings"
	"testing"
	"time"
)

type decodeTarget struct {
	Name    string            `yaml:"name"`
	Count   int               `yaml:"count"`
	Ratio   float64           `yaml:"ratio"`
	On      bool              `yaml:"on"`
	Size    ByteSize          `yaml:"size"`
	Wait    Duration          `yaml:"wait"`
	List    []string          `yaml:"list"`
	Map     map[string]int    `yaml:"map"`
	Ptr     *int              `yaml:"ptr"`
	Nested  struct{ X int }   `yaml:"nested"`
	Strings map[string]string `yaml:"strings"`
}

func decodeString(t *testing.T, doc string, out any) (Errors, *Source) {
	t.Helper()
	node, err := ParseYAML([]byte(doc), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := NewSource("t.yaml")
	return DecodeYAML(node, out, src, ""), src
}

func TestDecodeYAML(t *testing.T) {
	var v decodeTarget
	v.Map = map[string]int{"kept": 1}
	errs, src := decodeString(t, `
name: a
count: 0x10
ratio: 2.5
on: true
size: 64MiB
wait: 90s
list: [x, y]
map: {b: 2}
ptr: 7
nested: {x: 3}
anchor: &a 1
`, &v)
	if len(errs) != 1 || errs[0].Error() != "t.yaml:12: anchor: unknown field" {
		t.Fatalf("errs = %v", errs)
	}
	if v.Name != "a" || v.Count != 16 || v.Ratio != 2.5 || !v.On || v.Size != 64<<20 || v.Wait.D() != 90*time.Second ||
		len(v.List) != 2 || v.Map["kept"] != 1 || v.Map["b"] != 2 || v.Ptr == nil || *v.Ptr != 7 || v.Nested.X != 3 {
		t.Fatalf("decoded %+v", v)
	}
	if src.Line("map.b") != 9 || src.Line("list[1]") != 8 || src.Line("nested.x.deeper") != 11 {
		t.Errorf("lines: %d %d %d", src.Line("map.b"), src.Line("list[1]"), src.Line("nested.x.deeper"))
	}
}

func TestDecodeYAMLErrors(t *testing.T) {
	cases := map[string]string{
		"count: [1]":          "t.yaml:1: count: want an integer, not a list",
		"count: 1.5":          `t.yaml:1: count: want an integer, not "1.5"`,
		"on: 1":               `t.yaml:1: on: want true or false, not "1"`,
		"size: -1":            `t.yaml:1: size: "-1" is negative`,
		"size: 12 parsecs":    `t.yaml:1: size: "12 parsecs" is not a size (write it like 65536, 512KiB or 64MiB)`,
		"wait: soon":          `t.yaml:1: wait: "soon" is not a duration (write it like 30s, 5m or 720h)`,
		"wait: -5s":           `t.yaml:1: wait: "-5s" is negative`,
		"list: x":             `t.yaml:1: list: want a list, not "x"`,
		"map: [1]":            "t.yaml:1: map: want a mapping, not a list",
		"nested: 3":           `t.yaml:1: nested: want a mapping of fields, not "3"`,
		"name: {a: 1}":        "t.yaml:1: name: want a string, not a mapping",
		"ratio: x":            `t.yaml:1: ratio: want a number, not "x"`,
		"nmae: x":             "t.yaml:1: nmae: unknown field (did you mean name?)",
		"map: {a: 1, a: 2}":   "t.yaml:1: map.a: given twice (first on line 1)",
		"[1, 2]":              "t.yaml:1: want a mapping of fields, not a list",
		"? [a]\n: 1":          "t.yaml:1: a key must be a plain name",
		"strings: {k: *nope}": "", // a syntax error, checked below
	}
	for doc, want := range cases {
		if want == "" {
			if _, err := ParseYAML([]byte(doc), "t.yaml"); err == nil {
				t.Errorf("%q parsed", doc)
			}
			continue
		}
		var v decodeTarget
		errs, _ := decodeString(t, doc, &v)
		if errs.Error() != want {
			t.Errorf("%q: %q, want %q", doc, errs.Error(), want)
		}
	}
}

func TestDecodeYAMLAliasBomb(t *testing.T) {
	doc := `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
`
	var v struct {
		A, B, C, D, E, F any `yaml:"-"`
		Map              map[string][]string
	}
	node, err := ParseYAML([]byte(doc), "bomb.yaml")
	if err != nil {
		t.Skip("the YAML parser rejects the bomb itself:", err)
	}
	var m map[string][][][][][][]string
	errs := DecodeYAML(node, &m, NewSource("bomb.yaml"), "")
	if len(errs) == 0 || !strings.Contains(errs.Error(), "document too large") {
		t.Fatalf("errs = %v", errs)
	}
	_ = v
}

func TestByteSizeAndDuration(t *testing.T) {
	for in, want := range map[string]ByteSize{"65536": 65536, "512KiB": 512 << 10, "64MiB": 64 << 20, "1GiB": 1 << 30, "10MB": 10e6, "1.5KiB": 1536, "2 MiB": 2 << 20, "100B": 100} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "x", "1e400", "-1KiB"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) succeeded", in)
		}
	}
	if s := ByteSize(64 << 20).String(); s != "64MiB" {
		t.Errorf("String = %s", s)
	}
	if s := ByteSize(1000).String(); s != "1000" {
		t.Errorf("String = %s", s)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("detectors: {jp_phone: {threshold: 2}}\n"))
	f.Add([]byte("custom_detectors: [{id: a, pattern: 'x+', examples: {match: [x]}}]\n"))
	f.Add([]byte("rules: [{name: r, senders: ['group:g']}]\ngroups: {g: [a@b.example]}\n"))
	f.Add([]byte("a: &a [1]\nb: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		p, err := Parse(data, "fuzz.yaml")
		if err == nil && p == nil {
			t.Fatal("nil policy without an error")
		}
	})
}
