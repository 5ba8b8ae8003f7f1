package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

func TestTextPages(t *testing.T) {
	d := &pdfgen.Doc{}
	d.NewPage().Text(pdfgen.Regular, 11, 72, 700, "Alpha: margins rose to 61%.")
	d.NewPage()
	p := d.NewPage()
	p.Text(pdfgen.Regular, 11, 72, 700, "Gamma: capex of $20 billion.")
	p.Text(pdfgen.Regular, 11, 72, 686, "Délta: inventories at 95 days.")
	pdf := filepath.Join(t.TempDir(), "paged.pdf")
	if err := os.WriteFile(pdf, d.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := thesisdb(t, "text", "--pages", "--pdf-engine", "builtin", pdf)
	want := "--- page 1 ---\nAlpha: margins rose to 61%.\n--- page 2 ---\n--- page 3 ---\nGamma: capex of $20 billion.\nDélta: inventories at 95 days.\n"
	if code != 0 || out != want {
		t.Errorf("text --pages: exit %d, output\n%s\nwant\n%s\nstderr: %s", code, out, want, stderr)
	}

	out, stderr, code = thesisdb(t, "text", "--pages", "--json", "--pdf-engine", "builtin", pdf)
	if code != 0 {
		t.Fatalf("text --pages --json: exit %d: %s", code, stderr)
	}
	var got struct {
		Text  string
		Pages []pageSpan
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Pages) != 3 {
		t.Fatalf("pages = %+v, want 3", got.Pages)
	}
	runes := []rune(got.Text)
	for i, page := range []string{"Alpha: margins rose to 61%.", "", "Gamma: capex of $20 billion.\nDélta: inventories at 95 days."} {
		s := got.Pages[i]
		if s.Page != i+1 || s.CharStart > s.CharEnd || s.CharEnd > len(runes) {
			t.Fatalf("page %d = %+v (text of %d characters)", i+1, s, len(runes))
		}
		if text := strings.Trim(string(runes[s.CharStart:s.CharEnd]), "\n"); text != page {
			t.Errorf("page %d's characters %d..%d hold %q, want %q", i+1, s.CharStart, s.CharEnd, text, page)
		}
	}

	// A document that is not a PDF has no pages: its text as it is, and
	// an empty "pages".
	txt := filepath.Join(t.TempDir(), "note.txt")
	os.WriteFile(txt, []byte("Spreads at 284 bps.\n"), 0o644)
	out, stderr, code = thesisdb(t, "text", "--pages", txt)
	if code != 0 || out != "Spreads at 284 bps.\n" || !strings.Contains(stderr, "no pages") {
		t.Errorf("text --pages on a text file: exit %d, %q, stderr %q", code, out, stderr)
	}
	out, _, _ = thesisdb(t, "text", "--pages", "--json", txt)
	if !strings.Contains(out, `"pages": []`) {
		t.Errorf("text --pages --json on a text file: %s", out)
	}
}

// squash normalises text for comparing two PDF readers' output: NFKC
// (ligatures), no whitespace, no table cell separators, and no hyphen
// left at a line end.
func squash(s string) string {
	s = norm.NFKC.String(s)
	s = strings.ReplaceAll(s, "-\n", "")
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '|' {
			return -1
		}
		return r
	}, s)
}

// pdftotextPage returns page p of a PDF as pdftotext prints it, in its
// default and -raw modes.
func pdftotextPage(t *testing.T, pdf string, p int) []string {
	t.Helper()
	var outs []string
	for _, mode := range [][]string{nil, {"-raw"}} {
		args := append(append([]string{}, mode...), "-q", "-enc", "UTF-8", "-f", fmt.Sprint(p), "-l", fmt.Sprint(p), pdf, "-")
		out, err := exec.CommandContext(context.Background(), "pdftotext", args...).Output()
		if err != nil {
			t.Fatalf("pdftotext %v: %v", args, err)
		}
		outs = append(outs, squash(string(out)))
	}
	return outs
}

// TestDataPointPagesMatchPdftotext: for PDFs ingested with the rules
// extractor, every data point whose quote was found has a page, and its
// quote is on that page as poppler's pdftotext reads it.
func TestDataPointPagesMatchPdftotext(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	pdfs := []string{"../../samples/research-note-semis.pdf"}
	// Filings, when the corpus is beside the project: a short 8-K, a
	// 10-Q and an earnings release, both of many pages of tables.
	for _, name := range []string{"PEPSICO_2023_8K_dated-2023-05-05.pdf", "AMCOR_2023Q2_10Q.pdf", "JOHNSON_JOHNSON_2023Q2_EARNINGS.pdf"} {
		path := filepath.Join("../../../shared/corpora/filings", name)
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s not beside the project: not checked", name)
			continue
		}
		pdfs = append(pdfs, path)
	}
	for _, pdf := range pdfs {
		t.Run(filepath.Base(pdf), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "t.sqlite")
			if _, stderr, code := thesisdb(t, "--db", db, "ingest", "--extractor", "rules", pdf); code != 0 {
				t.Fatalf("ingest exited %d:\n%s", code, stderr)
			}
			out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "json", "--max-rows", "100000",
				"SELECT data_point_id AS id, quote, char_start, page FROM current_data_points ORDER BY data_point_id")
			if code != 0 {
				t.Fatalf("query exited %d: %s", code, stderr)
			}
			var rows []struct {
				ID        int64
				Quote     string
				CharStart *int `json:"char_start"`
				Page      *int
			}
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("%v in %s", err, out)
			}
			pages := map[int][]string{}
			checked, wordwise := 0, 0
			for _, r := range rows {
				if r.CharStart == nil {
					if r.Page != nil {
						t.Errorf("data point %d: page %d without char_start", r.ID, *r.Page)
					}
					continue
				}
				if r.Page == nil {
					t.Errorf("data point %d at char %d has no page", r.ID, *r.CharStart)
					continue
				}
				if pages[*r.Page] == nil {
					pages[*r.Page] = pdftotextPage(t, pdf, *r.Page)
				}
				checked++
				page := pages[*r.Page]
				if q := squash(r.Quote); strings.Contains(page[0], q) || strings.Contains(page[1], q) {
					continue
				}
				// pdftotext lays some table rows out otherwise (cells in
				// another order, footnote marks glued to words): then
				// every word of the quote must be on the page.
				wordwise++
				for _, w := range strings.FieldsFunc(r.Quote, func(r rune) bool { return unicode.IsSpace(r) || r == '|' }) {
					if w = squash(strings.TrimRight(w, "-")); w != "" && !strings.Contains(page[0], w) && !strings.Contains(page[1], w) {
						t.Errorf("data point %d: %q of quote %q is not on page %d as pdftotext reads it", r.ID, w, r.Quote, *r.Page)
						break
					}
				}
			}
			if checked == 0 {
				t.Fatalf("no data point with a page to check among %d", len(rows))
			}
			t.Logf("%d data points on %d pages checked, %d of them word by word", checked, len(pages), wordwise)
		})
	}
}
