package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// reviewFixture stores one document with testExtraction and returns the
// ids of its thesis and its two data points (HY OAS, Small-cap P/E).
func reviewFixture(t *testing.T, db *DB) (docID, thesis, hy, pe int64) {
	t.Helper()
	ctx := context.Background()
	run := startRun(t, db, "p1")
	docID, err := db.SaveDocument(ctx, run, testDoc(1), Outcome{Extraction: testExtraction(schema.Bullish)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.r.QueryRow(`SELECT thesis_id, data_point_id FROM current_data_points WHERE indicator = 'HY OAS'`).Scan(&thesis, &hy); err != nil {
		t.Fatal(err)
	}
	if err := db.r.QueryRow(`SELECT data_point_id FROM current_data_points WHERE indicator = 'Small-cap P/E'`).Scan(&pe); err != nil {
		t.Fatal(err)
	}
	return docID, thesis, hy, pe
}

// extractionRows is a fingerprint of every extraction row a review must
// leave alone.
func extractionRows(t *testing.T, db *DB) string {
	t.Helper()
	var s string
	if err := db.r.QueryRow(`SELECT group_concat(x, '|') FROM (
		SELECT json_array(id, indicator, value, source, implication, quote) AS x FROM data_points
		UNION ALL SELECT json_array(id, stance, title) FROM theses
		UNION ALL SELECT result FROM extractions)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReviewsStoredApartFromExtractions(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	docID, thesis, hy, pe := reviewFixture(t, db)
	before := extractionRows(t, db)

	if _, err := db.ReviewDataPoint(ctx, ReviewInput{DataPointID: hy, Verdict: VerdictRight, Reviewer: "ann"}); err != nil {
		t.Fatal(err)
	}
	rv, err := db.ReviewDataPoint(ctx, ReviewInput{DataPointID: pe, Reviewer: "bob", Note: "P/E is forward",
		Corrections: []Correction{{Field: "value", New: "17.5x"}, {Field: "stance", New: "Bearish"}, {Field: "indicator", New: "Small-cap P/E"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The unchanged indicator is no correction; the old values are the
	// extracted ones; the stance is folded to lower case.
	if rv.Verdict != VerdictCorrected || len(rv.Corrections) != 2 ||
		rv.Corrections[0] != (Correction{Field: "value", Old: "18x", New: "17.5x"}) ||
		rv.Corrections[1] != (Correction{Field: "stance", Old: "bullish", New: "bearish"}) || rv.ReviewedAt == "" {
		t.Errorf("correction review = %+v", rv)
	}
	// A second correction of the value sees the first as its old value.
	rv2, err := db.ReviewDataPoint(ctx, ReviewInput{DataPointID: pe, Reviewer: "ann", Corrections: []Correction{{Field: "value", New: "17x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if rv2.Corrections[0].Old != "17.5x" {
		t.Errorf("second correction's old value = %q, want the first correction's 17.5x", rv2.Corrections[0].Old)
	}
	added, err := db.AddDataPoint(ctx, AddedDataPoint{ThesisID: thesis, Indicator: "IG OAS", Value: "80 bps", Source: "ICE",
		Quote: "IG at 80 bps.", Reviewer: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if added.DocumentID != docID || added.ID == 0 || added.ReviewedAt == "" {
		t.Errorf("added = %+v", added)
	}
	if got := extractionRows(t, db); got != before {
		t.Errorf("reviews changed extraction rows:\nbefore %s\nafter  %s", before, got)
	}

	dr, err := db.DocumentReviews(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	if len(dr.Reviews) != 3 || len(dr.Added) != 1 || dr.Reviews[1].Note != "P/E is forward" {
		t.Fatalf("document reviews = %+v", dr)
	}
	if st := dr.State[pe]; st.Verdict != VerdictCorrected || st.Fields["value"] != "17x" || st.Fields["stance"] != "bearish" || st.Reviews != 2 || st.Reviewer != "ann" {
		t.Errorf("state of P/E = %+v", st)
	}
	// The stance corrected on one data point holds for its thesis' others.
	if st := dr.State[hy]; st.Verdict != VerdictRight || st.Fields["stance"] != "bearish" {
		t.Errorf("state of HY OAS = %+v", st)
	}

	// The view shows the corrected values of reviewed and added points.
	rows, err := db.r.Query(`SELECT origin, verdict, indicator, value, coalesce(data_source, ''), thesis_stance, reviewer
		FROM reviewed_data_points WHERE document_id = ? ORDER BY origin, data_point_id`, docID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][7]string
	for rows.Next() {
		var r [7]string
		if err := rows.Scan(&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := [][7]string{
		{"added", "added", "IG OAS", "80 bps", "ICE", "bearish", "ann"},
		{"extracted", "right", "HY OAS", "284 bps", "Fidelity", "bearish", "ann"},
		{"extracted", "corrected", "Small-cap P/E", "17x", "", "bearish", "ann"},
	}
	if len(got) != len(want) {
		t.Fatalf("reviewed_data_points = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reviewed_data_points row %d = %v, want %v", i, got[i], want[i])
		}
	}

	// The read-only connection reads the same.
	r, err := db.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dr2, err := r.DocumentReviews(ctx, docID)
	if err != nil || len(dr2.Reviews) != 3 {
		t.Errorf("reader's document reviews = %+v, %v", dr2, err)
	}
}

func TestReviewRefusals(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	_, thesis, hy, _ := reviewFixture(t, db)
	bad := []ReviewInput{
		{DataPointID: hy, Verdict: "maybe", Reviewer: "ann"},
		{DataPointID: hy, Verdict: VerdictRight},
		{DataPointID: hy, Verdict: VerdictRight, Reviewer: "a\nb"},
		{DataPointID: hy, Reviewer: "ann", Corrections: []Correction{{Field: "quote", New: "x"}}},
		{DataPointID: hy, Reviewer: "ann", Corrections: []Correction{{Field: "value", New: " "}}},
		{DataPointID: hy, Reviewer: "ann", Corrections: []Correction{{Field: "stance", New: "sideways"}}},
		{DataPointID: hy, Reviewer: "ann", Corrections: []Correction{{Field: "value", New: "284 bps"}}}, // no change
		{DataPointID: hy, Verdict: VerdictWrong, Reviewer: "ann", Corrections: []Correction{{Field: "value", New: "1"}}},
		{DataPointID: hy, Reviewer: "ann", Corrections: []Correction{{Field: "value", New: "1"}, {Field: "value", New: "2"}}},
	}
	for _, in := range bad {
		if _, err := db.ReviewDataPoint(ctx, in); !errors.Is(err, ErrBadReview) {
			t.Errorf("%+v: err = %v, want ErrBadReview", in, err)
		}
	}
	if _, err := db.ReviewDataPoint(ctx, ReviewInput{DataPointID: 999, Verdict: VerdictRight, Reviewer: "ann"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown data point: err = %v, want ErrNotFound", err)
	}
	if _, err := db.AddDataPoint(ctx, AddedDataPoint{ThesisID: 999, Indicator: "x", Value: "1", Reviewer: "ann"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown thesis: err = %v, want ErrNotFound", err)
	}
	if _, err := db.AddDataPoint(ctx, AddedDataPoint{ThesisID: thesis, Indicator: "x", Reviewer: "ann"}); !errors.Is(err, ErrBadReview) {
		t.Errorf("added without value: err = %v, want ErrBadReview", err)
	}
	if n := count(t, db, `SELECT (SELECT count(*) FROM data_point_reviews) + (SELECT count(*) FROM added_data_points)`); n != 0 {
		t.Errorf("%d review rows stored by refused reviews", n)
	}
}

func TestReviewedGold(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	docID, thesis, hy, pe := reviewFixture(t, db)
	// A second document nobody reviews is not in the gold.
	if _, err := db.SaveDocument(ctx, startRun(t, db, "p1"), testDoc(2), Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.ReviewDataPoint(ctx, ReviewInput{DataPointID: hy, Verdict: VerdictWrong, Reviewer: "ann"}))
	must(db.ReviewDataPoint(ctx, ReviewInput{DataPointID: pe, Reviewer: "bob",
		Corrections: []Correction{{Field: "value", New: "17x"}, {Field: "source", New: "FactSet"}, {Field: "stance", New: "mixed"}}}))
	must(db.AddDataPoint(ctx, AddedDataPoint{ThesisID: thesis, Indicator: "IG OAS", Value: "80 bps", Reviewer: "ann"}))

	var recs []ReviewedRecord
	if err := db.ReviewedGold(ctx, func(r ReviewedRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Document.ID != docID || recs[0].Document.SHA256 == "" {
		t.Fatalf("gold records = %+v", recs)
	}
	var x schema.Extraction
	if err := json.Unmarshal(recs[0].Extraction, &x); err != nil {
		t.Fatal(err)
	}
	th := x.Theses[0]
	if th.Stance != schema.Mixed || len(th.DataPoints) != 2 {
		t.Fatalf("gold thesis = %+v", th)
	}
	if dp := th.DataPoints[0]; dp.Indicator != "Small-cap P/E" || dp.Value != "17x" || dp.Source == nil || *dp.Source != "FactSet" {
		t.Errorf("corrected data point = %+v", dp)
	}
	if dp := th.DataPoints[1]; dp.Indicator != "IG OAS" || dp.Value != "80 bps" {
		t.Errorf("added data point = %+v", dp)
	}
	s := recs[0].Review
	if s.Wrong != 1 || s.Corrected != 1 || s.Added != 1 || s.Right != 0 || len(s.Reviewers) != 2 {
		t.Errorf("summary = %+v", s)
	}
	// A wrong verdict followed by a correction brings the point back.
	must(db.ReviewDataPoint(ctx, ReviewInput{DataPointID: hy, Reviewer: "ann", Corrections: []Correction{{Field: "value", New: "290 bps"}}}))
	recs = nil
	if err := db.ReviewedGold(ctx, func(r ReviewedRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	x = schema.Extraction{}
	if err := json.Unmarshal(recs[0].Extraction, &x); err != nil {
		t.Fatal(err)
	}
	if n := len(x.Theses[0].DataPoints); n != 3 || x.Theses[0].DataPoints[0].Value != "290 bps" {
		t.Errorf("after correcting the wrong point: %+v", x.Theses[0].DataPoints)
	}
}

// The gold of a document is built from the extraction reviewed last; the
// reviews of the older one are counted as stale.
func TestReviewedGoldFollowsTheLatestReviewedExtraction(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	docID, _, hy, _ := reviewFixture(t, db)
	if _, err := db.ReviewDataPoint(ctx, ReviewInput{DataPointID: hy, Verdict: VerdictWrong, Reviewer: "ann"}); err != nil {
		t.Fatal(err)
	}
	run2 := startRun(t, db, "p2")
	if err := db.SaveExtraction(ctx, run2, docID, Outcome{Extraction: testExtraction(schema.Bearish)}); err != nil {
		t.Fatal(err)
	}
	var hy2 int64
	if err := db.r.QueryRow(`SELECT data_point_id FROM current_data_points WHERE indicator = 'HY OAS'`).Scan(&hy2); err != nil {
		t.Fatal(err)
	}
	if hy2 == hy {
		t.Fatal("the new extraction's data point has the old id")
	}
	if _, err := db.ReviewDataPoint(ctx, ReviewInput{DataPointID: hy2, Reviewer: "bob", Corrections: []Correction{{Field: "value", New: "290 bps"}}}); err != nil {
		t.Fatal(err)
	}
	var recs []ReviewedRecord
	if err := db.ReviewedGold(ctx, func(r ReviewedRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	var x schema.Extraction
	if err := json.Unmarshal(recs[0].Extraction, &x); err != nil {
		t.Fatal(err)
	}
	// The new extraction: bearish, both data points, HY OAS corrected;
	// the old wrong verdict does not apply.
	if x.Theses[0].Stance != schema.Bearish || len(x.Theses[0].DataPoints) != 2 || x.Theses[0].DataPoints[0].Value != "290 bps" {
		t.Errorf("gold = %+v", x.Theses[0])
	}
	if s := recs[0].Review; s.Stale != 1 || s.Corrected != 1 || s.Wrong != 0 || s.Unreviewed != 1 {
		t.Errorf("summary = %+v", s)
	}
	// The document page of the new extraction shows only its own state.
	dr, err := db.DocumentReviews(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	if len(dr.Reviews) != 2 || dr.State[hy].Verdict != VerdictWrong || dr.State[hy2].Verdict != VerdictCorrected {
		t.Errorf("document reviews = %+v", dr)
	}
}

// A reader of a database older than the review tables sees no reviews
// instead of failing.
func TestReaderWithoutReviewTables(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	docID, _, _, _ := reviewFixture(t, db)
	if _, err := db.w.ExecContext(ctx, `DROP VIEW reviewed_data_points; DROP TABLE data_point_corrections;
		DROP TABLE data_point_reviews; DROP TABLE added_data_points`); err != nil {
		t.Fatal(err)
	}
	r, err := db.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dr, err := r.DocumentReviews(ctx, docID)
	if err != nil || len(dr.Reviews) != 0 {
		t.Errorf("reviews = %+v, %v; want none and no error", dr, err)
	}
}
