package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm"
	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/internal/pdfgen"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// testSite is a research blog and a research portal on one local server:
//
//   - /robots.txt disallows /private/ and sets Crawl-delay: 0.05;
//   - /feed.xml is an RSS feed of 20 items: 16 posts, one that answers
//     404, a PDF report, post 3 again under utm_ parameters and a
//     disallowed /private/ page;
//   - /posts/N answer with an ETag and 304 to a request that sends it;
//     post 7 answers 429 with Retry-After: 1 the first time;
//   - /sitemap_index.xml names a gzipped child sitemap of two research
//     notes laid out so that only the site's rules extract them right.
type testSite struct {
	rec *recorder
	srv *httptest.Server

	mu       sync.Mutex
	version  map[string]int // post number -> content version
	throttle bool           // post 7 still to answer 429 once
	extra    []string       // more feed item paths
}

const crawlDelay = 50 * time.Millisecond

func newSite(t *testing.T) *testSite {
	s := &testSite{rec: &recorder{}, version: map[string]int{}, throttle: true}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "User-agent: *\nDisallow: /private/\nCrawl-delay: %g\n", crawlDelay.Seconds())
	})
	mux.HandleFunc("/feed.xml", s.feed)
	mux.HandleFunc("/posts/", s.post)
	mux.HandleFunc("/p", func(w http.ResponseWriter, r *http.Request) {
		// Post 9 under a second address, declaring its canonical one.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(postHTML(s.srv.URL, "9", 1, "<!-- served at /p -->")))
	})
	mux.HandleFunc("/reports/q3.pdf", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"q3"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"q3"`)
		w.Header().Set("Content-Type", "application/pdf")
		w.Write(reportPDF())
	})
	mux.HandleFunc("/private/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html><body><p>Members only.</p></body></html>"))
	})
	mux.HandleFunc("/sitemap_index.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>%s/sitemaps/research.xml.gz</loc><lastmod>2026-04-02</lastmod></sitemap>
</sitemapindex>`, s.srv.URL)
	})
	mux.HandleFunc("/sitemaps/research.xml.gz", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		fmt.Fprintf(zw, `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>%[1]s/research/utilities</loc><lastmod>2026-04-02</lastmod></url>
  <url><loc>%[1]s/research/banks</loc><lastmod>2026-04-01</lastmod></url>
</urlset>`, s.srv.URL)
		zw.Close()
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(buf.Bytes())
	})
	mux.HandleFunc("/research/", func(w http.ResponseWriter, r *http.Request) {
		slug := strings.TrimPrefix(r.URL.Path, "/research/")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(researchHTML(slug)))
	})
	s.srv = httptest.NewServer(s.rec.wrap(mux))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *testSite) feed(w http.ResponseWriter, r *http.Request) {
	var items []string
	for n := 1; n <= 16; n++ {
		items = append(items, fmt.Sprintf("/posts/%d", n))
	}
	items = append(items, "/posts/missing", "/reports/q3.pdf", "/posts/3?utm_source=newsletter&utm_medium=email#top", "/private/members-note")
	s.mu.Lock()
	items = append(items, s.extra...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Harbor Street Notes</title><link>%s/</link>`, s.srv.URL)
	for i, p := range items {
		fmt.Fprintf(w, "<item><title>Item %d</title><link>%s%s</link><guid>%d</guid></item>\n", i+1, s.srv.URL, strings.ReplaceAll(p, "&", "&amp;"), i+1)
	}
	fmt.Fprint(w, "</channel></rss>")
}

func (s *testSite) post(w http.ResponseWriter, r *http.Request) {
	n := strings.TrimPrefix(r.URL.Path, "/posts/")
	if n == "missing" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	v := max(s.version[n], 1)
	throttled := n == "7" && s.throttle
	if throttled {
		s.throttle = false
	}
	s.mu.Unlock()
	if throttled {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	etag := fmt.Sprintf(`"post-%s-v%d"`, n, v)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(postHTML(s.srv.URL, n, v, "")))
}

func postHTML(base, n string, version int, extra string) string {
	body := fmt.Sprintf("<p>Post %s argues that high-yield spreads of %d bps leave little room for error as refinancing needs rise into 2027.</p>\n", n, 280+len(n))
	for i := 0; i < 4; i++ {
		body += fmt.Sprintf("<p>Paragraph %d of post %s: issuers with floating-rate debt face higher coupons, and the default rate has risen for three quarters in a row while recovery rates fall.</p>\n", i, n)
	}
	if version > 1 {
		body += fmt.Sprintf("<p>Update %d: the spread widened further after the auction.</p>\n", version)
	}
	return fmt.Sprintf(`<!DOCTYPE html><html><head><title>Credit note %[1]s</title>
<link rel="canonical" href="%[2]s/posts/%[1]s"></head><body>%[4]s
<article><h1>Credit note %[1]s</h1>%[3]s</article></body></html>`, n, base, body, extra)
}

// researchHTML lays a note out beside a longer block of market commentary
// that the generic extractor takes for the article.
func researchHTML(slug string) string {
	var filler strings.Builder
	for i := 0; i < 14; i++ {
		fmt.Fprintf(&filler, "<p>Daily market wrap paragraph %d: equities drifted as traders weighed the latest central bank speeches, oil inventories and the outlook for quarterly earnings across the main indices, with volumes below their monthly average.</p>\n", i)
	}
	title := map[string]string{"utilities": "Utilities: Rate Relief Is Priced In", "banks": "Banks: Deposit Costs Have Peaked"}[slug]
	return `<!DOCTYPE html><html lang="en"><head><title>Portal | Research</title></head><body>
<div class="layout">
 <div class="col-wide">` + filler.String() + `</div>
 <div class="col-narrow">
  <div class="note-head"><h2 class="note-title">` + title + `</h2><span class="analyst">By Priya Raman</span></div>
  <div class="note-body">
   <p>We move the ` + slug + ` basket to neutral: the sector now trades at 17 times forward earnings.</p>
   <div class="disclaimer-box">This is not investment advice. Past performance is no guide.</div>
  </div>
 </div>
</div></body></html>`
}

func reportPDF() []byte {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	p.Text(pdfgen.Bold, 16, 72, 720, "Q3 Credit Outlook")
	p.Text(pdfgen.Regular, 11, 72, 690, "High-yield spreads stand at 284 bps and we stay underweight.")
	return d.Bytes()
}

// harness runs scrapes of the site's two sources into one database,
// extracting with a scripted LLM server.
type harness struct {
	t       *testing.T
	site    *testSite
	db      *store.DB
	llm     *llmtest.Server
	ex      extract.Extractor
	sources []*Source
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	answer, err := os.ReadFile("../extract/llm/testdata/small_caps.answer.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.New(t)
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Completion(string(answer)) })
	ex, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), APIKey: "k", Model: "gpt-4o-mini", Mode: llm.ModeJSONSchema})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := newSite(t)
	return &harness{t: t, site: s, db: db, llm: srv, ex: ex, sources: []*Source{
		{Name: "harbor-street", Feed: s.srv.URL + "/feed.xml", Tags: []string{"blog"}},
		{Name: "portal", Sitemap: s.srv.URL + "/sitemap_index.xml", Tags: []string{"research"},
			Rules: extract.SiteRules{Content: ".note-body", Title: ".note-title", Author: ".analyst", Remove: []string{".disclaimer-box"}}},
	}}
}

// run scrapes once, as a command does: a new run and a new fetcher.
func (h *harness) run(dry bool) (int64, Summary, []Event) {
	h.t.Helper()
	return h.runCtx(context.Background(), dry, nil)
}

// runCtx is run under ctx, calling onEvent with each event too.
func (h *harness) runCtx(ctx context.Context, dry bool, onEvent func(Event)) (int64, Summary, []Event) {
	h.t.Helper()
	info := h.ex.Info()
	runID, err := h.db.StartRun(ctx, store.RunSpec{Kind: "scrape", Extractor: info.Extractor, Model: info.Model,
		PromptVersion: info.PromptVersion, SchemaVersion: schema.Version})
	if err != nil {
		h.t.Fatal(err)
	}
	var mu sync.Mutex
	var events []Event
	sc := &Scraper{
		Store:    h.db,
		Pipeline: &pipeline.Pipeline{Store: h.db, Extractor: h.ex, Load: &extract.Options{}, Concurrency: 4},
		Fetcher:  &Fetcher{Delay: -1, Concurrency: 4, UserAgent: UserAgent("", "desk@example.com")},
		DryRun:   dry,
		OnEvent: func(e Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
			if onEvent != nil {
				onEvent(e)
			}
		},
	}
	sum := sc.Run(ctx, runID, h.sources)
	if err := h.db.SetRunStatus(context.WithoutCancel(ctx), runID, store.RunDone); err != nil {
		h.t.Fatal(err)
	}
	return runID, sum, events
}

func (h *harness) query(q string, args ...any) [][]string {
	h.t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+h.db.Path()+"?mode=ro")
	if err != nil {
		h.t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(q, args...)
	if err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			h.t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out
}

func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	fmt.Sscan(h.query(q, args...)[0][0], &n)
	return n
}

func TestScrapeSite(t *testing.T) {
	h := newHarness(t)
	base := h.site.srv.URL

	// A dry run discovers and lists; it fetches no article and stores
	// nothing.
	_, sum, events := h.run(true)
	if sum.Outcomes[WouldFetch] != 20 || sum.Outcomes[Disallowed] != 1 { // 16 posts, missing, PDF, 2 research notes; private
		t.Fatalf("dry run would fetch %d URLs, want 20, and %d disallowed: %+v", sum.Outcomes[WouldFetch], sum.Outcomes[Disallowed], events)
	}
	for _, hit := range h.site.rec.all() {
		if strings.HasPrefix(hit.path, "/posts/") || strings.HasPrefix(hit.path, "/research/") || strings.HasPrefix(hit.path, "/reports/") {
			t.Fatalf("dry run fetched %s", hit.path)
		}
	}
	if n := h.count(`SELECT count(*) FROM known_urls`); n != 0 {
		t.Fatalf("dry run wrote %d known URLs", n)
	}

	// First run: every allowed article stored once.
	h.site.rec.reset()
	run1, sum, events := h.run(false)
	stored := h.query(`SELECT source, tags, title, text FROM documents ORDER BY source`)
	var sources []string
	for _, r := range stored {
		sources = append(sources, strings.TrimPrefix(r[0], base))
	}
	want := []string{"/posts/1", "/posts/10", "/posts/11", "/posts/12", "/posts/13", "/posts/14", "/posts/15", "/posts/16",
		"/posts/2", "/posts/3", "/posts/4", "/posts/5", "/posts/6", "/posts/7", "/posts/8", "/posts/9",
		"/reports/q3.pdf", "/research/banks", "/research/utilities"}
	if strings.Join(sources, " ") != strings.Join(want, " ") {
		t.Fatalf("stored\n%v\nwant\n%v\nevents: %+v", sources, want, events)
	}
	if sum.Pipeline.OK != 19 || sum.Outcomes[Stored] != 19 || sum.Outcomes[FetchFailed] != 1 || sum.Outcomes[Disallowed] != 1 {
		t.Fatalf("first run summary %+v", sum)
	}
	for _, r := range stored {
		wantTag := "blog"
		if strings.Contains(r[0], "/research/") {
			wantTag = "research"
		}
		if r[1] != wantTag {
			t.Errorf("%s: tags %q, want %q", r[0], r[1], wantTag)
		}
		if strings.HasSuffix(r[0], "/research/utilities") {
			// Only the site's rules find the note beside the commentary.
			if r[2] != "Utilities: Rate Relief Is Priced In" || !strings.Contains(r[3], "We move the utilities basket to neutral") ||
				strings.Contains(r[3], "Daily market wrap") || strings.Contains(r[3], "not investment advice") {
				t.Errorf("research note stored as %q:\n%s", r[2], r[3])
			}
		}
	}
	hits := h.site.rec.all()
	for _, hit := range hits {
		if strings.HasPrefix(hit.path, "/private/") {
			t.Errorf("robots.txt disallows %s, and it was fetched", hit.path)
		}
		if ua := hit.header.Get("User-Agent"); !strings.HasPrefix(ua, "thesisdb/1") || !strings.Contains(ua, "desk@example.com") {
			t.Errorf("%s: User-Agent %q", hit.path, ua)
		}
	}
	if n := countPath(hits, "/posts/3"); n != 1 {
		t.Errorf("/posts/3 requested %d times (also listed under utm_ parameters), want 1", n)
	}
	if n := countPath(hits, "/posts/7"); n != 2 {
		t.Errorf("/posts/7 requested %d times, want 2 (429, then after Retry-After)", n)
	}
	checkPolite(t, h.site.rec, hits)
	fails := h.query(`SELECT stage, source, error FROM failures WHERE run_id = ?`, run1)
	if len(fails) != 1 || fails[0][0] != "fetch" || fails[0][1] != base+"/posts/missing" || !strings.Contains(fails[0][2], "404") {
		t.Fatalf("failures of run 1: %v", fails)
	}
	calls := h.llm.Calls()
	if calls == 0 {
		t.Fatal("the scripted LLM was never asked")
	}
	if n := h.count(`SELECT prompt_tokens FROM runs WHERE id = ?`, run1); n == 0 {
		t.Fatal("run 1 spent no tokens")
	}
	if n := h.count(`SELECT count(*) FROM known_urls WHERE etag IS NOT NULL`); n != 17 {
		t.Errorf("%d known URLs with an ETag, want 17 (16 posts and the PDF)", n)
	}

	// Second run: nothing changed; nothing is loaded or extracted, and no
	// token is spent. Posts and the PDF answer 304; the research notes,
	// whose sitemap lastmod is older than their fetch, are not asked for;
	// the page that was missing is left alone for a day.
	h.site.rec.reset()
	run2, sum, events := h.run(false)
	if n := h.count(`SELECT count(*) FROM documents`); n != 19 {
		t.Fatalf("%d documents after the second run, want 19", n)
	}
	if sum.Pipeline.OK+sum.Pipeline.Failed+sum.Pipeline.Duplicate != 0 || sum.Outcomes[NotModified] != 17 || sum.Outcomes[Fresh] != 3 {
		t.Fatalf("second run summary %+v, events %+v", sum, events)
	}
	for _, hit := range h.site.rec.all() {
		if (strings.HasPrefix(hit.path, "/posts/") || strings.HasPrefix(hit.path, "/reports/")) && hit.status != http.StatusNotModified {
			t.Errorf("second run: %s answered %d, want 304", hit.path, hit.status)
		}
		if strings.HasPrefix(hit.path, "/research/") || hit.path == "/posts/missing" {
			t.Errorf("second run asked for %s", hit.path)
		}
	}
	if h.llm.Calls() != calls {
		t.Fatalf("second run asked the LLM %d times", h.llm.Calls()-calls)
	}
	if n := h.count(`SELECT prompt_tokens + completion_tokens FROM runs WHERE id = ?`, run2); n != 0 {
		t.Fatalf("second run spent %d tokens", n)
	}
	if n := h.count(`SELECT count(*) FROM failures WHERE run_id = ?`, run2); n != 0 {
		t.Fatalf("second run recorded %d failures", n)
	}

	// Third run: post 5 changed, and post 9 is listed under a second
	// address that declares /posts/9 canonical. The change is a new
	// document of the same URL; the alias stores nothing.
	h.site.mu.Lock()
	h.site.version["5"] = 2
	h.site.extra = []string{"/p?id=9"}
	h.site.mu.Unlock()
	oldDoc := h.count(`SELECT document_id FROM known_urls WHERE url = ?`, base+"/posts/5")
	_, sum, events = h.run(false)
	if sum.Pipeline.OK != 1 || sum.Outcomes[Alias] != 1 {
		t.Fatalf("third run summary %+v, events %+v", sum, events)
	}
	versions := h.query(`SELECT id FROM documents WHERE source = ? ORDER BY id`, base+"/posts/5")
	newDoc := h.count(`SELECT document_id FROM known_urls WHERE url = ?`, base+"/posts/5")
	if len(versions) != 2 || newDoc == oldDoc || fmt.Sprint(newDoc) != versions[1][0] {
		t.Fatalf("post 5 versions %v, known_urls document %d (was %d)", versions, newDoc, oldDoc)
	}
	alias := h.query(`SELECT canonical_url, document_id FROM known_urls WHERE url = ?`, base+"/p?id=9")
	post9 := h.count(`SELECT document_id FROM known_urls WHERE url = ?`, base+"/posts/9")
	if len(alias) != 1 || alias[0][0] != base+"/posts/9" || alias[0][1] != fmt.Sprint(post9) {
		t.Fatalf("alias row %v, want canonical /posts/9 and document %d", alias, post9)
	}
	if n := h.count(`SELECT count(*) FROM documents`); n != 20 {
		t.Fatalf("%d documents after the third run, want 20", n)
	}
}

// checkPolite asserts that requests to the site never overlapped and kept
// the Crawl-delay apart, and the Retry-After after the 429.
func checkPolite(t *testing.T, rec *recorder, hits []hit) {
	t.Helper()
	if rec.maxIn != 1 {
		t.Errorf("%d requests in flight at once to one host, want 1", rec.maxIn)
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].at.Before(hits[j].at) })
	for i := 1; i < len(hits); i++ {
		want := crawlDelay
		if hits[i-1].status == http.StatusTooManyRequests {
			want = time.Second
		}
		if gap := hits[i].at.Sub(hits[i-1].at); gap < want {
			t.Errorf("%s started %s after %s (%d) started, want at least %s", hits[i].path, gap, hits[i-1].path, hits[i-1].status, want)
		}
	}
}

// TestScrapeBadSource: a source whose feed fails is recorded at stage
// fetch and the other sources go on; scheduled, it waits for its next
// turn instead of being retried at every pass.
func TestScrapeBadSource(t *testing.T) {
	h := newHarness(t)
	base := h.site.srv.URL
	broken := &Source{Name: "broken", Feed: base + "/no-such-feed.xml", Every: time.Hour}
	h.sources = []*Source{broken, h.sources[1]}
	run1, sum, _ := h.run(false)
	if sum.SourcesFailed != 1 || sum.Pipeline.OK != 2 {
		t.Fatalf("summary %+v: want the broken source failed and the portal's 2 notes stored", sum)
	}
	fails := h.query(`SELECT stage, source, error FROM failures WHERE run_id = ?`, run1)
	if len(fails) != 1 || fails[0][0] != "fetch" || fails[0][1] != broken.Feed || !strings.Contains(fails[0][2], "source broken") {
		t.Fatalf("failures %v", fails)
	}
	h.site.rec.reset()
	_, sum, _ = h.run(false)
	if sum.SourcesNotDue != 1 || sum.SourcesFailed != 0 || countPath(h.site.rec.all(), "/no-such-feed.xml") != 0 {
		t.Fatalf("second run asked the broken source again within its hour: %+v", sum)
	}
}

// TestScrapeStopped: a scrape stopped midway keeps what it stored, and
// the next one stores the rest, each article once, asking again with a
// full GET only for what was not stored.
func TestScrapeStopped(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	stored := 0
	_, sum, _ := h.runCtx(ctx, false, func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Outcome == Stored {
			if stored++; stored == 5 {
				cancel()
			}
		}
	})
	first := h.count(`SELECT count(*) FROM documents`)
	if first < 5 || first >= 19 || sum.Outcomes[Stored] != first {
		t.Fatalf("stopped run stored %d documents (%d reported), want 5 to 18", first, sum.Outcomes[Stored])
	}
	if n := h.count(`SELECT count(*) FROM known_urls WHERE document_id IS NOT NULL`); n != first {
		t.Fatalf("%d known URLs with a document after the stop, want %d: a URL is recorded only once stored", n, first)
	}
	h.site.rec.reset()
	_, sum, _ = h.run(false)
	if n := h.count(`SELECT count(*) FROM documents`); n != 19 {
		t.Fatalf("%d documents after the next run, want 19", n)
	}
	if sum.Pipeline.Duplicate != 0 || sum.Pipeline.OK != 19-first {
		t.Fatalf("next run summary %+v, want %d stored and no duplicate", sum, 19-first)
	}
	full := 0
	for _, hit := range h.site.rec.all() {
		if (strings.HasPrefix(hit.path, "/posts/") || strings.HasPrefix(hit.path, "/reports/") || strings.HasPrefix(hit.path, "/research/")) && hit.status == 200 {
			full++
		}
	}
	if full != 19-first {
		t.Fatalf("next run fetched %d pages in full, want %d (those not stored before the stop)", full, 19-first)
	}
}
