package scrape

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// deskSite is a start page two links away from its notes: /desk links
// three section pages (one answers 404), and the sections link the notes,
// which answer 304 to their ETag.
func deskSite(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	page := func(title string, links ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "<!DOCTYPE html><html><head><title>%s</title></head><body><article><h1>%s</h1>\n", title, title)
		for i := 0; i < 4; i++ {
			fmt.Fprintf(&b, "<p>Paragraph %d of %s: high-yield spreads of 284 bps leave little room for error as refinancing needs rise into 2027.</p>\n", i, title)
		}
		for _, l := range links {
			fmt.Fprintf(&b, "<p><a href=%q>%s</a></p>\n", l, l)
		}
		b.WriteString("</article></body></html>")
		return b.String()
	}
	pages := map[string]string{
		"/desk":            page("Credit desk", "/sections/credit", "/sections/rates", "/sections/gone"),
		"/sections/credit": page("Credit section", "/notes/1", "/notes/2", "/desk", "/sections/rates"),
		"/sections/rates":  page("Rates section", "/notes/3", "/notes/2#comments"),
		"/notes/1":         page("Note 1"),
		"/notes/2":         page("Note 2"),
		"/notes/3":         page("Note 3"),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf("%q", r.URL.Path)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	})
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// perPath counts the requests a server saw per path, and what they
// answered.
func perPath(hits []hit) (count map[string]int, status map[string][]int) {
	count, status = map[string]int{}, map[string][]int{}
	for _, h := range hits {
		count[h.path]++
		status[h.path] = append(status[h.path], h.status)
	}
	return count, status
}

// TestScrapeDepthTwoFetchesOnce: the section pages discovery fetches to
// read their links are the articles the scraper stores, not asked for a
// second time; every URL is requested exactly once on a first run, and on
// the next the notes answer 304 and nothing is loaded or extracted.
func TestScrapeDepthTwoFetchesOnce(t *testing.T) {
	h := newHarness(t)
	srv, rec := deskSite(t)
	h.sources = []*Source{{Name: "desk", Start: srv.URL + "/desk", Follow: "article a[href]", Depth: 2}}

	run1, sum, _ := h.run(false)
	count, _ := perPath(rec.all())
	want := []string{"/robots.txt", "/desk", "/sections/credit", "/sections/rates", "/sections/gone", "/notes/1", "/notes/2", "/notes/3"}
	for _, p := range want {
		if count[p] != 1 {
			t.Errorf("first run requested %s %d times, want once", p, count[p])
		}
	}
	if len(count) != len(want) {
		t.Errorf("first run requested %v, want exactly %v", count, want)
	}
	if sum.Pipeline.OK != 5 || sum.Outcomes[FetchFailed] != 1 {
		t.Fatalf("first run %+v: want the 2 sections and 3 notes stored, the missing section failed", sum)
	}
	if sum.Requests != 3 {
		t.Errorf("first run counts %d article requests, want 3 (the notes; the sections came with discovery)", sum.Requests)
	}
	if n := h.count(`SELECT count(*) FROM documents`); n != 5 {
		t.Fatalf("%d documents, want 5", n)
	}
	fails := h.query(`SELECT stage, source, error FROM failures WHERE run_id = ?`, run1)
	if len(fails) != 1 || fails[0][0] != "fetch" || fails[0][1] != srv.URL+"/sections/gone" || !strings.Contains(fails[0][2], "404") {
		t.Fatalf("failures %v, want the missing section at stage fetch", fails)
	}
	// The sections' validators were recorded from discovery's responses.
	if n := h.count(`SELECT count(*) FROM known_urls WHERE url LIKE ? AND etag <> ''`, srv.URL+"/sections/%"); n != 2 {
		t.Fatalf("%d sections with an ETag in known_urls, want 2", n)
	}

	calls := h.llm.Calls()
	rec.reset()
	run2, sum, _ := h.run(false)
	count, status := perPath(rec.all())
	for p, n := range count {
		if n != 1 {
			t.Errorf("second run requested %s %d times, want at most once", p, n)
		}
	}
	for _, p := range []string{"/notes/1", "/notes/2", "/notes/3"} {
		if len(status[p]) != 1 || status[p][0] != http.StatusNotModified {
			t.Errorf("second run: %s answered %v, want one 304", p, status[p])
		}
	}
	if sum.Pipeline.OK != 0 || sum.Pipeline.Duplicate != 0 || sum.Outcomes[NotModified] != 5 {
		t.Fatalf("second run %+v: want nothing loaded, 5 unchanged", sum)
	}
	if h.llm.Calls() != calls {
		t.Fatalf("second run asked the LLM %d times", h.llm.Calls()-calls)
	}
	if n := h.count(`SELECT prompt_tokens + completion_tokens FROM runs WHERE id = ?`, run2); n != 0 {
		t.Fatalf("second run spent %d tokens", n)
	}
}
