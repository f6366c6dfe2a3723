package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/sekisho-dlp/sekisho/gateway/httpproxy"
)

// cmdCA makes the CA for HTTPS interception: `sekisho ca init --data-dir DIR`.
func cmdCA(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "init" {
		fmt.Fprintln(stderr, "usage: sekisho ca init [--data-dir DIR] [--org NAME] [--force]")
		return 2
	}
	fs := newFlagSet("ca init", stderr)
	dataDir := fs.String("data-dir", "./sekisho-data", "data `DIR`; the CA goes to DIR/ca/")
	org := fs.String("org", "sekisho", "organisation `NAME` shown in the CA certificate")
	force := fs.Bool("force", false, "replace an existing CA (every client must then trust the new one)")
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return 2
	}
	path, err := httpproxy.InitCA(filepath.Join(*dataDir, "ca"), *org, *force)
	if err != nil {
		fmt.Fprintf(stderr, "sekisho ca init: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote the interception CA certificate to %s\n", path)
	fmt.Fprintln(stdout, "distribute it to browsers and tools as a trusted root, then enable http.intercept in the config")
	return 0
}
