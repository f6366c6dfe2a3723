package main

import (
	"fmt"
	"io"
)

func cmdConfig(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sekisho config: not implemented yet")
	return 2
}
