package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"

	"github.com/sekisho-dlp/sekisho/rules"
)

//go:embed example.yaml
var exampleYAML string

// Example returns a complete, commented example configuration (it parses:
// a test keeps it from drifting).
func Example() string { return exampleYAML }

// Load reads and fully validates the configuration file at path; "" gives
// the defaults with the embedded default policy. Nothing is applied: a
// reload swaps in the result only when err is nil. A file that cannot be
// read gives an error wrapping the *fs.PathError; a file with problems gives
// a rules.Errors listing every one.
func Load(path string) (*Config, error) {
	if path == "" {
		c := Defaults()
		if err := c.Validate(); err != nil {
			return nil, err
		}
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: cannot read the configuration: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes data (named name in errors) over the defaults, strictly, and
// validates it.
func Parse(data []byte, name string) (*Config, error) {
	node, err := rules.ParseYAML(data, name)
	if err != nil {
		return nil, err
	}
	c := Defaults()
	c.file = name
	c.src = rules.NewSource(name)
	// Validate even after decoding errors (the fields at fault keep their
	// defaults), so that one check reports every problem.
	errs := rules.DecodeYAML(node, c, c.src, "")
	if err := c.Validate(); err != nil {
		var es rules.Errors
		if !errors.As(err, &es) {
			return nil, err
		}
		errs = append(errs, es...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}
