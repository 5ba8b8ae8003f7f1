package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// TestServeReviewExportEval is the analyst's whole loop through the real
// commands: thesisdb serve --review, a data point marked wrong in headless
// Chromium, thesisdb export --reviewed, thesisdb eval against it. It skips
// when no Chromium is installed (THESISDB_CHROMIUM names one).
func TestServeReviewExportEval(t *testing.T) {
	exe := os.Getenv("THESISDB_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if exe != "" {
			break
		}
		exe, _ = exec.LookPath(name)
	}
	if exe == "" {
		t.Skip("no Chromium found (install the Debian package chromium, or set THESISDB_CHROMIUM)")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "t.sqlite")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "../../samples/market-commentary.txt"); code != 0 {
		t.Fatalf("ingest exited %d:\n%s", code, stderr)
	}

	// thesisdb serve --review on any free loopback port; it prints its URL.
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var serveErr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"--db", db, "serve", "--review", "--reviewer", "ann", "--addr", "127.0.0.1:0"}, strings.NewReader(""), pw, &serveErr)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		stop()
		<-done
		t.Fatalf("serve printed no URL: %v\n%s", err, serveErr.String())
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSuffix(strings.TrimSpace(line), "/")

	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.UserDataDir(t.TempDir()))...)
	bctx, bcancel := chromedp.NewContext(actx)
	// A deadline so that a wedged browser fails the test instead of
	// hanging it; nothing is asserted about time.
	tctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/documents/1"),
		chromedp.Click(chromedp.CSS(`tr.dp button[value="wrong"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.dp .verdict-wrong`)),
	)
	var wrongID string
	if err == nil {
		wrongID, err = chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('tr.dp .verdict-wrong').closest('tr').dataset.dp`))
	}
	tcancel()
	bcancel()
	acancel()
	stop()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d:\n%s", code, serveErr.String())
	}
	if err != nil {
		t.Fatalf("reviewing in the browser: %v\n%s", err, serveErr.String())
	}

	gold, data := exportReviewed(t, db, dir)
	var rec struct {
		Extraction schema.Extraction   `json:"extraction"`
		Review     store.ReviewSummary `json:"review"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatalf("export --reviewed: %v\n%s", err, data)
	}
	if rec.Review.Wrong != 1 || len(rec.Review.Reviewers) != 1 || rec.Review.Reviewers[0] != "ann" {
		t.Errorf("review summary = %+v, want the one wrong data point by ann", rec.Review)
	}
	out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "json",
		"SELECT indicator, value, (SELECT count(*) FROM data_points) AS n FROM data_points WHERE id = "+wrongID)
	var rows []struct {
		Indicator, Value string
		N                int
	}
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 {
		t.Fatalf("query: %v %s %s", err, out, stderr)
	}
	kept := 0
	for _, th := range rec.Extraction.Theses {
		for _, dp := range th.DataPoints {
			kept++
			if dp.Indicator == rows[0].Indicator && dp.Value == rows[0].Value {
				t.Errorf("the gold keeps the data point marked wrong (%s: %s)", dp.Indicator, dp.Value)
			}
		}
	}
	if kept != rows[0].N-1 {
		t.Errorf("the gold has %d data points, want all %d but the wrong one", kept, rows[0].N-1)
	}
	out, stderr, code = thesisdb(t, "--db", db, "eval", "--gold", gold, "--format", "json")
	if code != 0 {
		t.Fatalf("eval exited %d:\n%s", code, stderr)
	}
	var rep struct {
		Fields map[string]struct{ FP, FN int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if c := rep.Fields["data_points"]; c.FP != 1 || c.FN != 0 {
		t.Errorf("eval against the review: data points %+v, want the wrong one as the only false positive", c)
	}
}
