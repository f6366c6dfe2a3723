// Command sekisho is the data-loss-prevention gateway: one binary with
// subcommands for running the gateway and for the people who operate it.
//
//	sekisho serve       run the SMTP relay, the HTTP proxy and the admin listener
//	sekisho scan        inspect saved messages (.eml) under the policy
//	sekisho config      print an example configuration, or check one
//	sekisho events      read and verify the event log
//	sekisho quarantine  list, release or delete quarantined items
//	sekisho ca          make the CA for HTTPS interception
package main

import (
	"fmt"
	"io"
	"os"
)

type command struct {
	name  string
	usage string
	run   func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"serve", "run the SMTP relay, HTTP proxy and admin listener", cmdServe},
	{"scan", "inspect saved messages: scan [--json] [--config FILE] [--rcpt ADDR]... FILE...", cmdScan},
	{"config", "config example | config check FILE", cmdConfig},
	{"events", "events list|show|verify --data-dir DIR", cmdEvents},
	{"quarantine", "quarantine list|release|delete --data-dir DIR", cmdQuarantine},
	{"ca", "ca init --data-dir DIR: make the CA for HTTPS interception", cmdCA},
	{"version", "print the version", cmdVersion},
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sekisho: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sekisho COMMAND [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.usage)
	}
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "sekisho", version)
	return 0
}
