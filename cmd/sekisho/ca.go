package main

import (
	"fmt"
	"io"
)

func cmdCA(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sekisho ca: not implemented yet")
	return 2
}
