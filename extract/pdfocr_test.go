package extract

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/internal/pdfgen"
	"github.com/thesisdb/thesisdb/internal/textscore"
)

// ocrNote is the known text of the generated scanned page.
const ocrNote = `Emerging Markets Debt Monthly. We upgrade local currency sovereign bonds
to overweight for the next six to twelve months. Real yields in Brazil stand at
6.8 percent and inflation has fallen to 4.1 percent, so the central bank can cut
rates by 150 basis points this year. The dollar index has weakened 5 percent
since October, which supports inflows into the asset class.`

// scannedNote is a PDF whose first page has a text layer (when first is
// not "") and whose last page is ocrNote scanned at 200 DPI: an image
// and no text.
func scannedNote(t *testing.T, first string) *pdfgen.Doc {
	t.Helper()
	if err := pdfdoc.OCRMissing(); err != nil {
		t.Skip(err)
	}
	img, err := pdfgen.ScanText(context.Background(), ocrNote, 200)
	if err != nil {
		t.Fatal(err)
	}
	d := &pdfgen.Doc{}
	if first != "" {
		d.TextPage(first)
	}
	d.NewPage().Image(img, 0, 0, 612, 792)
	return d
}

// TestLoadScannedPDF: the default (--ocr auto) reads a scanned page's
// own words back, says so in the warnings, and the OCRed text is a page
// of its own for page numbers.
func TestLoadScannedPDF(t *testing.T) {
	first := "Page one is typed: we stay neutral on duration."
	path := writePDF(t, scannedNote(t, first))
	doc, err := Load(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := textscore.WordRecall(doc.Text, first+"\n"+ocrNote); r < 0.9 {
		t.Errorf("word recall %.3f < 0.9; text:\n%s", r, doc.Text)
	} else {
		t.Logf("word recall %.3f", r)
	}
	if !strings.Contains(strings.Join(doc.Warnings, "; "), "text from OCR (page 2)") {
		t.Errorf("warnings %q do not say text from OCR (page 2)", doc.Warnings)
	}
	if len(doc.PageStarts) != 2 {
		t.Fatalf("page starts %v, want 2 pages", doc.PageStarts)
	}
	at := strings.Index(doc.Text, "Real yields")
	if at < 0 {
		t.Fatalf("OCR text lacks %q:\n%s", "Real yields", doc.Text)
	}
	if p := doc.PageAt(len([]rune(doc.Text[:at]))); p != 2 {
		t.Errorf("OCRed sentence is on page %d, want 2", p)
	}
	if p := doc.PageAt(0); p != 1 {
		t.Errorf("typed sentence is on page %d, want 1", p)
	}
}

// TestLoadScannedPDFThroughRequest: --ocr travels with a request, so a
// worker process honours it.
func TestLoadScannedPDFThroughRequest(t *testing.T) {
	data := scannedNote(t, "")
	for _, mode := range []string{OCRAuto, OCROff} {
		raw, err := Read(context.Background(), writePDF(t, data), &Options{OCR: mode})
		if err != nil {
			t.Fatal(err)
		}
		q := raw.Request()
		if q.OCR != mode {
			t.Fatalf("request OCR = %q, want %q", q.OCR, mode)
		}
		doc, err := q.Decode(context.Background())
		switch mode {
		case OCRAuto:
			if err != nil || textscore.WordRecall(doc.Text, ocrNote) < 0.9 {
				t.Errorf("auto: err %v", err)
			}
		case OCROff:
			if !errors.Is(err, ErrEmpty) || !errors.Is(err, pdfdoc.ErrNoText) || !strings.Contains(err.Error(), "OCR is off (--ocr off)") {
				t.Errorf("off: err = %v, want ErrNoText saying OCR is off", err)
			}
		}
	}
}

// TestLoadScannedPDFNoEngine: without the programs, an image-only PDF
// fails with the packages to install.
func TestLoadScannedPDFNoEngine(t *testing.T) {
	d := &pdfgen.Doc{}
	d.NewPage().Image(image.NewGray(image.Rect(0, 0, 50, 50)), 0, 0, 612, 792)
	path := writePDF(t, d)
	t.Setenv("PATH", t.TempDir())
	for _, mode := range []string{"", OCRAuto, OCRForce} {
		_, err := Load(context.Background(), path, &Options{OCR: mode})
		if !errors.Is(err, pdfdoc.ErrNoOCR) {
			t.Errorf("--ocr %q: err = %v, want ErrNoOCR", mode, err)
			continue
		}
		if !strings.Contains(err.Error(), "install the Debian packages poppler-utils tesseract-ocr tesseract-ocr-eng") {
			t.Errorf("--ocr %q: error %q does not name the packages", mode, err)
		}
		if mode != OCRForce && !errors.Is(err, pdfdoc.ErrNoText) {
			t.Errorf("--ocr %q: err = %v, want ErrNoText too", mode, err)
		}
	}
}

// TestLoadForceOCR reads a text PDF through OCR.
func TestLoadForceOCR(t *testing.T) {
	if err := pdfdoc.OCRMissing(); err != nil {
		t.Skip(err)
	}
	d := &pdfgen.Doc{}
	d.TextPage(ocrNote)
	doc, err := Load(context.Background(), writePDF(t, d), &Options{OCR: OCRForce, PDFEngine: PDFEngineBuiltin})
	if err != nil {
		t.Fatal(err)
	}
	if r := textscore.WordRecall(doc.Text, ocrNote); r < 0.9 {
		t.Errorf("word recall %.3f < 0.9", r)
	}
	if got := strings.Join(doc.Warnings, "; "); !strings.Contains(got, "text from OCR (--ocr force: page 1)") {
		t.Errorf("warnings %q", got)
	}
}

func TestLoadBadOCRMode(t *testing.T) {
	d := &pdfgen.Doc{}
	d.TextPage(ocrNote)
	_, err := Load(context.Background(), writePDF(t, d), &Options{OCR: "sometimes"})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `OCR mode "sometimes"`) {
		t.Errorf("err = %v", err)
	}
}

