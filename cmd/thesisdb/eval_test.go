package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/schema"
)

func decodeEval(t *testing.T, out string) compare.EvalReport {
	t.Helper()
	var rep compare.EvalReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval JSON: %v\n%s", err, out)
	}
	return rep
}

// f1 reads a field's F1 from the report's JSON form.
func f1(t *testing.T, rep compare.EvalReport, doc int, field string) float64 {
	t.Helper()
	c, ok := rep.Documents[doc].Fields[field]
	if !ok {
		t.Fatalf("no field %s", field)
	}
	return c.F1()
}

func TestEvalSeeds(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "gold")); err != nil {
		t.Skip("../shared is absent")
	}
	noLLM(t)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", filepath.Join(shared, "seeds"))
	for _, match := range []string{"auto", "exact"} {
		out, _ := mustCLI(t, 0, "--db", db, "eval", "--gold", filepath.Join(shared, "gold"), "--match", match, "--format", "json")
		rep := decodeEval(t, out)
		if len(rep.Documents) != 3 || len(rep.Missing) != 0 {
			t.Fatalf("--match %s: scored %d gold documents, missing %v", match, len(rep.Documents), rep.Missing)
		}
		found := false
		for i, d := range rep.Documents {
			if !strings.HasPrefix(d.Gold, "003_") {
				continue
			}
			found = true
			if got := f1(t, rep, i, "data_points"); got != 1 {
				t.Errorf("--match %s: 003 data-point F1 = %v; omitted %v, unmatched %v", match, got, d.Omissions, d.Unmatched)
			}
			if d.Fields["views"].TP != 3 {
				t.Errorf("003 views: %+v", d.Fields["views"])
			}
		}
		if !found {
			t.Error("no 003 gold scored")
		}
	}
	out, _ := mustCLI(t, 0, "--db", db, "eval", "--gold", filepath.Join(shared, "gold"))
	for _, want := range []string{"FIELD", "data_points", "overall", "003_bb577d8276ca2149.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestEvalExportGold exports the samples' extractions as gold, corrupts
// the gold in known ways and checks each shows up where it should.
func TestEvalExportGold(t *testing.T) {
	noLLM(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", "../../samples")
	gold := filepath.Join(dir, "gold")
	if err := os.Mkdir(gold, 0o755); err != nil {
		t.Fatal(err)
	}
	exported, _ := mustCLI(t, 0, "--db", db, "export")

	// Unchanged, the export scores perfectly against itself.
	if err := os.WriteFile(filepath.Join(gold, "gold.jsonl"), []byte(exported), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := mustCLI(t, 0, "--db", db, "eval", "--gold", gold, "--format", "json")
	rep := decodeEval(t, out)
	docs := strings.Count(strings.TrimSpace(exported), "\n") + 1
	if len(rep.Documents) != docs || rep.Overall.F1() != 1 || rep.Overall.FP != 0 || rep.Documents[0].Match != "exact" {
		t.Fatalf("self-eval: %d documents, overall %+v", len(rep.Documents), rep.Overall)
	}

	// The first record's gold: another stance, one data point the
	// extractor missed, one it did not find, and a stored source that
	// only matches by file name.
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(exported))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var rec struct {
		Document   map[string]any     `json:"document"`
		Run        map[string]any     `json:"run"`
		Extraction *schema.Extraction `json:"extraction"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	th := &rec.Extraction.Theses[0]
	th.Stance = map[schema.Stance]schema.Stance{schema.Bearish: schema.Bullish}[th.Stance]
	if th.Stance == "" {
		th.Stance = schema.Bearish
	}
	if len(th.DataPoints) < 2 {
		t.Fatalf("first sample has %d data points", len(th.DataPoints))
	}
	th.DataPoints = append(th.DataPoints[1:], schema.DataPoint{Indicator: "Gold-only indicator", Value: "77%", Quote: "x"})
	rec.Document["sha256"] = "not-a-stored-hash"
	rec.Document["source"] = "/elsewhere/" + filepath.Base(rec.Document["source"].(string))
	b, _ := json.Marshal(rec)
	lines[0] = string(b)
	lines = append(lines, `{"document": {"sha256": "feed", "source": "nowhere.txt"}, "extraction": {"theses": []}}`)
	if err := os.WriteFile(filepath.Join(gold, "gold.jsonl"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = mustCLI(t, 0, "--db", db, "eval", "--gold", gold, "--format", "json")
	rep = decodeEval(t, out)
	if len(rep.Documents) != docs || len(rep.Missing) != 1 {
		t.Fatalf("%d documents scored, missing %v", len(rep.Documents), rep.Missing)
	}
	d := rep.Documents[0]
	if s := d.Fields["stance"]; s.TP != 0 || s.FP != 1 || s.FN != 1 {
		t.Errorf("stance counts %+v", s)
	}
	if dp := d.Fields["data_points"]; dp.FP != 1 || dp.FN != 1 || len(d.Omissions) != 1 || d.Omissions[0].Indicator != "Gold-only indicator" || len(d.Unmatched) != 1 {
		t.Errorf("data points %+v, omissions %v, unmatched %v", dp, d.Omissions, d.Unmatched)
	}
	for _, other := range rep.Documents[1:] {
		if other.Overall.F1() != 1 {
			t.Errorf("%s: overall %+v", other.Gold, other.Overall)
		}
	}
	if rep.Overall.F1() >= 1 || rep.Fields["stance"].FN != 1 {
		t.Errorf("totals: %+v", rep.Fields)
	}

	out, _ = mustCLI(t, 0, "--db", db, "eval", "--gold", gold)
	for _, want := range []string{"omitted (in the gold, not extracted)", "Gold-only indicator: 77%", "fabricated: matches no gold data point", "not scored, no stored document: gold.jsonl#"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Bad input is refused with a reason.
	if _, stderr, code := cli(t, t.Context(), "--db", db, "eval", "--gold", dir+"/none"); code == 0 || !strings.Contains(stderr, "--gold") {
		t.Errorf("missing gold folder: %d %s", code, stderr)
	}
	os.WriteFile(filepath.Join(gold, "bad.json"), []byte(`{"document": 3}`), 0o644)
	if _, stderr, code := cli(t, t.Context(), "--db", db, "eval", "--gold", gold); code == 0 || !strings.Contains(stderr, "bad.json") {
		t.Errorf("malformed gold: %d %s", code, stderr)
	}
}
