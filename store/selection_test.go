package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// jobFixture stores documents 1..4 in run 1 (document 3 failed) and
// re-extracts 1 and 3 in run 2 (3 fails again, 1 succeeds).
func jobFixture(t *testing.T) (*DB, int64, int64) {
	t.Helper()
	ctx := context.Background()
	db := openTest(t)
	r1 := startRun(t, db, "v1")
	for n := 1; n <= 4; n++ {
		out := Outcome{Extraction: testExtraction(schema.Bullish)}
		if n == 3 {
			out = Outcome{Err: errors.New("model refused")}
		}
		if _, err := db.SaveDocument(ctx, r1, testDoc(n), out); err != nil {
			t.Fatal(err)
		}
	}
	r2 := startRun(t, db, "v2")
	if err := db.SaveExtraction(ctx, r2, 1, Outcome{Extraction: testExtraction(schema.Bearish)}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveExtraction(ctx, r2, 3, Outcome{Err: errors.New("timeout")}); err != nil {
		t.Fatal(err)
	}
	return db, r1, r2
}

func TestSelectDocuments(t *testing.T) {
	ctx := context.Background()
	db, r1, r2 := jobFixture(t)
	tests := []struct {
		sel  Selection
		want []int64
	}{
		{Selection{}, []int64{1, 2, 3, 4}},
		{Selection{Where: "source IN ('note-2.txt', 'note-4.txt')"}, []int64{2, 4}},
		{Selection{Failed: true}, []int64{3}},
		{Selection{Run: r2}, []int64{1, 3}},
		{Selection{Run: r1, Where: "id > 1", Failed: true}, []int64{3}},
	}
	for _, tt := range tests {
		got, err := db.SelectDocuments(ctx, tt.sel)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.sel, got, err, tt.want)
		}
	}

	// A frozen selection ignores later documents and extractions.
	var frozen Selection
	frozen.Failed = true
	if err := db.Freeze(ctx, &frozen); err != nil {
		t.Fatal(err)
	}
	r3 := startRun(t, db, "v3")
	if err := db.SaveExtraction(ctx, r3, 3, Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveDocument(ctx, r3, testDoc(5), Outcome{Err: errors.New("x")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.SelectDocuments(ctx, frozen); !reflect.DeepEqual(got, []int64{3}) {
		t.Errorf("frozen --failed = %v, want [3]", got)
	}
	if got, _ := db.SelectDocuments(ctx, Selection{Failed: true}); !reflect.DeepEqual(got, []int64{5}) {
		t.Errorf("live --failed = %v, want [5]", got)
	}
	all := Selection{}
	if err := db.Freeze(ctx, &all); err != nil || all.MaxDocumentID != 5 {
		t.Fatalf("freeze: %+v %v", all, err)
	}

	// The analyst's condition cannot write, and a missing run is an error.
	if _, err := db.SelectDocuments(ctx, Selection{Where: "1) OR (SELECT 1 FROM (DELETE FROM documents)"}); err == nil {
		t.Error("a DELETE smuggled into --where was accepted")
	}
	if _, err := db.SelectDocuments(ctx, Selection{Where: "id = 1; DELETE FROM documents"}); err == nil {
		t.Error("two statements in --where were accepted")
	}
	if n := count(t, db, "SELECT count(*) FROM documents"); n != 5 {
		t.Errorf("%d documents after refused writes", n)
	}
	if _, err := db.SelectDocuments(ctx, Selection{Run: 99}); !errors.Is(err, ErrNotFound) {
		t.Errorf("--run 99: %v", err)
	}
	if s := (Selection{Where: "x", Failed: true, Run: 2}).String(); s != `--where "x" --failed --run 2` {
		t.Errorf("String() = %s", s)
	}
}

func TestUncachedAndNotExtractedIn(t *testing.T) {
	ctx := context.Background()
	db, _, r2 := jobFixture(t)
	all := []int64{1, 2, 3, 4}
	got, err := db.Uncached(ctx, all, CacheKey{Extractor: "rules", PromptVersion: "v1", SchemaVersion: schema.Version})
	if err != nil || !reflect.DeepEqual(got, []int64{3}) {
		t.Errorf("uncached for v1 = %v, %v; want [3]", got, err)
	}
	got, _ = db.Uncached(ctx, all, CacheKey{Extractor: "rules", PromptVersion: "v2", SchemaVersion: schema.Version})
	if !reflect.DeepEqual(got, []int64{2, 3, 4}) {
		t.Errorf("uncached for v2 = %v; want [2 3 4]", got)
	}
	got, _ = db.Uncached(ctx, all, CacheKey{Extractor: "llm", Model: "m", PromptVersion: "v1", SchemaVersion: schema.Version})
	if !reflect.DeepEqual(got, all) {
		t.Errorf("uncached for another extractor = %v", got)
	}
	got, err = db.NotExtractedIn(ctx, r2, all)
	if err != nil || !reflect.DeepEqual(got, []int64{2, 4}) {
		t.Errorf("not extracted in run 2 = %v, %v; want [2 4]", got, err)
	}
}
