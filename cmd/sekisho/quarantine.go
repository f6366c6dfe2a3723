package main

import (
	"fmt"
	"io"
)

func cmdQuarantine(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sekisho quarantine: not implemented yet")
	return 2
}
