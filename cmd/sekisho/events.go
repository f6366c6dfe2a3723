package main

import (
	"fmt"
	"io"
)

func cmdEvents(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sekisho events: not implemented yet")
	return 2
}
