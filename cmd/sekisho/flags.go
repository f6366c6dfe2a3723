package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseInterspersed parses fs from args, allowing flags after positional
// arguments (`sekisho scan a.eml --json`). "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseSubcommand parses fs from args for a command made of subcommands
// (`sekisho events list …`). ok is false when there is nothing to run:
// code is then what the command exits with — 0 after -h, 2 after a bad
// flag or without a subcommand (the usage is printed).
func parseSubcommand(fs *flag.FlagSet, args []string, usage string, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, false
		}
		return nil, 2, false
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, usage)
		return nil, 2, false
	}
	return pos, 0, true
}

// newFlagSet returns a flag set that reports errors to w and does not exit.
func newFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sekisho "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	return fs
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
