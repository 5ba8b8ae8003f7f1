package extract

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/internal/textscore"
)

const pdfCorpus = "../../shared/corpora/pdf"

// corpusFiles lists the corpus PDFs, skipping when the shared folder is absent.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(pdfCorpus, "*.pdf"))
	if len(files) == 0 {
		tb.Skip("shared PDF corpus not present")
	}
	sort.Strings(files)
	return files
}

// tokens splits text at whitespace after dropping format characters (the
// bidi marks pdftotext writes around right-to-left runs). A lone "|" is the
// separator of table cells, which the built-in engine writes as the HTML
// loader does and pdftotext does not: it is layout, not text, like a
// newline, and is not counted.
func tokens(s string) map[string]int {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
	m := map[string]int{}
	for _, t := range strings.Fields(s) {
		if t != "|" {
			m[t]++
		}
	}
	return m
}

// tokenF1 scores got against ref as bags of whitespace-separated tokens.
func tokenF1(got, ref string) float64 {
	g, r := tokens(got), tokens(ref)
	ng, nr, both := 0, 0, 0
	for k, v := range g {
		ng += v
		both += min(v, r[k])
	}
	for _, v := range r {
		nr += v
	}
	if ng == 0 || nr == 0 || both == 0 {
		return 0
	}
	p, rc := float64(both)/float64(ng), float64(both)/float64(nr)
	return 2 * p * rc / (p + rc)
}

// pdfFailures are the corpus files that must fail, with the error each
// must match and words its message must contain.
var pdfFailures = map[string]struct {
	is   []error
	says string
}{
	"corrupt_truncated.pdf":           {[]error{pdfdoc.ErrCorrupt}, "truncated or damaged: missing %%EOF (9 bytes)"},
	"libreoffice-writer-password.pdf": {[]error{pdfdoc.ErrEncrypted}, "RC4 128-bit): a user password is required"},
	"non_searchable.pdf":              {[]error{ErrEmpty, pdfdoc.ErrNoText}, "no text layer to extract; OCR is off"},
}

// pdfFloors are the token F1 floors against pdftotext reached by the
// built-in engine; right-to-left files are held lower because the
// reference itself is in visual order or breaks lam-alef (see the
// corpus README).
var pdfFloors = map[string]float64{
	"habibi.pdf":           0.30,
	"habibi-rotated.pdf":   0.30,
	"right_to_left_01.pdf": 0.75,
	"libreoffice-form.pdf": 0.94, // list-box options live in widget appearances
}

