package scrape

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
)

// hit is one request a test server saw, at when its handler started.
// Delays are checked from one request's start to the next: the fetcher
// releases a host only after the server has begun answering, so that gap
// is never shorter than the delay, while the server's own end of a
// request can be stamped after the fetcher's (a body it stopped reading
// at its cap, or a busy machine).
type hit struct {
	at     time.Time
	path   string // with the query
	header http.Header
	status int
}

// recorder serves handler and records every request, and how many were
// in flight at once.
type recorder struct {
	mu       sync.Mutex
	hits     []hit
	inFlight int
	maxIn    int
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.inFlight++
		rec.maxIn = max(rec.maxIn, rec.inFlight)
		rec.mu.Unlock()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		start := time.Now()
		h.ServeHTTP(sw, r)
		rec.mu.Lock()
		rec.inFlight--
		rec.hits = append(rec.hits, hit{at: start, path: r.URL.RequestURI(), header: r.Header.Clone(), status: sw.status})
		rec.mu.Unlock()
	})
}

func (rec *recorder) all() []hit {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]hit(nil), rec.hits...)
}

func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.hits, rec.maxIn = nil, 0
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://Example.COM:443/a/b?utm_source=x&id=3&utm_medium=email#frag": "https://example.com/a/b?id=3",
		"http://example.com":                                         "http://example.com/",
		"http://example.com:8080/x?b=2&a=1":                          "http://example.com:8080/x?a=1&b=2",
		"https://example.com/p?fbclid=abc&gclid=d&mc_cid=e&mc_eid=f": "https://example.com/p",
		"https://example.com/p?ref=home":                             "https://example.com/p?ref=home",
	} {
		got, err := NormalizeURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://example.com/x", "/relative", "mailto:a@b.c"} {
		if _, err := NormalizeURL(bad); err == nil {
			t.Errorf("NormalizeURL(%q): no error", bad)
		}
	}
}

func TestCanonicalURL(t *testing.T) {
	page := `<html><head><title>x</title><link rel="stylesheet" href="/s.css">
<link rel="canonical" href="/posts/3?utm_campaign=x"></head><body><link rel="canonical" href="/wrong"></body></html>`
	if got := CanonicalURL("https://blog.example/p?id=3", "text/html; charset=utf-8", []byte(page)); got != "https://blog.example/posts/3" {
		t.Fatalf("canonical = %q", got)
	}
	late := `<html><head><title>x</title></head><body><link rel="canonical" href="/wrong"></body></html>`
	if got := CanonicalURL("https://blog.example/p", "text/html", []byte(late)); got != "" {
		t.Fatalf("a canonical link outside the head was taken: %q", got)
	}
	if got := CanonicalURL("https://blog.example/p.pdf", "application/pdf", []byte(page)); got != "" {
		t.Fatalf("a PDF has no canonical link: %q", got)
	}
}

func TestUserAgent(t *testing.T) {
	if got := UserAgent("", "desk@example.com"); got != "thesisdb/1 (+https://github.com/thesisdb/thesisdb; research ingestion; contact: desk@example.com)" {
		t.Fatalf("UserAgent = %q", got)
	}
	if got := UserAgent("acme-research", "a\r\nX-Evil: 1 (x)"); strings.ContainsAny(got, "\r\n") || !strings.HasPrefix(got, "acme-research/1 (") {
		t.Fatalf("UserAgent = %q", got)
	}
}

