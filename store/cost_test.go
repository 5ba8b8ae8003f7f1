package store

import (
	"context"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// TestUnknownCostIsNull stores a cost that could not be priced as NULL,
// in the extraction and in its run's total, and reads it back as
// unknown; a priced run keeps its figure.
func TestUnknownCostIsNull(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	priced, unpriced := startRun(t, db, "p1"), startRun(t, db, "p2")
	if _, err := db.SaveDocument(ctx, priced, testDoc(1), Outcome{Extraction: testExtraction(schema.Bullish),
		Usage: schema.Usage{PromptTokens: 1000, Requests: 1, CostUSD: 0.25}}); err != nil {
		t.Fatal(err)
	}
	for i, u := range []schema.Usage{
		{PromptTokens: 1000, Requests: 1, CostUnknown: true},
		{PromptTokens: 500, Requests: 1, CostUSD: 0.1}, // priced, but the total is unknown already
	} {
		if _, err := db.SaveDocument(ctx, unpriced, testDoc(2+i), Outcome{Extraction: testExtraction(schema.Bullish), Usage: u}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := db.GetRun(ctx, priced)
	if err != nil {
		t.Fatal(err)
	}
	if r.Usage.CostUnknown || r.Usage.CostUSD != 0.25 {
		t.Errorf("priced run: %+v", r.Usage)
	}
	r, err = db.GetRun(ctx, unpriced)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Usage.CostUnknown || r.Usage.PromptTokens != 1500 {
		t.Errorf("unpriced run: %+v; want the cost unknown", r.Usage)
	}
	var nulls int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM extractions WHERE cost_usd IS NULL`).Scan(&nulls); err != nil {
		t.Fatal(err)
	}
	if nulls != 1 {
		t.Errorf("%d extractions with a NULL cost, want 1", nulls)
	}
	var u schema.Usage
	u.Add(schema.Usage{CostUSD: 1})
	u.Add(schema.Usage{CostUnknown: true})
	if !u.CostUnknown {
		t.Error("Add lost the unknown cost")
	}
}
