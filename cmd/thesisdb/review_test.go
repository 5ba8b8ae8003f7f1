package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// TestExportReviewedRoundTrip reviews a run's extraction, exports the
// reviews as gold and scores the same run against it: every data point the
// analysts left alone or marked right matches, and each one they marked
// wrong, corrected or added shows as exactly the error it is.
func TestExportReviewedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.sqlite")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "../../samples/market-commentary.txt", "../../samples/research-note-energy.txt"); code != 0 {
		t.Fatalf("ingest exited %d:\n%s", code, stderr)
	}
	// Nothing reviewed yet: nothing exported, and a note saying why.
	out, stderr, code := thesisdb(t, "--db", db, "export", "--reviewed")
	if code != 0 || out != "" || !strings.Contains(stderr, "no document has been reviewed") {
		t.Fatalf("export --reviewed before any review: exit %d, stdout %q, stderr %q", code, out, stderr)
	}

	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Reader()
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Query(ctx, `SELECT document_id, thesis_id, data_point_id FROM current_data_points
		WHERE document_id = (SELECT min(document_id) FROM current_data_points) ORDER BY data_point_id`, 0)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	var docID, thesisID int64
	var points []int64
	for _, row := range res.Rows {
		docID, thesisID = row[0].(int64), row[1].(int64)
		points = append(points, row[2].(int64))
	}
	if len(points) < 4 {
		t.Fatalf("document %d has %d data points, want at least 4", docID, len(points))
	}
	reviews := []store.ReviewInput{
		{DataPointID: points[0], Verdict: store.VerdictRight, Reviewer: "ann"},
		{DataPointID: points[1], Verdict: store.VerdictWrong, Reviewer: "ann"},
		{DataPointID: points[2], Reviewer: "bob", Corrections: []store.Correction{{Field: "value", New: "a value no extractor wrote"}}},
	}
	for _, r := range reviews {
		if _, err := s.ReviewDataPoint(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddDataPoint(ctx, store.AddedDataPoint{ThesisID: thesisID, Indicator: "A missed figure", Value: "42%", Reviewer: "bob"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	gold, data := exportReviewed(t, db, dir)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1 {
		t.Fatalf("export --reviewed wrote %d records, want 1 (one document reviewed):\n%s", len(lines), data)
	}
	var rec struct {
		Document   store.ExportDocument `json:"document"`
		Extraction schema.Extraction    `json:"extraction"`
		Review     store.ReviewSummary  `json:"review"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Document.ID != docID || rec.Review.Right != 1 || rec.Review.Wrong != 1 || rec.Review.Corrected != 1 || rec.Review.Added != 1 ||
		rec.Review.Unreviewed != len(points)-3 {
		t.Errorf("record = document %d, review %+v; want document %d, 1 right, 1 wrong, 1 corrected, 1 added, %d unreviewed",
			rec.Document.ID, rec.Review, docID, len(points)-3)
	}
	// The gold is a valid extraction.
	raw, _ := json.Marshal(rec.Extraction)
	if _, err := schema.Parse(raw); err != nil {
		t.Errorf("reviewed gold is not a valid extraction: %v", err)
	}

	out, stderr, code = thesisdb(t, "--db", db, "eval", "--gold", gold, "--run", "1", "--format", "json")
	if code != 0 {
		t.Fatalf("eval exited %d:\n%s", code, stderr)
	}
	var rep struct {
		Documents []struct {
			DocumentID int64 `json:"document_id"`
			Match      string
			Fields     map[string]struct{ TP, FP, FN int }
			Omissions  []schema.DataPoint
			Unmatched  []schema.DataPoint
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval output: %v\n%s", err, out)
	}
	if len(rep.Documents) != 1 || rep.Documents[0].DocumentID != docID || rep.Documents[0].Match != "exact" {
		t.Fatalf("eval scored %+v, want document %d matched exactly", rep.Documents, docID)
	}
	// The wrong and the corrected point are extracted but not in the
	// gold (2 FP); the corrected and the added are in the gold but not
	// extracted (2 FN); every other point matches.
	d := rep.Documents[0]
	if c := d.Fields["data_points"]; c.TP != len(points)-2 || c.FP != 2 || c.FN != 2 {
		t.Errorf("data points = %+v, want TP %d, FP 2, FN 2", c, len(points)-2)
	}
	var omitted []string
	for _, dp := range d.Omissions {
		omitted = append(omitted, dp.Value)
	}
	if strings.Join(omitted, "|") != "a value no extractor wrote|42%" && strings.Join(omitted, "|") != "42%|a value no extractor wrote" {
		t.Errorf("omissions = %q, want the corrected and the added value", omitted)
	}
	if c := d.Fields["stance"]; c.TP != 1 || c.FP != 0 {
		t.Errorf("stance = %+v, want the unreviewed stance to match", c)
	}
}

// exportReviewed runs `export --reviewed` into dir/gold/reviewed.jsonl and
// returns the gold folder and what was written.
func exportReviewed(t *testing.T, db, dir string) (gold string, data []byte) {
	t.Helper()
	gold = filepath.Join(dir, "gold")
	if err := os.Mkdir(gold, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := thesisdb(t, "--db", db, "export", "--reviewed", "-o", filepath.Join(gold, "reviewed.jsonl")); code != 0 {
		t.Fatalf("export --reviewed exited %d:\n%s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(gold, "reviewed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return gold, data
}
