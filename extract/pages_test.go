package extract

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

// checkPaged asserts that PagedText gives what CleanText gives for the
// whole document, and that each page's cleaned text stands between its
// start and the next page's.
func checkPaged(t *testing.T, pages []string) (string, []int) {
	t.Helper()
	text, starts := PagedText(pages)
	want := CleanText((&pdfdoc.Document{Pages: pages}).Text())
	if text != want {
		t.Fatalf("PagedText(%q) text = %q, CleanText gives %q", pages, text, want)
	}
	if len(starts) != len(pages) {
		t.Fatalf("PagedText(%q): %d starts for %d pages", pages, len(starts), len(pages))
	}
	runes := []rune(text)
	for i := range pages {
		end := len(runes)
		if i+1 < len(pages) {
			end = starts[i+1]
		}
		if starts[i] < 0 || starts[i] > end {
			t.Fatalf("PagedText(%q): starts %v not ascending within the text's %d runes", pages, starts, len(runes))
		}
		got := strings.Trim(string(runes[starts[i]:end]), "\n")
		if own := strings.Trim(CleanText(pages[i]), "\n"); got != own {
			t.Fatalf("PagedText(%q): page %d spans %q, its own text cleans to %q (starts %v)", pages, i+1, got, own, starts)
		}
	}
	return text, starts
}

func TestPagedText(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pages  []string
		starts []int
	}{
		{"none", nil, []int{}},
		{"one", []string{"Revenue rose 12%."}, []int{0}},
		{"two", []string{"first page", "second"}, []int{0, 12}},
		{"blank pages between and around", []string{"  ", "one", "", " \n\t", "two", "\n"}, []int{0, 0, 5, 5, 5, 8}},
		{"a page of control characters cleans to nothing", []string{"one", "\x01\x02", "two"}, []int{0, 5, 5}},
		{"multibyte text counts runes", []string{"€ 5 — ümlaut", "日本 2.1%"}, []int{0, 14}},
		{"trailing spaces and CRLF", []string{"a  \r\nb\t", "\r\nc"}, []int{0, 5}},
		{"blank lines inside a page fold", []string{"a\n\n\n\nb", "c\n\n\n"}, []int{0, 6}},
		{"BOM and form feed", []string{"\uFEFFx\fy", "z"}, []int{0, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, starts := checkPaged(t, tc.pages)
			if !reflect.DeepEqual(starts, tc.starts) && !(len(starts) == 0 && len(tc.starts) == 0) {
				t.Errorf("starts = %v, want %v", starts, tc.starts)
			}
		})
	}
}

func FuzzPagedText(f *testing.F) {
	for _, s := range []string{"", "a|b", "|\x01|a\r|\nb", "x \n\n\n|  | y\t|\r", "€|\uFEFF|\f\f|z", "a-\nb|c\n\n\n\nd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, _ := cleanMarked(s, nil); got != CleanText(s) {
			t.Fatalf("cleanMarked(%q) = %q, CleanText gives %q", s, got, CleanText(s))
		}
		checkPaged(t, strings.Split(s, "|"))
	})
}

// writePDF writes a generated PDF to a temporary file.
func writePDF(t *testing.T, d *pdfgen.Doc) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "paged.pdf")
	if err := os.WriteFile(path, d.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pagedPDF has four pages: prose, an empty page, a word hyphenated across
// two lines, and a last line.
func pagedPDF() *pdfgen.Doc {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	p.Text(pdfgen.Regular, 11, 72, 700, "Chip demand rose 14% in the quarter.")
	p.Text(pdfgen.Regular, 11, 72, 686, "Inventories fell to 95 days.")
	d.NewPage()
	p = d.NewPage()
	p.Text(pdfgen.Regular, 11, 72, 700, "Gross margins of the semicon-")
	p.Text(pdfgen.Regular, 11, 72, 686, "ductor makers reached 61.5%.")
	p = d.NewPage()
	p.Text(pdfgen.Regular, 11, 72, 700, "Capex guidance stays at $20 billion.")
	return d
}

func TestPDFPageStarts(t *testing.T) {
	path := writePDF(t, pagedPDF())
	engines := []string{PDFEngineBuiltin}
	if pdfdoc.PdftotextAvailable() {
		engines = append(engines, PDFEnginePdftotext)
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			doc, err := Load(context.Background(), path, &Options{PDFEngine: engine})
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.PageStarts) != 4 {
				t.Fatalf("PageStarts = %v for 4 pages; text %q", doc.PageStarts, doc.Text)
			}
			for _, c := range []struct {
				phrase string
				page   int
			}{
				{"Chip demand rose 14%", 1},
				{"Inventories fell to 95 days.", 1},
				{"semiconductor", 3}, // joined across the line break
				{"61.5%", 3},
				{"Capex guidance", 4},
			} {
				i := strings.Index(doc.Text, c.phrase)
				if i < 0 {
					t.Fatalf("%q not in %q", c.phrase, doc.Text)
				}
				char := len([]rune(doc.Text[:i]))
				if got := doc.PageAt(char); got != c.page {
					t.Errorf("%q at char %d: page %d, want %d (starts %v, text %q)", c.phrase, char, got, c.page, doc.PageStarts, doc.Text)
				}
			}
			if doc.PageStarts[1] != doc.PageStarts[2] {
				t.Errorf("empty page 2 starts at %d, not where page 3 does (%d)", doc.PageStarts[1], doc.PageStarts[2])
			}
		})
	}
}

func TestNonPDFHasNoPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(path, []byte("Spreads tightened 20 bp.\f\nNext page?"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := Load(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc.PageStarts != nil {
		t.Errorf("a text file has PageStarts %v", doc.PageStarts)
	}
}

// BenchmarkPagedText compares PagedText with CleanText of the joined
// pages, on a long generated document of 200 pages.
func BenchmarkPagedText(b *testing.B) {
	var pages []string
	for i := range 200 {
		var sb strings.Builder
		for j := range 60 {
			fmt.Fprintf(&sb, "Line %d of page %d: revenue rose 12%% to €4,1%02d million  \n", j, i, j)
		}
		pages = append(pages, sb.String())
	}
	joined := (&pdfdoc.Document{Pages: pages}).Text()
	b.Run("fn=CleanText", func(b *testing.B) {
		b.SetBytes(int64(len(joined)))
		for b.Loop() {
			CleanText((&pdfdoc.Document{Pages: pages}).Text())
		}
	})
	b.Run("fn=PagedText", func(b *testing.B) {
		b.SetBytes(int64(len(joined)))
		for b.Loop() {
			PagedText(pages)
		}
	})
}
