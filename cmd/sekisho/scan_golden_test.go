package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sekisho-dlp/sekisho/gateway"
)

var update = flag.Bool("update", false, "rewrite testdata/mail/golden/*.json from the current output")

// want is the verdict and reasons each golden mail must get, independent of
// the golden JSON files (which -update rewrites): a regression in a verdict
// fails here even after an update.
var want = map[string]struct {
	verdict string
	reasons []string
}{
	"clean-utf8.eml":                   {"allow", nil},
	"signature-iso2022jp.eml":          {"allow", nil},
	"mynumber-body-iso2022jp.eml":      {"block", []string{"pii_in_body"}},
	"mynumber-subject.eml":             {"block", []string{"pii_in_body"}},
	"card-body-utf8.eml":               {"block", []string{"pii_in_body"}},
	"outlook-unlabelled-iso2022jp.eml": {"block", []string{"pii_in_body"}},
	"mislabelled-iso2022kr.eml":        {"block", []string{"pii_in_body"}},
	"mislabelled-sjis-latin1.eml":      {"block", []string{"pii_in_body"}},
	"alternative-4phones.eml":          {"allow", nil},
	"body-5phones.eml":                 {"block", []string{"pii_in_body"}},
	"sjis-csv-attachment.eml":          {"block", []string{"unencrypted_attachment"}},
	"zipcrypto.eml":                    {"allow", nil},
	"zip-aes.eml":                      {"allow", nil},
	"7z-aes.eml":                       {"allow", nil},
	"7z-aes-mhe.eml":                   {"allow", nil},
	"plain-zip.eml":                    {"block", []string{"unencrypted_attachment"}},
	"swaks-plain-zip.eml":              {"block", []string{"unencrypted_attachment"}},
	"nested-zip.eml":                   {"block", []string{"unencrypted_attachment"}},
	"renamed-zip.eml":                  {"block", []string{"unencrypted_attachment"}},
	"corrupt-zip.eml":                  {"block", []string{"uninspectable"}},
	"xlsx.eml":                         {"block", []string{"unencrypted_attachment"}},
	"docx-table.eml":                   {"block", []string{"unencrypted_attachment"}},
	"pdf-plain.eml":                    {"block", []string{"unencrypted_attachment"}},
	"pdf-userpw.eml":                   {"allow", nil},
	"pdf-owneronly.eml":                {"block", []string{"unencrypted_attachment"}},
	"smime-enveloped.eml":              {"allow", nil},
	"smime-signed-pii.eml":             {"block", []string{"pii_in_body"}},
	"pgp-inline.eml":                   {"allow", nil},
	"pgp-mime.eml":                     {"allow", nil},
	"fax-rfc3192.eml":                  {"block", []string{"fax"}},
	"fax-service.eml":                  {"block", []string{"fax"}},
	"fax-support-mailbox.eml":          {"allow", nil},
	"forwarded-rfc822.eml":             {"block", []string{"unencrypted_attachment"}},
	"broken-base64.eml":                {"block", []string{"uninspectable"}},
	"unknown-cte.eml":                  {"block", []string{"uninspectable"}},
}

// TestScanGolden runs `sekisho scan --json` over every testdata/mail/*.eml
// (made with the real tools by testdata/mail/make.sh) and compares the
// output with testdata/mail/golden/NAME.json.
func TestScanGolden(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "mail")
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden mails in %s: %v", dir, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("%s has no expected verdict in the want table", name)
			}
			var out, errb bytes.Buffer
			code := run([]string{"scan", "--json", f}, &out, &errb)
			if code == 2 {
				t.Fatalf("scan failed: %s", errb.String())
			}
			var got scanResult
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			reasons := append([]string(nil), got.Reasons...)
			sort.Strings(reasons)
			wantReasons := append([]string(nil), w.reasons...)
			sort.Strings(wantReasons)
			if got.Verdict != w.verdict || !reflect.DeepEqual(nilIfEmpty(reasons), nilIfEmpty(wantReasons)) {
				t.Errorf("verdict %s %v, want %s %v\nparts: %s", got.Verdict, reasons, w.verdict, wantReasons, partsSummary(got.Parts))
			}
			if wantCode := map[string]int{"allow": 0, "block": 1}[w.verdict]; code != wantCode {
				t.Errorf("exit status %d, want %d", code, wantCode)
			}
			// The output must never hold a detected value in clear.
			for _, v := range clearValues {
				if strings.Contains(out.String(), v) {
					t.Errorf("output holds the value %q in clear", v)
				}
			}
			// Golden comparison, with the file path made relative.
			got.File = name
			norm, _ := json.MarshalIndent(got, "", "  ")
			norm = append(norm, '\n')
			gold := filepath.Join(dir, "golden", strings.TrimSuffix(name, ".eml")+".json")
			if *update {
				os.MkdirAll(filepath.Dir(gold), 0o755)
				if err := os.WriteFile(gold, norm, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(gold)
			if err != nil {
				t.Fatalf("read golden (run go test ./cmd/sekisho -run TestScanGolden -update): %v", err)
			}
			if !bytes.Equal(exp, norm) {
				t.Errorf("output differs from %s:\n got: %s\nwant: %s", gold, norm, exp)
			}
		})
	}
}

// clearValues are values in the golden mails that must never appear unmasked.
var clearValues = []string{
	"484238472595", "4842 3847 2595", "819312727438", "8193-1272-7438", "4111 1111 1111 1111", "4111111111111111",
	"090-1234-5678", "267380750682", "983413672523",
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func partsSummary(parts []gateway.PartReport) string {
	b, _ := json.Marshal(parts)
	return string(b)
}
