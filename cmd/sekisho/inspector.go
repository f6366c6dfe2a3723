package main

import (
	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/config"
	"github.com/sekisho-dlp/sekisho/rules"
)

// loadInspector builds the inspection pipeline from the configuration file
// at path ("" = the embedded defaults), so that `scan` judges exactly as
// `serve` would with the same file.
func loadInspector(path string) (*gateway.Inspector, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	pol := cfg.Policy()
	return &gateway.Inspector{
		Policy: func() *rules.Policy { return pol },
		Limits: cfg.ExtractLimits(),
	}, nil
}
