package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/internal/hostile"
)

// TestIngestSurvivesEveryHostileFamily ingests one file of each family
// that once took thesisdb down or stalled it, beside good documents: each
// hostile file fails with its own reason, the good ones are stored, the run
// ends done with the failures counted, and the exit status is 1.
func TestIngestSurvivesEveryHostileFamily(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"xref-size.pdf":     hostile.HugeXrefSize(),
		"xref-index.pdf":    hostile.HugeXrefIndex(),
		"page-cycle.pdf":    hostile.PageTreeCycle(),
		"parent-cycle.pdf":  hostile.ParentCycle(),
		"contents-200k.pdf": hostile.ContentsArray(200_000),
		"flate-bomb.pdf":    hostile.FlateBomb(1 << 30),
		"keyword-bomb.pdf":  hostile.HugeKeyword(1 << 30),
		"empty.txt":         nil,
		"binary.txt":        {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe},
		"percent.txt":       hostile.PercentRun(3 << 20),
		"good.pdf":          hostile.Valid("Rates Research. Bullish. Spreads at 284 bps according to ICE."),
		"good.txt":          []byte("Credit Research\n\nBullish. High yield spreads at 284 bps, according to ICE.\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := thesisdb(t, "--db", db, "ingest", "--concurrency", "2", dir)
	if code != 1 {
		t.Fatalf("ingest exited %d, want 1:\n%s", code, stderr)
	}
	want := map[string]string{
		"xref-size.pdf":     "declares /Size 100000000000",
		"xref-index.pdf":    "subsection of objects 100000000000",
		"page-cycle.pdf":    "lists itself as its own kid",
		"parent-cycle.pdf":  "is its own /Parent",
		"contents-200k.pdf": "a /Contents array has more than 10000 streams",
		"flate-bomb.pdf":    "longer than 16 MiB",
		"keyword-bomb.pdf":  "longer than 16 MiB",
		"empty.txt":         "the file has 0 bytes",
		"binary.txt":        "binary",
	}
	lines := strings.Split(stderr, "\n")
	for name, reason := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, "failed ") && strings.Contains(l, name) {
				found = true
				if !strings.Contains(l, reason) {
					t.Errorf("%s failed, but not saying %q:\n%s", name, reason, l)
				}
			}
		}
		if !found {
			t.Errorf("no failure line for %s:\n%s", name, stderr)
		}
	}
	for _, name := range []string{"good.pdf", "good.txt", "percent.txt"} {
		if !containsLine(lines, "ok ", name) {
			t.Errorf("%s was not stored:\n%s", name, stderr)
		}
	}

	out, _, code := thesisdb(t, "--db", db, "query", "--format", "json",
		"SELECT status, documents_ok, documents_failed FROM runs")
	if code != 0 {
		t.Fatalf("query runs exited %d", code)
	}
	var runs []struct {
		Status string `json:"status"`
		OK     int    `json:"documents_ok"`
		Failed int    `json:"documents_failed"`
	}
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(runs) != 1 || runs[0].Status != "done" || runs[0].OK != 3 || runs[0].Failed != len(want) {
		t.Errorf("runs = %+v, want one done run with 3 ok and %d failed", runs, len(want))
	}
	// The rules extractor kept its cap on the 3 MB of "1% ", and said so.
	out, _, _ = thesisdb(t, "--db", db, "query", "--format", "csv",
		"SELECT count(*), max(d.warnings LIKE '%data points%') FROM current_data_points p JOIN documents d ON d.id = p.document_id WHERE d.source LIKE '%percent.txt'")
	if got := strings.TrimSpace(strings.Split(out, "\n")[1]); got != "500,1" {
		t.Errorf("percent.txt: data points and warning = %q, want 500,1", got)
	}
}

// containsLine reports whether a line starting with prefix mentions name.
func containsLine(lines []string, prefix, name string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, name) {
			return true
		}
	}
	return false
}

// TestIngestHostilePDFURLs fetches the PDFs that once killed the process
// from URLs, beside a good one: each fails with its reason, the good one is
// stored, and the exit status is 1.
func TestIngestHostilePDFURLs(t *testing.T) {
	files := map[string][]byte{
		"/xref-size.pdf":  hostile.HugeXrefSize(),
		"/flate-bomb.pdf": hostile.FlateBomb(1 << 30),
		"/page-cycle.pdf": hostile.PageTreeCycle(),
		"/good.pdf":       hostile.Valid("Rates Research. Bullish. Spreads at 284 bps according to ICE."),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Write(b)
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "t.sqlite")
	args := []string{"--db", db, "ingest"}
	for _, p := range []string{"/xref-size.pdf", "/flate-bomb.pdf", "/page-cycle.pdf", "/good.pdf"} {
		args = append(args, srv.URL+p)
	}
	_, stderr, code := thesisdb(t, args...)
	if code != 1 {
		t.Fatalf("ingest exited %d, want 1:\n%s", code, stderr)
	}
	lines := strings.Split(stderr, "\n")
	for name, reason := range map[string]string{
		"xref-size.pdf":  "declares /Size 100000000000",
		"flate-bomb.pdf": "longer than 16 MiB",
		"page-cycle.pdf": "lists itself as its own kid",
	} {
		if !containsLine(lines, "failed ", name) || !strings.Contains(stderr, reason) {
			t.Errorf("%s did not fail saying %q:\n%s", name, reason, stderr)
		}
	}
	if !containsLine(lines, "ok ", "good.pdf") {
		t.Errorf("good.pdf was not stored:\n%s", stderr)
	}
}
