package extract

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/internal/fakecmd"
	"github.com/thesisdb/thesisdb/internal/hostile"
	"github.com/thesisdb/thesisdb/schema"
)

const testSecret = "s3cret-Pw"

// The pdftotext engine never puts the password on a command line; for a
// file that needs it, it says why and what to use instead.
func TestPdftotextEngineKeepsThePasswordOffTheCommandLine(t *testing.T) {
	argv := fakecmd.Pdftotext(t)
	encrypted := bytes.Replace(hostile.Valid("hello"), []byte("trailer\n<<"), []byte("trailer\n<< /Encrypt 99 0 R"), 1)
	doc := &schema.Document{}
	err := loadPDF(context.Background(), encrypted, doc, &Options{PDFEngine: PDFEnginePdftotext, PDFPassword: testSecret})
	if !errors.Is(err, pdfdoc.ErrPdftotextPassword) || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "--pdf-engine builtin") {
		t.Errorf("err = %v, want ErrPdftotextPassword naming --pdf-engine builtin", err)
	}
	got, _ := os.ReadFile(argv)
	if len(got) == 0 {
		t.Fatal("pdftotext did not run")
	}
	if strings.Contains(string(got), testSecret) || strings.Contains(string(got), "-upw") {
		t.Errorf("the password reached pdftotext's command line:\n%s", got)
	}
}

// The auto engine does not hand a file that needs the password to
// pdftotext.
func TestAutoEngineDoesNotFallBackForPasswordFiles(t *testing.T) {
	f := filepath.Join("..", "..", "shared", "corpora", "pdf", "libreoffice-writer-password.pdf")
	data, err := os.ReadFile(f)
	if err != nil {
		t.Skip("no shared corpus")
	}
	argv := fakecmd.Pdftotext(t)
	err = loadPDF(context.Background(), data, &schema.Document{}, &Options{PDFEngine: PDFEngineAuto, PDFPassword: testSecret})
	if !errors.Is(err, pdfdoc.ErrEncrypted) {
		t.Errorf("err = %v, want an encrypted-PDF error", err)
	}
	if got, err := os.ReadFile(argv); err == nil {
		t.Errorf("pdftotext ran for a file that needs the password:\n%s", got)
	}
	// A file that falls back for another reason does reach pdftotext,
	// without the password.
	scanned := hostile.Valid("")
	_ = loadPDF(context.Background(), scanned, &schema.Document{}, &Options{PDFEngine: PDFEngineAuto, PDFPassword: testSecret})
	got, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal("pdftotext was not tried for a PDF with no text")
	}
	if strings.Contains(string(got), testSecret) {
		t.Errorf("the password reached pdftotext's command line:\n%s", got)
	}
}