// TestOCRCorpusScan reads the shared corpus' scanned page, a real scan
// (2550×3300 RGB, no fonts).
func TestOCRCorpusScan(t *testing.T) {
	path := filepath.Join(pdfCorpus, "non_searchable.pdf")
	if _, err := os.Stat(path); err != nil {
		t.Skip("shared PDF corpus not present")
	}
	if err := pdfdoc.OCRMissing(); err != nil {
		t.Skip(err)
	}
	doc, err := Load(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = "This is an example of a non-text-searchable PDF"
	if !strings.Contains(strings.Join(strings.Fields(doc.Text), " "), want) {
		t.Errorf("text lacks %q:\n%s", want, doc.Text)
	}
	if !strings.Contains(strings.Join(doc.Warnings, "; "), "text from OCR (page 1)") {
		t.Errorf("warnings %q", doc.Warnings)
	}
}

// TestLoadPartlyScannedWithoutTesseract: a PDF with a typed page and a
// scanned one keeps the typed text when tesseract is missing, and its
// warnings say which page was not OCRed and what to install.
func TestLoadPartlyScannedWithoutTesseract(t *testing.T) {
	path := writePDF(t, scannedNote(t, "Typed page: we stay neutral on duration."))
	dir := t.TempDir()
	for _, tool := range []string{"pdfinfo", "pdfimages", "pdftoppm"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skip(err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Skip(err)
		}
	}
	t.Setenv("PATH", dir)
	doc, err := Load(context.Background(), path, &Options{PDFEngine: PDFEngineBuiltin})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Text != "Typed page: we stay neutral on duration." {
		t.Errorf("text %q", doc.Text)
	}
	w := strings.Join(doc.Warnings, "; ")
	if !strings.Contains(w, "pages without text not OCRed: page 2 scanned: OCR engine not installed: install the Debian packages") {
		t.Errorf("warnings %q", w)
	}
}

// TestLoadScannedPDFOCRFails: when tesseract fails, the document fails
// saying it has no text layer and what OCR said.
func TestLoadScannedPDFOCRFails(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	path := writePDF(t, scannedNote(t, ""))
	dir := t.TempDir()
	script := "#!/bin/sh\ncat >/dev/null\necho 'Error: cannot read the image' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "tesseract"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	_, err := Load(context.Background(), path, nil)
	if !errors.Is(err, ErrEmpty) || !errors.Is(err, pdfdoc.ErrNoText) {
		t.Fatalf("err = %v, want ErrEmpty and ErrNoText", err)
	}
	if want := "no text layer to extract; OCR of page 1 of 1: tesseract: exit status 1: Error: cannot read the image"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
