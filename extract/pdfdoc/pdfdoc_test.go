package pdfdoc

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

func extractText(t *testing.T, d *pdfgen.Doc) *Document {
	t.Helper()
	doc, err := Extract(context.Background(), d.Bytes(), nil)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return doc
}

func TestKernedWordsAreSeparated(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	// No space characters: only TJ kerning and Td moves separate words.
	p.Kerned(pdfgen.Regular, 11, 72, 700, 300, "Memory", "prices", "fall")
	p.Raw("BT /F1 11 Tf 72 680 Td (Capex) Tj 40 0 Td (rises) Tj ET")
	p.Kerned(pdfgen.Regular, 11, 72, 660, 20, "Tra", "cking") // kerning, not a space
	got := extractText(t, d).Text()
	want := "Memory prices fall\nCapex rises\nTracking"
	if got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

func TestTwoColumnsReadInOrder(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	p.Text(pdfgen.Bold, 16, 72, 740, "A Two Column Title Across The Page")
	for i := 0; i < 6; i++ {
		y := 700 - float64(i)*14
		p.Text(pdfgen.Regular, 10, 72, y, fmt.Sprintf("left column line %d", i))
		p.Text(pdfgen.Regular, 10, 320, y, fmt.Sprintf("right column line %d", i))
	}
	lines := strings.Split(extractText(t, d).Text(), "\n")
	if len(lines) != 13 {
		t.Fatalf("got %d lines, want 13: %q", len(lines), lines)
	}
	for i := 0; i < 6; i++ {
		if lines[1+i] != fmt.Sprintf("left column line %d", i) || lines[7+i] != fmt.Sprintf("right column line %d", i) {
			t.Fatalf("reading order broken: %q", lines)
		}
	}
}

func TestHyphenationHeadersFootersAndInfo(t *testing.T) {
	d := &pdfgen.Doc{Info: map[string]string{"Title": "Chip Note", "Author": "A. Writer", "CreationDate": "D:20240229120000+01'00'"}}
	for i := 1; i <= 3; i++ {
		p := d.NewPage()
		p.Text(pdfgen.Regular, 8, 72, 760, "Acme Research | Confidential")
		p.Text(pdfgen.Regular, 11, 72, 700, fmt.Sprintf("Page body %d talks about semi-", i))
		p.Text(pdfgen.Regular, 11, 72, 686, "conductor demand.")
		p.Text(pdfgen.Regular, 8, 300, 40, fmt.Sprint(i))
	}
	doc := extractText(t, d)
	if doc.Title != "Chip Note" || doc.Author != "A. Writer" || doc.Created != "2024-02-29" {
		t.Errorf("metadata = %q %q %q", doc.Title, doc.Author, doc.Created)
	}
	for i, p := range doc.Pages {
		want := fmt.Sprintf("Page body %d talks about semiconductor\ndemand.", i+1)
		if p != want {
			t.Errorf("page %d = %q, want %q", i+1, p, want)
		}
	}
}

func TestErrors(t *testing.T) {
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte("<w:document/>"))
	zw.Close()
	noText := &pdfgen.Doc{}
	noText.NewPage().Raw("0 0 m 100 100 l S")
	good := (&pdfgen.Doc{}).Bytes()
	random := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(random)
	full := func() []byte {
		d := &pdfgen.Doc{}
		d.NewPage().Text(pdfgen.Regular, 12, 72, 700, "hello")
		return d.Bytes()
	}()
	for _, tc := range []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"zip", zipped.Bytes(), ErrNotPDF, "ZIP archive"},
		{"random", random, ErrNotPDF, "no %PDF- header"},
		{"empty", nil, ErrNotPDF, "0 bytes"},
		{"truncated", full[:len(full)/2], ErrCorrupt, "%%EOF"},
		{"header only", []byte("%PDF-1.4\n"), ErrCorrupt, ""},
		{"no pages", good, ErrCorrupt, "no pages"},
		{"no text", noText.Bytes(), ErrNoText, "no text layer to extract"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Extract(context.Background(), tc.data, nil)
			if !errors.Is(err, tc.want) || doc != nil {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	d := &pdfgen.Doc{}
	d.NewPage().Text(pdfgen.Regular, 12, 72, 700, "hello")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Extract(ctx, d.Bytes(), &Options{Timeout: time.Minute})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrTimeout wrapping context.Canceled", err)
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{
		"D:20230505120000+02'00'": "2023-05-05",
		"D:2021":                  "2021-01-01",
		"20191231":                "2019-12-31",
		"D:20230231":              "",
		"yesterday":               "",
	} {
		if got := ParseDate(in); got != want {
			t.Errorf("ParseDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGarbled(t *testing.T) {
	if Garbled("Memory prices fall in 2027.") {
		t.Error("prose called garbled")
	}
	if !Garbled("\x01\x02\x03 \ufffd\ufffd ## %% !!") || !Garbled("") {
		t.Error("garbage not called garbled")
	}
}
