package main

import (
	"fmt"
	"io"
)

func cmdScan(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sekisho scan: not implemented yet")
	return 2
}
