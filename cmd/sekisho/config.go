package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/sekisho-dlp/sekisho/gateway/config"
	"github.com/sekisho-dlp/sekisho/rules"
)

// cmdConfig prints an example configuration or the default policy, or
// checks a configuration file: "ok", or every error on its own line (file,
// line, field, problem) and exit status 1; 2 when the file cannot be read.
func cmdConfig(args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: sekisho config example | sekisho config default | sekisho config check FILE")
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "example":
		if len(args) != 1 {
			return usage()
		}
		io.WriteString(stdout, config.Example())
		return 0
	case "default":
		if len(args) != 1 {
			return usage()
		}
		stdout.Write(rules.DefaultYAML())
		return 0
	case "check":
		if len(args) != 2 {
			return usage()
		}
		return configCheck(args[1], stdout, stderr)
	case "-h", "--help", "help":
		usage()
		return 0
	}
	fmt.Fprintf(stderr, "sekisho config: unknown subcommand %q\n", args[0])
	return usage()
}

func configCheck(name string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		fmt.Fprintf(stderr, "sekisho config check: %s: cannot read: %v\n", name, err)
		return 2
	}
	if _, err := config.Parse(data, name); err != nil {
		var es rules.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				fmt.Fprintln(stdout, e.Error())
			}
		} else {
			fmt.Fprintln(stdout, err.Error())
		}
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}
