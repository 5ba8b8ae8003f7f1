package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// blog serves a robots.txt, a feed of three notes (one of which is
// missing) and the notes, with ETags; it counts the 200 answers per path.
func blog(t *testing.T) (*httptest.Server, func(string) int) {
	var mu sync.Mutex
	full := map[string]int{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case r.URL.Path == "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>
<item><title>A</title><link>%[1]s/notes/a</link></item>
<item><title>B</title><link>%[1]s/notes/b?utm_source=x</link></item>
<item><title>Gone</title><link>%[1]s/notes/gone</link></item>
<item><title>Private</title><link>%[1]s/private/p</link></item>
</channel></rss>`, srv.URL)
		case strings.HasPrefix(r.URL.Path, "/notes/") && r.URL.Path != "/notes/gone":
			etag := `"` + r.URL.Path + `"`
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			mu.Lock()
			full[r.URL.Path]++
			mu.Unlock()
			w.Header().Set("ETag", etag)
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><head><title>Note %[1]s</title></head><body><article><h1>Note %[1]s</h1>
<p>Small caps trade at 14x forward earnings against 22x for large caps; note %[1]s expects the gap to close within 12 months.</p>
<p>High-yield spreads stand at 284 bps, which leaves room for refinancing.</p></article></body></html>`, r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func(p string) int { mu.Lock(); defer mu.Unlock(); return full[p] }
}

func TestScrapeCommand(t *testing.T) {
	srv, full := blog(t)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	common := []string{"--db", db, "scrape", "--feed", srv.URL + "/feed.xml", "--delay", "1ms", "--contact", "desk@example.com", "--tag", "desk"}

	// --dry-run lists what would be fetched on stdout (not what robots.txt
	// disallows) and fetches none of it.
	out, stderr, code := thesisdb(t, append(common, "--dry-run")...)
	if code != 0 {
		t.Fatalf("dry run exited %d:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(out, srv.URL+"/notes/b\n") || strings.Contains(out, "utm_") || strings.Contains(out, "/private/") {
		t.Fatalf("dry run listed:\n%s", out)
	}
	if full("/notes/a") != 0 {
		t.Fatal("dry run fetched an article")
	}

	// The first run stores the two notes and fails the missing one (exit 1).
	out, stderr, code = thesisdb(t, common...)
	if code != 1 {
		t.Fatalf("first scrape exited %d, want 1 (a 404):\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "2 stored") || !strings.Contains(out, "1 disallowed") || !strings.Contains(out, "1 failed") {
		t.Fatalf("summary:\n%s", out)
	}
	if !strings.Contains(stderr, "/notes/gone") || !strings.Contains(stderr, "404") {
		t.Fatalf("the 404 has no status line:\n%s", stderr)
	}
	q, _, _ := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT stage, source FROM failures")
	if !strings.Contains(q, "fetch,"+srv.URL+"/notes/gone") {
		t.Fatalf("failures:\n%s", q)
	}
	q, _, _ = thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT source, tags FROM documents ORDER BY source")
	if q != "source,tags\n"+srv.URL+"/notes/a,desk\n"+srv.URL+"/notes/b,desk\n" {
		t.Fatalf("documents:\n%s", q)
	}

	// The second run loads nothing: 304s, and the missing page left alone.
	out, stderr, code = thesisdb(t, common...)
	if code != 0 {
		t.Fatalf("second scrape exited %d:\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "0 stored, 2 unchanged, 1 not asked for") || full("/notes/a") != 1 || full("/notes/b") != 1 {
		t.Fatalf("second run:\n%s", out)
	}
}

func TestWatchWithSources(t *testing.T) {
	srv, _ := blog(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "t.sqlite")
	in := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "note.md"), []byte("# Rates note\n\nThe 10-year yield stands at 4.2% and we expect 3.8% in 12 months.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sources := filepath.Join(dir, "sources.toml")
	if err := os.WriteFile(sources, []byte(fmt.Sprintf(`[scrape]
contact = "desk@example.com"
delay = "1ms"

[[source]]
name = "desk-blog"
feed = %q
tags = ["blog"]
every = "1h"
`, srv.URL+"/feed.xml")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := thesisdb(t, "--db", db, "watch", "--once", "--settle", "20ms", "--sources", sources, in)
	if code != 1 { // the feed's missing note failed
		t.Fatalf("watch --once --sources exited %d, want 1:\n%s", code, stderr)
	}
	q, _, _ := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT kind, count(*) FROM runs GROUP BY kind")
	if q != "kind,count(*)\nwatch,1\n" {
		t.Fatalf("runs:\n%s", q)
	}
	q, _, _ = thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT count(*), sum(tags = 'blog') FROM documents")
	if q != "count(*),sum(tags = 'blog')\n3,2\n" {
		t.Fatalf("want the inbox note and the two blog notes, one run:\n%s\n%s", q, stderr)
	}
	// The source is scheduled hourly: a second watch within the hour does
	// not scrape it.
	_, stderr, code = thesisdb(t, "--db", db, "watch", "--once", "--settle", "20ms", "--sources", sources, in)
	if code != 0 || !strings.Contains(stderr, "source not due yet") {
		t.Fatalf("second watch exited %d:\n%s", code, stderr)
	}
}
