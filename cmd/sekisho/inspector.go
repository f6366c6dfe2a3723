package main

import (
	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// loadInspector builds the inspection pipeline from the configuration file
// at path ("" = the embedded defaults).
func loadInspector(path string) (*gateway.Inspector, error) {
	pol := rules.Default()
	eng := detectors.NewEngine(detectors.Builtin()...)
	return &gateway.Inspector{
		Engine: eng,
		Policy: func() *rules.Policy { return pol },
		Limits: extract.DefaultLimits(),
	}, nil
}
