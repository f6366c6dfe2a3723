package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedUpToDate regenerates the table in memory and compares it with
// the committed municipalities_gen.go, so the table cannot drift from the CSV.
func TestGeneratedUpToDate(t *testing.T) {
	csvData, err := os.ReadFile("../../data/jp-municipalities.csv")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(csvData)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../municipalities_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("municipalities_gen.go is stale: run `go generate ./detectors/`")
	}
}

func TestGenerateRejectsBadData(t *testing.T) {
	good, err := os.ReadFile("../../data/jp-municipalities.csv")
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"empty":       nil,
		"header":      bytes.Replace(good, []byte("code,type"), []byte("code,kind"), 1),
		"check digit": bytes.Replace(good, []byte("131016,"), []byte("131017,"), 1),
		"full name":   bytes.Replace(good, []byte(",東京都千代田区,"), []byte(",東京都千代田,"), 1),
		"no rows":     bytes.SplitN(good, []byte("\n"), 2)[0],
	} {
		if _, err := Generate(bad); err == nil {
			t.Errorf("%s: Generate accepted bad data", name)
		}
	}
}