func TestPDFCorpus(t *testing.T) {
	files := corpusFiles(t)
	// Without OCR, so the scanned page keeps failing (TestOCRCorpusScan reads it).
	o := &Options{PDFEngine: PDFEngineBuiltin, OCR: OCROff}
	var sum float64
	var n int
	t.Logf("%-34s %6s %7s  %s", "file", "F1", "recall", "result")
	for _, f := range files {
		name := filepath.Base(f)
		doc, err := Load(context.Background(), f, o)
		if fail, ok := pdfFailures[name]; ok {
			t.Logf("%-34s %6s %7s  error: %v", name, "-", "-", err)
			for _, want := range fail.is {
				if !errors.Is(err, want) {
					t.Errorf("%s: err = %v, want %v", name, err, want)
				}
			}
			if err == nil || !strings.Contains(err.Error(), fail.says) {
				t.Errorf("%s: error %v does not say %q", name, err, fail.says)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ref, err := os.ReadFile(strings.TrimSuffix(f, ".pdf") + ".pdftotext.txt")
		if err != nil {
			t.Fatal(err)
		}
		f1 := tokenF1(doc.Text, string(ref))
		recall := "-"
		if truth, err := os.ReadFile(strings.TrimSuffix(f, ".pdf") + ".truth.txt"); err == nil {
			r := textscore.WordRecall(doc.Text, string(truth))
			recall = fmt.Sprintf("%.3f", r)
			if r < 0.95 && pdfFloors[name] == 0 {
				t.Errorf("%s: truth word recall %.3f < 0.95", name, r)
			}
		}
		t.Logf("%-34s %6.3f %7s  %d chars, title %q, published %q", name, f1, recall, len(doc.Text), doc.Title, doc.Published)
		floor, ok := pdfFloors[name]
		if !ok {
			floor = 0.95
			sum += f1
			n++
		}
		if f1 < floor {
			t.Errorf("%s: token F1 %.3f < floor %.2f", name, f1, floor)
		}
	}
	if n > 0 {
		t.Logf("mean token F1 over %d left-to-right text PDFs: %.3f", n, sum/float64(n))
	}
}

func TestPDFCopyProtectedOpens(t *testing.T) {
	corpusFiles(t)
	doc, err := Load(context.Background(), filepath.Join(pdfCorpus, "copy_protected.pdf"), &Options{PDFEngine: PDFEngineBuiltin})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.Text, "LayoutParser") || len(doc.Warnings) == 0 || !strings.Contains(doc.Warnings[0], "AES-128") {
		t.Errorf("text %.60q, warnings %q", doc.Text, doc.Warnings)
	}
}

func TestPDFPasswordOpensRC4(t *testing.T) {
	corpusFiles(t)
	path := filepath.Join(pdfCorpus, "libreoffice-writer-password.pdf")
	for _, engine := range []string{PDFEngineBuiltin, PDFEngineAuto} {
		doc, err := Load(context.Background(), path, &Options{PDFEngine: engine, PDFPassword: "openpassword"})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		ref, _ := os.ReadFile(filepath.Join(pdfCorpus, "libreoffice-writer-password.pdftotext.txt"))
		if f1 := tokenF1(doc.Text, string(ref)); f1 < 0.95 {
			t.Errorf("%s: token F1 with the password = %.3f", engine, f1)
		}
	}
	_, err := Load(context.Background(), path, &Options{PDFEngine: PDFEngineBuiltin, PDFPassword: "wrong"})
	if !errors.Is(err, pdfdoc.ErrEncrypted) || !strings.Contains(fmt.Sprint(err), "the password given does not open it") {
		t.Errorf("wrong password: %v", err)
	}
}

// The sample research note must keep one field per line for the rules
// extractor.
func TestPDFSampleKeepsLines(t *testing.T) {
	doc, err := Load(context.Background(), "../samples/research-note-semis.pdf", nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "pdf" || doc.Title != "Memory Chip Oversupply Returns in 2027" || doc.Author != "Priya Okonkwo" || doc.Published != "2026-03-09" {
		t.Errorf("metadata: %+v", doc)
	}
	lines := map[string]bool{}
	count := map[string]int{}
	for _, l := range strings.Split(doc.Text, "\n") {
		lines[l] = true
		if k, _, ok := strings.Cut(l, ": "); ok {
			count[k]++
		}
	}
	for _, want := range []string{
		"Bearish semiconductors active", "Memory Chip Oversupply Returns in 2027", "Conviction: 6/10",
		"By: Priya Okonkwo", "Updated March 9, 2026", "Equity Research", "Credit Research", "Bearish 0-5 Year",
		"Confidence: 6/10|Conviction: 5/10", "Confidence: 5/10|Conviction: 4/10",
		"indicator: DDR5 contract price Q1 2026", "value: $4.10 per gigabit, up 35% in a year",
		"source: Harbor Memory Tracker, March 2026",
		"implication: Prices sit near cycle highs, leaving little room for further gains",
	} {
		if !lines[want] {
			t.Errorf("line %q missing", want)
		}
	}
	for _, k := range []string{"indicator", "value", "source", "implication"} {
		if count[k] != 8 {
			t.Errorf("%d %q lines, want 8", count[k], k)
		}
	}
	for _, furniture := range []string{"Meridian Research Notes | For professional investors only", "Page 1 of 2"} {
		if lines[furniture] {
			t.Errorf("page furniture %q kept", furniture)
		}
	}
}

func TestPDFErrorsWrapSentinels(t *testing.T) {
	dir := t.TempDir()
	zipAsPDF := filepath.Join(dir, "report.pdf")
	os.WriteFile(zipAsPDF, []byte("PK\x03\x04\x14\x00\x00\x00rest of a docx"), 0o644)
	_, err := Load(context.Background(), zipAsPDF, nil)
	if !errors.Is(err, ErrBinary) || !errors.Is(err, pdfdoc.ErrNotPDF) || !strings.Contains(err.Error(), "ZIP") {
		t.Errorf("zip: %v", err)
	}
	_, err = Decode(context.Background(), "pdf", "x.pdf", []byte("%PDF-1.4\n"), &Options{PDFEngine: "bogus"})
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("bogus engine: %v", err)
	}
}

func TestPDFEngines(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not on PATH")
	}
	doc, err := Load(context.Background(), "../samples/research-note-semis.pdf", &Options{PDFEngine: PDFEnginePdftotext})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.Text, "indicator: Sector bond spread") || doc.Published != "2026-03-09" {
		t.Errorf("pdftotext engine: %.80q, published %q", doc.Text, doc.Published)
	}
}

func BenchmarkPDF(b *testing.B) {
	files := corpusFiles(b)
	var data [][]byte
	var total int64
	for _, f := range files {
		if _, fail := pdfFailures[filepath.Base(f)]; fail {
			continue
		}
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
		total += int64(len(d))
	}
	ctx := context.Background()
	b.Run("engine=builtin", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, d := range data {
				if _, err := pdfdoc.Extract(ctx, d, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("engine=pdftotext", func(b *testing.B) {
		if !pdfdoc.PdftotextAvailable() {
			b.Skip("pdftotext not on PATH")
		}
		b.SetBytes(total)
		for b.Loop() {
			for _, d := range data {
				if _, err := pdfdoc.Pdftotext(ctx, d, ""); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	if sample, err := os.ReadFile("../samples/research-note-semis.pdf"); err == nil {
		f.Add(sample)
		f.Add(sample[:len(sample)*2/3])
	}
	for _, name := range []string{"minimal-document.pdf", "tiny.pdf", "fake_memo.pdf", "corrupt_truncated.pdf"} {
		if d, err := os.ReadFile(filepath.Join(pdfCorpus, name)); err == nil {
			f.Add(d)
		}
	}
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := pdfdoc.Extract(context.Background(), data, &pdfdoc.Options{Timeout: 2e9})
		if err == nil && strings.TrimSpace(doc.Text()) == "" {
			t.Fatal("no error and no text")
		}
		if err != nil && doc != nil {
			t.Fatal("a document with an error")
		}
		var pe *PanicError
		if errors.As(err, &pe) {
			t.Fatal(pe)
		}
	})
}
