package extract

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStripUserinfoAndRedactURL(t *testing.T) {
	for _, c := range []struct{ in, stripped, redacted string }{
		{"http://user:pw@127.0.0.1:8080/x.html", "http://127.0.0.1:8080/x.html", "http://user:xxxxx@127.0.0.1:8080/x.html"},
		{"https://token@host/a?b=c#d", "https://host/a?b=c#d", "https://xxxxx@host/a?b=c#d"},
		{"HTTPS://u:p@Host/", "https://Host/", "https://u:xxxxx@Host/"},
		{"http://u:p@host/%zz", "http://host/%zz", "http://xxxxx@host/%zz"},
		{"http://host/path@x", "http://host/path@x", "http://host/path@x"},
		{"notes/a@b.md", "notes/a@b.md", "notes/a@b.md"},
		{"http://host/x.html", "http://host/x.html", "http://host/x.html"},
	} {
		if got := StripUserinfo(c.in); got != c.stripped {
			t.Errorf("StripUserinfo(%q) = %q, want %q", c.in, got, c.stripped)
		}
		if got := RedactURL(c.in); got != c.redacted {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.redacted)
		}
	}
}

// A URL with credentials is fetched with them, but the document's source
// and every error name it without the password.
func TestFetchWithCredentialsStoresNone(t *testing.T) {
	var gotUser, gotPass string
	mux := http.NewServeMux()
	mux.HandleFunc("/x.txt", func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "Copper looks cheap at $4.10 per pound.\n")
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/x.txt", http.StatusFound) })
	mux.HandleFunc("/gone", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	withCreds := strings.Replace(srv.URL, "http://", "http://analyst:s3cret-pw@", 1)

	for _, path := range []string{"/x.txt", "/old"} {
		doc, err := Load(context.Background(), withCreds+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Source != srv.URL+"/x.txt" {
			t.Errorf("%s: source %q, want %q", path, doc.Source, srv.URL+"/x.txt")
		}
	}
	if gotUser != "analyst" || gotPass != "s3cret-pw" {
		t.Errorf("the fetch did not use the credentials: %q %q", gotUser, gotPass)
	}
	_, err := Load(context.Background(), withCreds+"/gone", nil)
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "404") {
		t.Errorf("404 error %v: want it reported without the password", err)
	}
	// A connection failure: net/http's error names the URL too.
	closed := httptest.NewServer(http.NotFoundHandler())
	dead := strings.Replace(closed.URL, "http://", "http://tok3n-only@", 1) + "/x.txt"
	closed.Close()
	_, err = Load(context.Background(), dead, nil)
	if err == nil || strings.Contains(err.Error(), "tok3n-only") {
		t.Errorf("connection error %v: want it without the user name (a token)", err)
	}
}
