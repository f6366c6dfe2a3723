package smtprelay

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/rules"
)

func sampleNotice() Notice {
	return Notice{
		EventID:    "20261125T224010Z-3f9a1c2b",
		Arrival:    time.Date(2026, 11, 25, 22, 40, 10, 0, time.UTC),
		Sender:     "taro@city.example",
		Recipients: []string{"hanako@partner.example", "0312345678@fax.example"},
		Subject:    "名簿の送付",
		Reasons: []NoticeReason{
			{Code: rules.ReasonUnencryptedAttachment, Article: "第11条(7)", Place: "attachment[1] 名簿.xlsx",
				Counts: map[string]int{detectors.MyNumber: 120, detectors.Phone: 98},
				Masked: map[string][]string{detectors.MyNumber: {"********9018", "********1096"}}},
			{Code: rules.ReasonFax, Article: "第11条(6)", Recipients: []string{"0312345678@fax.example"}},
		},
	}
}

func TestRenderNoticeText(t *testing.T) {
	ja, en := RenderNoticeText(sampleNotice())
	for _, want := range []string{
		"このメールは送信されませんでした", "第11条(7) 添付ファイル 1「名簿.xlsx」: 暗号化されていない添付ファイルに個人情報が含まれています",
		"マイナンバー（個人番号）: 120 件（例・伏字: ********9018, ********1096）", "電話番号: 98 件",
		"第11条(6)", "対象の宛先: 0312345678@fax.example", "パスワード", "別の手段", "ファイル転送サービス",
		"20261125T224010Z-3f9a1c2b", "2026-11-26 07:40:10 JST", "件名:       名簿の送付",
	} {
		if !strings.Contains(ja, want) {
			t.Errorf("Japanese text lacks %q:\n%s", want, ja)
		}
	}
	for _, want := range []string{
		"This message was NOT delivered", "[contract art. 11(7)] attachment 1 \"名簿.xlsx\": an attachment that is not encrypted",
		"My Number (individual number): 120 (masked examples: ********9018, ********1096)", "phone number: 98",
		"[contract art. 11(6)]", "encrypt the file with a password", "another way", "approved file transfer service",
		"20261125T224010Z-3f9a1c2b",
	} {
		if !strings.Contains(en, want) {
			t.Errorf("English text lacks %q:\n%s", want, en)
		}
	}
	if strings.Contains(en, "このメール") || strings.Contains(ja, "This message") {
		t.Errorf("sections mixed")
	}
	n := sampleNotice()
	n.Subject = ""
	if ja, en := RenderNoticeText(n); strings.Contains(ja, "件名:") || strings.Contains(en, "Subject:") {
		t.Errorf("empty (masked) subject still shown")
	}
}

func TestWriteNoticeMasksSubjectInHeaders(t *testing.T) {
	hdr := []byte("From: taro@city.example\r\nSubject: My Number\r\n 123456789018\r\nTo: x@y.example\r\n")
	var buf bytes.Buffer
	if err := WriteNotice(&buf, sampleNotice(), NoticeOptions{ReportingMTA: "sekisho.test", Postmaster: "MAILER-DAEMON@sekisho.test",
		OriginalHeader: hdr, MaskSubject: true}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("123456789018")) {
		t.Errorf("subject value left in the notice")
	}
	if !bytes.Contains(buf.Bytes(), []byte("Subject: (masked by sekisho")) || !bytes.Contains(buf.Bytes(), []byte("To: x@y.example")) {
		t.Errorf("headers part wrong:\n%s", buf.Bytes())
	}
	if os.Getenv("SEKISHO_DUMP_NOTICE") != "" {
		os.WriteFile(os.Getenv("SEKISHO_DUMP_NOTICE"), buf.Bytes(), 0o644)
	}
}

func TestArticleASCII(t *testing.T) {
	for in, want := range map[string]string{"第11条(7)": "art. 11(7)", "第11条(10)イ": "art. 11(10)(a)", "第11条(6)": "art. 11(6)", "": ""} {
		if got := articleASCII(in); got != want {
			t.Errorf("articleASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseEnhanced(t *testing.T) {
	enh, msg := parseEnhanced("Policy violation\n5.7.1 line two", 550)
	if enh != [3]int{5, 7, 1} || msg != "Policy violation\nline two" {
		t.Errorf("got %v %q", enh, msg)
	}
	if e, _ := parseEnhanced("4.3.0 busy", 550); e[0] == 4 {
		t.Errorf("class mismatch accepted")
	}
}
