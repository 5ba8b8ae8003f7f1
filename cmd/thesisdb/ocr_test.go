package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

// TestOCRFlag: --ocr reaches the worker processes that parse documents:
// off refuses a scanned PDF with the reason, the default reads it and
// stores the warning "text from OCR", and a bad value is a flag error.
func TestOCRFlag(t *testing.T) {
	f := filepath.Join(t.TempDir(), "scan.pdf")
	if _, stderr, code := thesisdb(t, "text", "--ocr", "sometimes", f); code == 0 || !strings.Contains(stderr, `--ocr "sometimes"`) {
		t.Errorf("--ocr sometimes: exit %d, stderr %q; want a flag error", code, stderr)
	}
	if err := pdfdoc.OCRMissing(); err != nil {
		t.Skip(err)
	}
	const note = "Rates outlook: we expect the ten year Treasury yield to end the year at 3.9 percent, with the curve steepening by 40 basis points."
	src := &pdfgen.Doc{}
	p := src.NewPage()
	for i, l := range pdfgen.Wrap(pdfgen.Regular, 12, 480, note) {
		p.Text(pdfgen.Regular, 12, 72, 720-16*float64(i), l)
	}
	img, err := pdfgen.Render(context.Background(), src.Bytes(), 1, 200)
	if err != nil {
		t.Fatal(err)
	}
	scan := &pdfgen.Doc{}
	scan.NewPage().Image(img, 0, 0, 612, 792)
	if err := os.WriteFile(f, scan.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "t.sqlite")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "--extractor", "rules", "--ocr", "off", f); code != 1 || !strings.Contains(stderr, "OCR is off (--ocr off)") {
		t.Errorf("ingest --ocr off: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "--extractor", "rules", f); code != 0 {
		t.Fatalf("ingest: exit %d\n%s", code, stderr)
	}
	out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT warnings, text FROM documents")
	if code != 0 {
		t.Fatalf("query: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, "text from OCR (page 1)") || !strings.Contains(out, "3.9 percent") {
		t.Errorf("stored document:\n%s", out)
	}
}
