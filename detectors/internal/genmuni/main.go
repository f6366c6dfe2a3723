// Command genmuni turns data/jp-municipalities.csv into municipalities_gen.go,
// the place-name table of the jp_address detector.
//
// It is run by `go generate` in the detectors directory:
//
//	go run ./internal/genmuni [-in data/jp-municipalities.csv] [-out municipalities_gen.go]
//
// For every prefecture it emits the name; for every municipality every
// spelling an address may use: the bare name (千代田区, 洞爺湖町), the
// county-prefixed form of towns and villages (虻田郡洞爺湖町), designated
// cities with each ward (横浜市中区), and the variant spellings of the CSV
// (梼原町). Each spelling carries the canonical full name (prefecture + county
// + municipality + ward), the 6-digit local government code, the prefecture
// number and whether the spelling names more than one place (池田町, or a
// Tokyo special ward such as 北区 that is also a ward name elsewhere).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	in := flag.String("in", "data/jp-municipalities.csv", "municipality CSV to read")
	out := flag.String("out", "municipalities_gen.go", "Go file to write")
	flag.Parse()
	csvData, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genmuni: read the municipality CSV: %v\n", err)
		os.Exit(1)
	}
	src, err := Generate(csvData)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genmuni: %v (fix %s and run go generate again)\n", err, *in)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "genmuni: write %s: %v\n", *out, err)
		os.Exit(1)
	}
}
