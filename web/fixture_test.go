package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// fixture is a small database served by a test server: a plain note, a
// note with non-ASCII text before its figures (rune offsets), a hostile
// note whose every string is markup, a PDF-like note with pages, and a
// failed extraction.
type fixture struct {
	t       *testing.T
	path    string
	db      *store.DB
	reader  *store.Reader
	srv     *Server
	run     int64 // the ingest run
	run2    int64 // a second run re-extracting the plain note
	plain   int64 // document ids
	unicode int64
	hostile int64
	paged   int64
	failed  int64
}

func ptr[T any](v T) *T { return &v }

// runeSpan is where quote stands in text, in runes.
func runeSpan(t *testing.T, text, quote string) *schema.Grounding {
	t.Helper()
	i := strings.Index(text, quote)
	if i < 0 {
		t.Fatalf("quote %q not in text", quote)
	}
	s := utf8.RuneCountInString(text[:i])
	return &schema.Grounding{Start: s, End: s + utf8.RuneCountInString(quote), Method: "exact", Grounded: true}
}

const (
	plainText = "Credit Outlook\nHigh-yield spreads stand at 284 bps.\nSmall caps trade at 18x forward earnings.\nDefaults stay low."
	// The figures stand after multi-byte characters: byte and rune
	// offsets differ.
	unicodeText = "Ünïcödé — «prix» € 日本語\nRevenue rose 12% in 2026.\nMargins reached 30% (est.)."
	hostileText = "Hostile <script>alert('text')</script> note.\n<img src=x onerror=alert('img')> spreads at 300 bps.\n" +
		"Click <a href=\"javascript:alert('link')\">here</a>: growth 5%."
)

