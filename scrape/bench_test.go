package scrape

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// BenchmarkScrapeUnchanged measures what a scheduled pass over a feed of
// 100 articles that have not changed costs: the feed, 100 conditional
// GETs answered 304, 100 known-URL rows written; nothing loaded or
// extracted. No delay between requests (a real site's delay dominates).
//
//	go test -run '^$' -bench ScrapeUnchanged -benchmem ./scrape/
func BenchmarkScrapeUnchanged(b *testing.B) {
	const n = 100
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case r.URL.Path == "/feed.xml":
			var sb strings.Builder
			sb.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>`)
			for i := range n {
				fmt.Fprintf(&sb, "<item><title>%d</title><link>%s/posts/%d</link></item>", i, srv.URL, i)
			}
			sb.WriteString("</channel></rss>")
			w.Write([]byte(sb.String()))
		default:
			etag := `"` + r.URL.Path + `"`
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(postHTML(srv.URL, strings.TrimPrefix(r.URL.Path, "/posts/"), 1, "")))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "b.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ex := rules.New()
	info := ex.Info()
	runID, err := db.StartRun(ctx, store.RunSpec{Kind: "scrape", Extractor: info.Extractor, PromptVersion: info.PromptVersion, SchemaVersion: schema.Version})
	if err != nil {
		b.Fatal(err)
	}
	sources := []*Source{{Name: "bench", Feed: srv.URL + "/feed.xml"}}
	scraper := func() *Scraper {
		return &Scraper{Store: db, Fetcher: &Fetcher{Delay: -1},
			Pipeline: &pipeline.Pipeline{Store: db, Extractor: ex, Load: &extract.Options{}}}
	}
	if sum := scraper().Run(ctx, runID, sources); sum.Pipeline.OK != n {
		b.Fatalf("first pass stored %d, want %d", sum.Pipeline.OK, n)
	}
	b.ResetTimer()
	for b.Loop() {
		if sum := scraper().Run(ctx, runID, sources); sum.Outcomes[NotModified] != n {
			b.Fatalf("pass: %d unchanged, want %d", sum.Outcomes[NotModified], n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/url")
}
