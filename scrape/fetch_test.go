package scrape

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// TestFetcherRedirectObeysRobots: a redirect is a request like any other:
// the target's robots.txt is read and obeyed (a disallowed target is not
// requested), and its host's turn and delay apply.
func TestFetcherRedirectObeysRobots(t *testing.T) {
	otherRec := &recorder{}
	otherMux := http.NewServeMux()
	otherMux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /closed/\n")
	})
	otherMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<html><body><p>%s</p></body></html>", r.URL.Path)
	})
	other := httptest.NewServer(otherRec.wrap(otherMux))
	defer other.Close()

	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.Handle("/moved", http.RedirectHandler("/private/note", http.StatusFound))
	mux.Handle("/away", http.RedirectHandler(other.URL+"/open/note", http.StatusMovedPermanently))
	mux.Handle("/away-closed", http.RedirectHandler(other.URL+"/closed/note", http.StatusMovedPermanently))
	mux.Handle("/hop", http.RedirectHandler("/landing", http.StatusFound))
	// The other server under another host name: not the same site.
	mux.Handle("/away-foreign", http.RedirectHandler(strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/open/foreign", http.StatusFound))
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?n="+r.URL.Query().Get("n")+"x", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<html><body><p>%s</p></body></html>", r.URL.Path)
	})
	srv := httptest.NewServer(rec.wrap(mux))
	defer srv.Close()

	f := &Fetcher{Delay: -1}
	ctx := t.Context()
	if _, err := f.Get(ctx, srv.URL+"/moved"); !errors.Is(err, ErrRedirectDisallowed) || !strings.Contains(err.Error(), "/private/note") {
		t.Fatalf("redirect to a disallowed path: %v, want ErrRedirectDisallowed naming the target", err)
	}
	if errors.Is(func() error { _, err := f.Get(ctx, srv.URL+"/moved"); return err }(), ErrDisallowed) {
		t.Error("a redirect to a disallowed path reads as the URL itself disallowed")
	}
	if n := countPath(rec.all(), "/private/note"); n != 0 {
		t.Fatalf("the disallowed target was requested %d times", n)
	}

	p, err := f.Get(ctx, srv.URL+"/away")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != other.URL+"/open/note" || !strings.Contains(string(p.Body), "/open/note") {
		t.Fatalf("redirect to another host landed on %s: %q", p.URL, p.Body)
	}
	if _, err := f.Get(ctx, srv.URL+"/away-closed"); !errors.Is(err, ErrRedirectDisallowed) {
		t.Fatalf("redirect to a path the other host's robots.txt disallows: %v", err)
	}
	hits := otherRec.all()
	if len(hits) != 2 || hits[0].path != "/robots.txt" || hits[1].path != "/open/note" {
		t.Fatalf("the other host saw %v, want its robots.txt, then only the allowed note", paths(hits))
	}

	if _, err := f.Get(ctx, srv.URL+"/loop"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("redirect loop: %v", err)
	}
	if n := countPath(rec.all(), "/loop"); n != 1 {
		t.Fatalf("loop start requested %d times", n)
	}

	// The source's headers go on to the same site, not to another one.
	sf := &SourceFetcher{f: f, header: http.Header{"X-Api-Key": {"s3cret"}}}
	rec.reset()
	if _, err := sf.Get(ctx, srv.URL+"/hop"); err != nil {
		t.Fatal(err)
	}
	for _, h := range rec.all() {
		if h.path == "/landing" && h.header.Get("X-Api-Key") != "s3cret" {
			t.Error("the source's header was dropped on a redirect within its site")
		}
	}
	if !strings.HasPrefix(other.URL, "http://127.0.0.1:") {
		t.Skipf("test server at %s, not 127.0.0.1: no second host name for it", other.URL)
	}
	otherRec.reset()
	if _, err := sf.Get(ctx, srv.URL+"/away-foreign"); err != nil {
		t.Fatal(err)
	}
	if hits := otherRec.all(); len(hits) != 2 || hits[1].path != "/open/foreign" || hits[1].header.Get("X-Api-Key") != "" {
		t.Fatalf("another site saw %v with X-Api-Key %q: want its robots.txt, then the page without the source's header", paths(hits), hits[len(hits)-1].header.Get("X-Api-Key"))
	}
}

// TestFetcherRedirectKeepsDelay: a redirect within a host waits the host's
// delay like any request.
func TestFetcherRedirectKeepsDelay(t *testing.T) {
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nAllow: /\n") })
	mux.Handle("/old", http.RedirectHandler("/older", http.StatusMovedPermanently))
	mux.Handle("/older", http.RedirectHandler("/new", http.StatusTemporaryRedirect))
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "here") })
	srv := httptest.NewServer(rec.wrap(mux))
	defer srv.Close()
	f := &Fetcher{Delay: crawlDelay}
	p, err := f.Get(t.Context(), srv.URL+"/old")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != srv.URL+"/new" || string(p.Body) != "here" {
		t.Fatalf("landed on %s with %q", p.URL, p.Body)
	}
	hits := rec.all()
	if got := paths(hits); strings.Join(got, " ") != "/robots.txt /old /older /new" {
		t.Fatalf("requests %v", got)
	}
	checkPolite(t, rec, hits)
}