// TestFetcherPolite: robots.txt is read once and obeyed for our agent,
// requests to one host never overlap and keep the Crawl-delay apart, a 429
// backs the host off for its Retry-After and is retried, a conditional GET
// sends the validators, the body cap holds, and the source's headers come
// from the environment.
func TestFetcherPolite(t *testing.T) {
	rec := &recorder{}
	var mu sync.Mutex
	throttled := false
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("User-agent: *\nDisallow: /all-bots/\n\nUser-agent: thesisdb\nDisallow: /private/\nCrawl-delay: 0.05\n"))
	})
	mux.HandleFunc("/a/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte("<html><body>article</body></html>"))
	})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !throttled
		throttled = true
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/all-bots/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ours is another group")) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 5000)) })
	mux.HandleFunc("/private/x", func(w http.ResponseWriter, r *http.Request) { t.Error("disallowed path fetched") })
	srv := httptest.NewServer(rec.wrap(mux))
	defer srv.Close()

	f := &Fetcher{Delay: 10 * time.Millisecond, Concurrency: 8, MaxBytes: 1000, UserAgent: UserAgent("", "desk@example.com")}
	t.Setenv("TEST_SCRAPE_TOKEN", "Bearer s3cret")
	sf, err := f.For(&Source{Name: "t", Headers: map[string]string{"Authorization": "TEST_SCRAPE_TOKEN"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, p := range []string{"/a/1", "/a/2", "/a/3", "/a/4", "/all-bots/ok"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := sf.Get(ctx, srv.URL+p); err != nil {
				t.Errorf("get %s: %v", p, err)
			}
		}()
	}
	wg.Wait()
	if _, err := sf.Get(ctx, srv.URL+"/private/x"); !errors.Is(err, ErrDisallowed) {
		t.Fatalf("disallowed path: err = %v", err)
	}
	page, err := sf.Fetch(ctx, srv.URL+"/a/1", `"v1"`, "")
	if err != nil || page.Status != http.StatusNotModified || len(page.Body) != 0 {
		t.Fatalf("conditional GET: %+v, %v", page, err)
	}
	if _, err := sf.Get(ctx, srv.URL+"/big"); !errors.Is(err, extract.ErrTooLarge) {
		t.Fatalf("body over the cap: err = %v", err)
	}
	if p, err := sf.Get(ctx, srv.URL+"/busy"); err != nil || string(p.Body) != "ok" {
		t.Fatalf("after 429: %v, %v", p, err)
	}

	hits := rec.all()
	if n := countPath(hits, "/robots.txt"); n != 1 {
		t.Fatalf("robots.txt fetched %d times, want once", n)
	}
	if rec.maxIn != 1 {
		t.Fatalf("%d requests in flight to one host at once, want 1", rec.maxIn)
	}
	for i := 1; i < len(hits); i++ {
		gap := hits[i].at.Sub(hits[i-1].at)
		want := 50 * time.Millisecond // Crawl-delay, longer than Delay
		if hits[i-1].status == http.StatusTooManyRequests {
			want = time.Second // Retry-After
		}
		if gap < want {
			t.Errorf("request %s started %s after %s started, want at least %s", hits[i].path, gap, hits[i-1].path, want)
		}
	}
	for _, h := range hits {
		if h.path == "/robots.txt" {
			continue
		}
		if got := h.header.Get("Authorization"); got != "Bearer s3cret" {
			t.Errorf("%s: Authorization %q", h.path, got)
		}
		if ua := h.header.Get("User-Agent"); !strings.Contains(ua, "contact: desk@example.com") {
			t.Errorf("%s: User-Agent %q", h.path, ua)
		}
	}
	if n := countPath(hits, "/busy"); n != 2 {
		t.Fatalf("/busy requested %d times, want 2 (429, then after Retry-After)", n)
	}
}

func countPath(hits []hit, path string) int {
	n := 0
	for _, h := range hits {
		if h.path == path {
			n++
		}
	}
	return n
}

func TestFetcherRetryAfterTooLong(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		n++
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	f := &Fetcher{Delay: -1, MaxRetryAfter: time.Second}
	_, err := f.Get(context.Background(), srv.URL+"/x")
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 503 || se.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want a 503 with Retry-After 1h", err)
	}
	if n != 1 {
		t.Fatalf("%d requests: a Retry-After past the limit is not waited for", n)
	}
	// The host stays backed off: the next request waits, so a short
	// context gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.Get(ctx, srv.URL+"/y"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("backed-off host: err = %v", err)
	}
	if n != 1 {
		t.Fatalf("%d requests: the backed-off host was asked again", n)
	}
}

func TestFetcherCookies(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		if c, err := r.Cookie("session"); err == nil {
			got = c.Value
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	host = host[:strings.IndexByte(host, ':')]
	file := filepath.Join(t.TempDir(), "cookies.txt")
	content := "# Netscape HTTP Cookie File\n" + host + "\tFALSE\t/\tFALSE\t0\tsession\tabc123\n" +
		host + "\tFALSE\t/\tFALSE\t1\told\texpired\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	sf, err := (&Fetcher{Delay: -1}).For(&Source{Name: "t", Cookies: file})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sf.Get(context.Background(), srv.URL+"/x"); err != nil {
		t.Fatal(err)
	}
	if got != "abc123" {
		t.Fatalf("session cookie %q, want abc123", got)
	}
	if _, err := (&Fetcher{}).For(&Source{Name: "t", Headers: map[string]string{"X-Key": "TEST_SCRAPE_UNSET_VAR"}}); err == nil ||
		!strings.Contains(err.Error(), "TEST_SCRAPE_UNSET_VAR") {
		t.Fatalf("unset header variable: err = %v", err)
	}
}