// newFixture builds the database and a server on it with cfg's options.
func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "t.sqlite")}
	db, err := store.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.run, err = db.StartRun(ctx, store.RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: "v1", SchemaVersion: schema.Version})
	if err != nil {
		t.Fatal(err)
	}
	save := func(run int64, doc *schema.Document, out store.Outcome) int64 {
		t.Helper()
		if doc.SHA256 == "" {
			doc.SHA256 = fmt.Sprintf("%x", sha256.Sum256([]byte(doc.Source+doc.Text)))
		}
		doc.Bytes = int64(len(doc.Text))
		id, err := db.SaveDocument(ctx, run, doc, out)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	dp := func(text, ind, val, quote string) schema.DataPoint {
		return schema.DataPoint{Indicator: ind, Value: val, Source: ptr("Fidelity"), Implication: ptr("supports the view"),
			Perspective: ptr("credit"), Quote: quote, Ground: runeSpan(t, text, quote)}
	}
	f.plain = save(f.run, &schema.Document{Kind: "text", Source: "notes/credit.txt", Title: "Credit Outlook", Published: "2026-03-01",
		Tags: []string{"clients", "credit"}, Text: plainText}, store.Outcome{Extraction: &schema.Extraction{Theses: []schema.Thesis{{
		Title: "Spreads stay tight", Statement: "High yield stays well bid.", Stance: schema.Bullish,
		Confidence: ptr(0.7), Conviction: ptr(0.6), Horizon: ptr("12 months"),
		Views: []schema.View{{Perspective: "credit", Stance: schema.Bullish, Confidence: ptr(0.8), Summary: ptr("Carry wins.")},
			{Perspective: "equity", Stance: schema.Bearish}},
		DataPoints: []schema.DataPoint{
			dp(plainText, "HY OAS", "284 bps", "High-yield spreads stand at 284 bps."),
			dp(plainText, "Small cap P/E", "18x", "Small caps trade at 18x forward earnings."),
			// An ungrounded figure: its quote is not in the text.
			{Indicator: "Default rate", Value: "2.5%", Quote: "Defaults run at 2.5%.", Ground: &schema.Grounding{}},
		}}}}})
	f.unicode = save(f.run, &schema.Document{Kind: "markdown", Source: "notes/ünï.md", Title: "Umsatz €", Published: "2026-02-01",
		Text: unicodeText}, store.Outcome{Extraction: &schema.Extraction{Theses: []schema.Thesis{{
		Title: "Growth", Statement: "Revenue grows.", Stance: schema.Mixed,
		DataPoints: []schema.DataPoint{
			dp(unicodeText, "Revenue growth", "12%", "Revenue rose 12% in 2026."),
			dp(unicodeText, "Margin", "30%", "Margins reached 30% (est.)."),
		}}}}})
	evil := `<script>alert("title")</script>`
	f.hostile = save(f.run, &schema.Document{Kind: "html", Source: "javascript:alert('source')", Title: evil, Author: `<img src=x onerror=alert("author")>`,
		Published: "2026-01-15", CanonicalURL: "javascript:alert('canonical')", Tags: []string{"<b>tag</b>"},
		Warnings: []string{"<script>alert('warning')</script>"}, Text: hostileText},
		store.Outcome{Extraction: &schema.Extraction{Theses: []schema.Thesis{{
			Title: evil, Statement: `<img src=x onerror=alert("statement")>`, Stance: schema.Bearish, Horizon: ptr("<i>now</i>"),
			Views: []schema.View{{Perspective: "<script>alert('persp')</script>", Stance: schema.Bearish, Summary: ptr("<script>alert('summary')</script>")}},
			DataPoints: []schema.DataPoint{
				{Indicator: `<script>alert("indicator")</script>`, Value: "300 bps", Source: ptr("<img src=x onerror=alert('src')>"),
					Implication: ptr(`<a href="javascript:alert('impl')">x</a>`), Quote: "<img src=x onerror=alert('img')> spreads at 300 bps.",
					Ground: runeSpan(t, hostileText, "<img src=x onerror=alert('img')> spreads at 300 bps.")},
			}}}}})
	pagedText := "Page one text.\nEBITDA margin 22%.\nPage two starts here.\nNet debt 1.5x EBITDA."
	pageTwo := utf8.RuneCountInString("Page one text.\nEBITDA margin 22%.\n")
	f.paged = save(f.run, &schema.Document{Kind: "pdf", Source: "filings/annual.pdf", Title: "Annual report", Published: "2025-12-31",
		Text: pagedText, PageStarts: []int{0, pageTwo}}, store.Outcome{Extraction: &schema.Extraction{Theses: []schema.Thesis{{
		Title: "Deleveraging", Statement: "Debt falls.", Stance: schema.Neutral,
		DataPoints: []schema.DataPoint{
			dp(pagedText, "EBITDA margin", "22%", "EBITDA margin 22%."),
			dp(pagedText, "Net debt / EBITDA", "1.5x", "Net debt 1.5x EBITDA."),
		}}}}})
	f.failed = save(f.run, &schema.Document{Kind: "text", Source: "notes/broken.txt", Title: "Broken", Text: "Nothing to see."},
		store.Outcome{Err: fmt.Errorf("model answered garbage <script>alert('err')</script>")})
	if err := db.RecordLoadFailure(ctx, f.run, "notes/<script>bad</script>.pdf", "", "not a PDF"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRunStatus(ctx, f.run, store.RunDone); err != nil {
		t.Fatal(err)
	}
	// A second run extracting the plain note again, with another value.
	f.run2, err = db.StartRun(ctx, store.RunSpec{Kind: "reextract", Extractor: "rules", PromptVersion: "v2", SchemaVersion: schema.Version})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveExtraction(ctx, f.run2, f.plain, store.Outcome{Extraction: &schema.Extraction{Theses: []schema.Thesis{{
		Title: "Spreads stay tight", Statement: "High yield stays well bid.", Stance: schema.Neutral,
		Views:      []schema.View{{Perspective: "credit", Stance: schema.Neutral}},
		DataPoints: []schema.DataPoint{dp(plainText, "HY OAS", "284 bps", "High-yield spreads stand at 284 bps.")},
	}}}}); err != nil {
		t.Fatal(err)
	}
	f.reader, err = store.OpenReader(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.reader.Close() })
	cfg.Reader = f.reader
	if cfg.Review {
		cfg.DB = db
	}
	f.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// get requests path from the server as a browser on this machine would.
func (f *fixture) get(path string, hdr ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w
}