func paths(hits []hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.path)
	}
	return out
}

// TestScrapeRedirectToDisallowed: an article that redirects to a path
// robots.txt disallows is not followed there, and is recorded as the
// URL's failure at stage fetch, the other articles going on.
func TestScrapeRedirectToDisallowed(t *testing.T) {
	h := newHarness(t)
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /members/\n")
	})
	var base string
	mux.HandleFunc("/urls.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%[1]s/notes/open\n%[1]s/notes/locked\n", base)
	})
	mux.Handle("/notes/locked", http.RedirectHandler("/members/login?next=/notes/locked", http.StatusFound))
	mux.HandleFunc("/notes/open", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, postHTML(base, "open", 1, ""))
	})
	mux.HandleFunc("/members/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body><p>Sign in.</p></body></html>")
	})
	srv := httptest.NewServer(rec.wrap(mux))
	defer srv.Close()
	base = srv.URL
	h.sources = []*Source{{Name: "notes", Sitemap: srv.URL + "/urls.txt"}}

	run, sum, events := h.run(false)
	if sum.Pipeline.OK != 1 || sum.Outcomes[FetchFailed] != 1 {
		t.Fatalf("summary %+v: want the open note stored, the locked one failed", sum)
	}
	for _, e := range events {
		if strings.HasSuffix(e.URL, "/notes/locked") && (e.Outcome != FetchFailed || !errors.Is(e.Err, ErrRedirectDisallowed)) {
			t.Fatalf("locked note: %s, %v; want failed with ErrRedirectDisallowed", e.Outcome, e.Err)
		}
	}
	if n := countPath(rec.all(), "/members/login?next=/notes/locked"); n != 0 {
		t.Fatalf("the disallowed redirect target was requested %d times", n)
	}
	fails := h.query(`SELECT stage, source, error FROM failures WHERE run_id = ?`, run)
	if len(fails) != 1 || fails[0][0] != "fetch" || fails[0][1] != srv.URL+"/notes/locked" ||
		!strings.Contains(fails[0][2], "robots.txt disallows") || !strings.Contains(fails[0][2], "/members/login") {
		t.Fatalf("failures %v, want the locked note at stage fetch, naming the disallowed target", fails)
	}
	t.Logf("recorded: %s", fails[0][2])
}

// TestScrapeLinkedPDFOverLimit: a PDF a feed links is fetched under
// --max-fetch-bytes like any page, announced or not: over it, the URL
// fails at stage fetch and nothing is loaded.
func TestScrapeLinkedPDFOverLimit(t *testing.T) {
	h := newHarness(t)
	pdf := reportPDF()
	const limit = 500
	if len(pdf) <= limit {
		t.Fatalf("test PDF of %d bytes is not over the %d-byte limit", len(pdf), limit)
	}
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Reports</title><link>%[1]s/</link>
<item><title>Q3</title><link>%[1]s/reports/q3.pdf</link><enclosure url="%[1]s/reports/q4.pdf" type="application/pdf" length="%[2]d"/></item>
</channel></rss>`, base, len(pdf))
	})
	mux.HandleFunc("/reports/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		if r.URL.Path == "/reports/q4.pdf" {
			// Flushed before the end: no Content-Length, the limit stops
			// the read.
			w.Write(pdf[:100])
			w.(http.Flusher).Flush()
			w.Write(pdf[100:])
			return
		}
		w.Write(pdf)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL
	h.sources = []*Source{{Name: "reports", Feed: srv.URL + "/feed.xml"}}

	runID, err := h.db.StartRun(t.Context(), store.RunSpec{Kind: "scrape", Extractor: h.ex.Info().Extractor, Model: h.ex.Info().Model,
		PromptVersion: h.ex.Info().PromptVersion, SchemaVersion: schema.Version})
	if err != nil {
		t.Fatal(err)
	}
	sc := &Scraper{
		Store:    h.db,
		Pipeline: &pipeline.Pipeline{Store: h.db, Extractor: h.ex, Load: &extract.Options{MaxFetchBytes: limit}},
		Fetcher:  &Fetcher{Delay: -1, IgnoreRobots: true, MaxBytes: limit},
	}
	sum := sc.Run(t.Context(), runID, h.sources)
	if sum.Outcomes[FetchFailed] != 2 || sum.Pipeline.OK != 0 || h.llm.Calls() != 0 {
		t.Fatalf("summary %+v, %d LLM calls: want both PDFs failed, nothing loaded", sum, h.llm.Calls())
	}
	fails := h.query(`SELECT stage, error FROM failures WHERE run_id = ? ORDER BY source`, runID)
	if len(fails) != 2 {
		t.Fatalf("failures %v, want 2", fails)
	}
	for _, f := range fails {
		if f[0] != "fetch" || !strings.Contains(f[1], "--max-fetch-bytes") {
			t.Errorf("failure %v, want stage fetch naming --max-fetch-bytes", f)
		}
	}
}
