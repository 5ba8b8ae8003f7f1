package extract

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// fetchServer serves fixed routes on loopback and records the User-Agent
// of the last request.
func fetchServer(t *testing.T) (*httptest.Server, *string) {
	t.Helper()
	var ua string
	pdf, err := os.ReadFile("../samples/research-note-semis.pdf")
	if err != nil {
		t.Fatal(err)
	}
	page := "<html><head><title>Caf\xe9 notes</title></head><body><main><h1>Caf\xe9 au lait</h1><p>Prices rose 5 \x80 per kilo \x96 a record.</p></main></body></html>"
	mux := http.NewServeMux()
	mux.HandleFunc("/cp1252", func(w http.ResponseWriter, r *http.Request) {
		ua = r.UserAgent()
		w.Header().Set("Content-Type", "text/html; charset=windows-1252")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "Plain thesis text: bullish on copper.\n")
	})
	mux.HandleFunc("/doc.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write(pdf)
	})
	mux.HandleFunc("/sniff", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // no header: the client must sniff
		fmt.Fprint(w, "<!DOCTYPE html><html><body><p>Sniffed page body.</p></body></html>")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.(http.Flusher).Flush() // chunked: no Content-Length announced
		for i := 0; i < 100; i++ {
			fmt.Fprint(w, strings.Repeat("x", 1000))
		}
	})
	mux.HandleFunc("/announced", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "100000")
		fmt.Fprint(w, strings.Repeat("x", 100000))
	})
	mux.HandleFunc("/redirect/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/redirect/"), "%d", &n)
		if n == 0 {
			http.Redirect(w, r, "/plain", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusNotFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &ua
}

func TestFetch(t *testing.T) {
	srv, ua := fetchServer(t)
	ctx := context.Background()

	t.Run("html in windows-1252", func(t *testing.T) {
		doc, err := Load(ctx, srv.URL+"/cp1252", &Options{UserAgent: "thesisdb-test/1"})
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "html" || !strings.Contains(doc.Text, "Café au lait") || !strings.Contains(doc.Text, "5 € per kilo – a record") {
			t.Errorf("kind %s text %q", doc.Kind, doc.Text)
		}
		if doc.Title != "Café notes" {
			t.Errorf("title %q", doc.Title)
		}
		if *ua != "thesisdb-test/1" {
			t.Errorf("User-Agent %q", *ua)
		}
	})
	t.Run("default user agent", func(t *testing.T) {
		if _, err := Load(ctx, srv.URL+"/cp1252", nil); err != nil {
			t.Fatal(err)
		}
		if *ua != DefaultUserAgent {
			t.Errorf("User-Agent %q", *ua)
		}
	})
	t.Run("text", func(t *testing.T) {
		doc, err := Load(ctx, srv.URL+"/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "text" || doc.Text != "Plain thesis text: bullish on copper." || doc.Source != srv.URL+"/plain" {
			t.Errorf("%+v", doc)
		}
	})
	t.Run("pdf", func(t *testing.T) {
		doc, err := Load(ctx, srv.URL+"/doc.pdf", nil)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "pdf" || len(doc.Text) < 100 {
			t.Errorf("kind %s, %d bytes of text", doc.Kind, len(doc.Text))
		}
	})
	t.Run("sniffed", func(t *testing.T) {
		doc, err := Load(ctx, srv.URL+"/sniff", nil)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "html" || doc.Text != "Sniffed page body." {
			t.Errorf("kind %s text %q", doc.Kind, doc.Text)
		}
	})
	t.Run("size limit", func(t *testing.T) {
		for _, p := range []string{"/big", "/announced"} {
			_, err := Load(ctx, srv.URL+p, &Options{MaxFetchBytes: 50_000})
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s: err %v, want ErrTooLarge", p, err)
			}
		}
		if _, err := Load(ctx, srv.URL+"/big", &Options{MaxFetchBytes: 200_000}); err != nil {
			t.Errorf("under the limit: %v", err)
		}
	})
	t.Run("redirects", func(t *testing.T) {
		doc, err := Load(ctx, srv.URL+"/redirect/4", nil) // 5 redirects: allowed
		if err != nil {
			t.Fatal(err)
		}
		if doc.Source != srv.URL+"/plain" {
			t.Errorf("source %q, want the final URL", doc.Source)
		}
		if _, err := Load(ctx, srv.URL+"/redirect/5", nil); err == nil || !strings.Contains(err.Error(), "redirects") {
			t.Errorf("6 redirects: err %v", err)
		}
	})
	t.Run("status", func(t *testing.T) {
		_, err := Load(ctx, srv.URL+"/missing", nil)
		if err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("err %v, want the 404", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		_, err := Load(ctx, srv.URL+"/slow", &Options{Timeout: 100 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want a deadline error", err)
		}
	})
	t.Run("not http", func(t *testing.T) {
		if _, err := Load(ctx, "http://", nil); err == nil {
			t.Error("no error for a URL without host")
		}
	})
}

func TestKindOfContent(t *testing.T) {
	for _, tc := range []struct{ header, path, data, want string }{
		{"application/pdf", "/x", "", "pdf"},
		{"application/x-pdf", "/x", "", "pdf"},
		{"text/html; charset=utf-8", "/x.pdf", "", "html"},
		{"application/xhtml+xml", "/x", "", "html"},
		{"text/plain", "/notes.md", "", "markdown"},
		{"text/markdown", "/x", "", "markdown"},
		{"text/plain", "/x", "", "text"},
		{"", "/report.pdf", "", "pdf"},
		{"application/octet-stream", "/x", "%PDF-1.7\n", "pdf"},
		{"", "/x", "<html><body>x</body></html>", "html"},
		{"", "/x", "just words", "text"},
		{"", "/x", "\x00\x01\x02\x03", ""},
	} {
		if got := kindOfContent(tc.header, tc.path, []byte(tc.data)); got != tc.want {
			t.Errorf("kindOfContent(%q, %q, %q) = %q, want %q", tc.header, tc.path, tc.data, got, tc.want)
		}
	}
}
