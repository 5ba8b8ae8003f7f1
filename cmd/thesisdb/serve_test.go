package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveCLI starts `thesisdb serve` in-process and returns its URL, and a
// function that stops it and returns its exit status and stderr.
func serveCLI(t *testing.T, args ...string) (string, func() (int, string)) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), pw, &errb)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no URL (%v): %s", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(line), func() (int, string) {
		cancel()
		select {
		case code := <-done:
			return code, errb.String()
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop when its context was cancelled")
			return 0, ""
		}
	}
}

func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.sqlite")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "../../samples"); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	url, stop := serveCLI(t, "--db", db, "--addr", "127.0.0.1:0")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("printed URL %q", url)
	}
	resp, err := http.Get(url + "api/documents?limit=500")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Documents []struct{ ID int64 } `json:"documents"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	out, _, _ := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT count(*) FROM documents")
	samples, _ := strconv.Atoi(strings.TrimSpace(strings.Split(out, "\n")[1]))
	if err != nil || resp.StatusCode != 200 || len(got.Documents) != samples {
		t.Errorf("GET /api/documents: %d, %d documents for %d samples (%v)", resp.StatusCode, len(got.Documents), samples, err)
	}
	// Reads only: a POST is refused before any handler.
	if resp, err := http.Post(url+"api/csrf", "text/plain", nil); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without CSRF token: %v %v", resp.StatusCode, err)
	}
	if code, stderr := stop(); code != 0 {
		t.Errorf("serve exited %d: %s", code, stderr)
	}
}

func TestServeNeedsTokenOffLoopback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.sqlite")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "../../samples/blog-post.html"); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	t.Setenv("THESISDB_TOKEN", "")
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		_, stderr, code := thesisdb(t, "--db", db, "serve", "--addr", addr)
		if code == 0 || !strings.Contains(stderr, "needs an access token (--token or THESISDB_TOKEN)") {
			t.Errorf("serve --addr %s without a token: exit %d, %s", addr, code, stderr)
		}
	}
	// A database that is not there is not created.
	missing := filepath.Join(t.TempDir(), "none.sqlite")
	if _, stderr, code := thesisdb(t, "--db", missing, "serve", "--addr", "127.0.0.1:0"); code == 0 || !strings.Contains(stderr, "thesisdb ingest") {
		t.Errorf("serve of a missing database: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("serve created the missing database")
	}

	// With a token (here from the environment), every request needs it.
	t.Setenv("THESISDB_TOKEN", "tok-123")
	url, stop := serveCLI(t, "--db", db, "--addr", "127.0.0.1:0")
	for token, want := range map[string]int{"": 401, "nope": 401, "tok-123": 200} {
		req, _ := http.NewRequest("GET", url+"api/runs", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: %d, want %d", token, resp.StatusCode, want)
		}
	}
	if code, stderr := stop(); code != 0 {
		t.Errorf("serve exited %d: %s", code, stderr)
	}
}
