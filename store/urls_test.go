package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestKnownURLs(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.KnownURL(ctx, "https://a.example/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown URL: err = %v, want ErrNotFound", err)
	}
	runID, err := db.StartRun(ctx, RunSpec{Kind: "scrape", Extractor: "rules", PromptVersion: "p", SchemaVersion: "s"})
	if err != nil {
		t.Fatal(err)
	}
	docID, err := db.SaveDocument(ctx, runID, testDoc(1), Outcome{Extraction: testExtraction("bullish")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k := KnownURL{URL: "https://a.example/x", CanonicalURL: "https://a.example/post/x", Source: "blog", ETag: `"v1"`,
		LastModified: "Sun, 01 Mar 2026 10:00:00 GMT", ContentSHA256: "abc", DocumentID: docID, LastStatus: 200,
		LastMod: now.Add(-time.Hour), LastFetchedAt: now, NextFetchAt: now.Add(time.Hour)}
	if err := db.SaveKnownURL(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := db.KnownURL(ctx, k.URL)
	if err != nil {
		t.Fatal(err)
	}
	if *got != k {
		t.Fatalf("read back\n%+v\nwant\n%+v", *got, k)
	}

	// An update replaces the validators and keeps one row.
	k.ETag, k.LastStatus, k.LastError, k.NextFetchAt = `"v2"`, 500, "server answered 500", time.Time{}
	if err := db.SaveKnownURL(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.KnownURL(ctx, k.URL); got.ETag != `"v2"` || got.LastError != k.LastError || !got.NextFetchAt.IsZero() {
		t.Fatalf("after update: %+v", got)
	}

	// The same article under another address is found by its canonical URL.
	alias, err := db.KnownCanonical(ctx, "https://a.example/post/x", "https://a.example/x?ref=2")
	if err != nil || alias.URL != k.URL || alias.DocumentID != docID {
		t.Fatalf("KnownCanonical = %+v, %v", alias, err)
	}
	if _, err := db.KnownCanonical(ctx, "https://a.example/post/x", k.URL); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a URL is not its own alias: err = %v", err)
	}

	// Due URLs: no next fetch set is due; a future one is not.
	other := KnownURL{URL: "https://a.example/y", Source: "blog", LastStatus: 304, LastFetchedAt: now, NextFetchAt: now.Add(time.Hour)}
	if err := db.SaveKnownURL(ctx, other); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueURLs(ctx, "blog", now, 0)
	if err != nil || len(due) != 1 || due[0].URL != k.URL {
		t.Fatalf("DueURLs = %+v, %v", due, err)
	}
	if due, _ = db.DueURLs(ctx, "blog", now.Add(2*time.Hour), 0); len(due) != 2 {
		t.Fatalf("later, %d due, want 2", len(due))
	}

	// A fetch failure is in the failures view at stage fetch and counted.
	if err := db.RecordFetchFailure(ctx, runID, "https://a.example/gone", "fetch: server answered 404 Not Found"); err != nil {
		t.Fatal(err)
	}
	var stage, source string
	if err := db.r.QueryRowContext(ctx, `SELECT stage, source FROM failures WHERE run_id = ? AND stage = 'fetch'`, runID).Scan(&stage, &source); err != nil {
		t.Fatal(err)
	}
	if source != "https://a.example/gone" {
		t.Fatalf("failure source %q", source)
	}
	if err := db.RecordLoadFailure(ctx, runID, "x.bin", "", "unsupported"); err != nil {
		t.Fatal(err)
	}
	if err := db.r.QueryRowContext(ctx, `SELECT stage FROM failures WHERE source = 'x.bin'`).Scan(&stage); err != nil || stage != "load" {
		t.Fatalf("load failure stage %q, %v", stage, err)
	}
	run, err := db.GetRun(ctx, runID)
	if err != nil || run.DocumentsFailed != 2 {
		t.Fatalf("run failed count %d, %v", run.DocumentsFailed, err)
	}

	// Source schedules.
	if next, err := db.SourceDue(ctx, "blog"); err != nil || !next.IsZero() {
		t.Fatalf("never scraped: %v, %v", next, err)
	}
	if err := db.SourceScraped(ctx, "blog", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if next, err := db.SourceDue(ctx, "blog"); err != nil || !next.Equal(now.Add(time.Hour)) {
		t.Fatalf("next run %v, %v", next, err)
	}
}
