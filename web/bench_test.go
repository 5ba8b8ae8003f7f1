package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/internal/benchdb"
	"github.com/thesisdb/thesisdb/store"
)

// Benchmarks at scale, on the database the pipeline's scale benchmarks
// use (benchdb.Large): THESISDB_BENCH_POINTS current data points (default
// 100000) in synthetic notes of 50, each ingested and extracted again,
// kept in THESISDB_BENCH_DIR (default: a temporary folder, built again by
// every run). At 1,000,000 points that is 20,000 documents and 40,000
// extractions:
//
//	THESISDB_BENCH_DIR=/somewhere THESISDB_BENCH_POINTS=1000000 go test -run '^$' -bench . ./web/
//
// Each request goes through the whole handler (guard, query, template).

func benchDB(b *testing.B) (path string, points int) {
	points = benchdb.Points(b)
	return benchdb.Large(b, points, nil), points
}

// BenchmarkPages times the document list and a document page at scale,
// through the handler: ms/op is the answer time of one request.
func BenchmarkPages(b *testing.B) {
	path, points := benchDB(b)
	r, err := store.OpenReader(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	r.SetMaxConns(8)
	srv, err := New(Config{Reader: r})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	docs := points / 50
	mid := docs / 2
	for _, c := range []struct{ name, path string }{
		{"list", "/"},
		{"list-api", "/api/documents"},
		{"list-deep-page", fmt.Sprintf("/?offset=%d", max(docs-50, 0))},
		{"list-sort-title", "/?sort=title&order=asc"},
		{"list-sort-data-points", "/?sort=data_points"},
		{"list-search", "/?q=margins"},
		{"list-search-rare", "/?q=" + strconv.Itoa(mid)},
		{"list-stance", "/?stance=bearish"},
		{"list-perspective", "/?perspective=credit"},
		{"list-run", "/?run=2&sort=id"},
		{"list-dates", "/?from=2026-01-01&to=2026-06-30"},
		{"document", fmt.Sprintf("/documents/%d", mid)},
		{"document-api", fmt.Sprintf("/api/documents/%d", mid)},
		{"document-older-run", fmt.Sprintf("/documents/%d?run=1", mid)},
	} {
		b.Run(c.name, func(b *testing.B) {
			do := func() {
				req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+c.path, nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d %s", c.path, w.Code, w.Body)
				}
			}
			do() // warm the page cache
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				do()
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
