package rules

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// sharedDir is the shared material beside the repository ("../shared"
// from the repository root), found from the test's working directory.
var sharedDir = func() string {
	dir, err := os.Getwd()
	if err != nil {
		return "../shared"
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "../shared"
		}
		dir = parent
	}
}()

type goldDoc struct {
	Title     *string `json:"title"`
	Author    *string `json:"author"`
	Published *string `json:"published"`
	Theses    []struct {
		Title      string   `json:"title"`
		Statement  string   `json:"statement"`
		Stance     string   `json:"stance"`
		Confidence *float64 `json:"confidence"`
		Conviction *float64 `json:"conviction"`
		Horizon    *string  `json:"horizon"`
		Views      []struct {
			Perspective string   `json:"perspective"`
			Stance      string   `json:"stance"`
			Horizon     *string  `json:"horizon"`
			Confidence  *float64 `json:"confidence"`
			Conviction  *float64 `json:"conviction"`
		} `json:"views"`
		DataPoints []struct {
			Indicator   string  `json:"indicator"`
			Value       string  `json:"value"`
			Source      *string `json:"source"`
			Implication *string `json:"implication"`
			Perspective *string `json:"perspective"`
		} `json:"data_points"`
	} `json:"theses"`
}

// loadSeed loads seed n (e.g. "003") with the real text loader, runs the
// extractor on it and reads its gold file.
func loadSeed(t *testing.T, n string) (*schema.Document, *schema.Extraction, *goldDoc) {
	t.Helper()
	seeds, _ := filepath.Glob(filepath.Join(sharedDir, "seeds", n+"_*.txt"))
	golds, _ := filepath.Glob(filepath.Join(sharedDir, "gold", n+"_*.json"))
	if len(seeds) != 1 || len(golds) != 1 {
		t.Fatalf("seed %s: found %d seed and %d gold files", n, len(seeds), len(golds))
	}
	ctx := context.Background()
	doc, err := extract.Load(ctx, seeds[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := New().Extract(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(golds[0])
	if err != nil {
		t.Fatal(err)
	}
	var g goldDoc
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("gold %s: %v", golds[0], err)
	}
	if len(res.Extraction.Theses) != 1 || len(g.Theses) != 1 {
		t.Fatalf("theses: got %d, gold %d, want 1 each", len(res.Extraction.Theses), len(g.Theses))
	}
	return doc, res.Extraction, &g
}

func skipWithoutGold(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedDir, "gold")); err != nil {
		t.Skipf("shared gold extractions not present (%v)", err)
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func num(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// assertGroundedExactly checks that every quote is found verbatim in the
// text and states its value's numbers.
func assertGroundedExactly(t *testing.T, text string, x *schema.Extraction) {
	t.Helper()
	if n := extract.Ground(text, x); n != 0 {
		t.Errorf("%d data points not grounded", n)
	}
	for _, dp := range x.Theses[0].DataPoints {
		if dp.Ground == nil || dp.Ground.Method != "exact" || !dp.Ground.Grounded {
			t.Errorf("data point %q (%q): ground %+v, want an exact grounded match", dp.Indicator, dp.Value, dp.Ground)
		}
	}
}

func TestGoldStructuredNote(t *testing.T) {
	skipWithoutGold(t)
	doc, x, g := loadSeed(t, "003")
	th, gt := x.Theses[0], g.Theses[0]

	if str(x.Title) != str(g.Title) || str(x.Author) != str(g.Author) || str(x.Published) != str(g.Published) {
		t.Errorf("title/author/published = %q/%q/%q, gold %q/%q/%q",
			str(x.Title), str(x.Author), str(x.Published), str(g.Title), str(g.Author), str(g.Published))
	}
	if th.Stance != schema.Bullish || string(th.Stance) != gt.Stance {
		t.Errorf("stance = %q, gold %q", th.Stance, gt.Stance)
	}
	if th.Conviction == nil || *th.Conviction != 0.5 {
		t.Errorf("conviction = %v, want 0.5", num(th.Conviction))
	}
	if th.Confidence != nil || gt.Confidence != nil {
		t.Errorf("confidence = %v, gold %v; the note states none", num(th.Confidence), num(gt.Confidence))
	}
	if th.Title != gt.Title || th.Statement != gt.Statement || str(th.Horizon) != str(gt.Horizon) {
		t.Errorf("thesis title/statement/horizon = %q/%q/%q, gold %q/%q/%q",
			th.Title, th.Statement, str(th.Horizon), gt.Title, gt.Statement, str(gt.Horizon))
	}

	if len(th.Views) != len(gt.Views) {
		t.Fatalf("views: got %d, gold %d", len(th.Views), len(gt.Views))
	}
	for i, v := range th.Views {
		gv := gt.Views[i]
		if v.Perspective != gv.Perspective || string(v.Stance) != gv.Stance || str(v.Horizon) != str(gv.Horizon) ||
			num(v.Confidence) != num(gv.Confidence) || num(v.Conviction) != num(gv.Conviction) {
			t.Errorf("view %d = {%s %s %s %v %v}, gold {%s %s %s %v %v}", i,
				v.Perspective, v.Stance, str(v.Horizon), num(v.Confidence), num(v.Conviction),
				gv.Perspective, gv.Stance, str(gv.Horizon), num(gv.Confidence), num(gv.Conviction))
		}
		if v.Summary == nil || len(*v.Summary) < 200 {
			t.Errorf("view %s: summary %q, want the entry's paragraph", v.Perspective, str(v.Summary))
		}
		if str(v.AsOf) != "2026-02-16" {
			t.Errorf("view %s: as_of %q, want 2026-02-16", v.Perspective, str(v.AsOf))
		}
	}

	if len(gt.DataPoints) != 42 {
		t.Fatalf("gold has %d data points, want 42", len(gt.DataPoints))
	}
	if len(th.DataPoints) != len(gt.DataPoints) {
		t.Errorf("data points: got %d, gold %d", len(th.DataPoints), len(gt.DataPoints))
	}
	for i := 0; i < min(len(th.DataPoints), len(gt.DataPoints)); i++ {
		d, gd := th.DataPoints[i], gt.DataPoints[i]
		if d.Indicator != gd.Indicator || d.Value != gd.Value || str(d.Source) != str(gd.Source) ||
			str(d.Implication) != str(gd.Implication) || str(d.Perspective) != str(gd.Perspective) {
			t.Errorf("data point %d:\n got  %q | %q | %q | %q | %q\n gold %q | %q | %q | %q | %q", i,
				d.Indicator, d.Value, str(d.Source), str(d.Implication), str(d.Perspective),
				gd.Indicator, gd.Value, str(gd.Source), str(gd.Implication), str(gd.Perspective))
		}
		if want := "value: " + d.Value; d.Quote != want {
			t.Errorf("data point %d: quote %q, want the value line %q", i, d.Quote, want)
		}
	}
	assertGroundedExactly(t, doc.Text, x)
}

var goldNumRe = regexp.MustCompile(`\d+(?:[.,]\d+)*`)

// numbersOf returns the canonical numbers written in s.
func numbersOf(s string) map[string]bool {
	out := map[string]bool{}
	for _, n := range goldNumRe.FindAllString(s, -1) {
		n = strings.ReplaceAll(n, ",", "")
		if strings.Contains(n, ".") {
			n = strings.TrimRight(strings.TrimRight(n, "0"), ".")
		}
		out[n] = true
	}
	return out
}

// recall counts the gold data points whose numbers all appear in one
// extracted value; gold values that state no number (e.g. "widest in
// decades") cannot be recalled by value and are counted apart.
func recall(x *schema.Extraction, g *goldDoc) (recalled, numeric, total int, missed []string) {
	var got []map[string]bool
	for _, d := range x.Theses[0].DataPoints {
		got = append(got, numbersOf(d.Value))
	}
	for _, gd := range g.Theses[0].DataPoints {
		total++
		want := numbersOf(gd.Value)
		if len(want) == 0 {
			continue
		}
		numeric++
		found := false
		for _, have := range got {
			all := true
			for n := range want {
				if !have[n] {
					all = false
					break
				}
			}
			if all {
				found = true
				break
			}
		}
		if found {
			recalled++
		} else {
			missed = append(missed, gd.Value)
		}
	}
	return recalled, numeric, total, missed
}

func TestGoldProse(t *testing.T) {
	skipWithoutGold(t)
	// Regression floors: the recall the rules reach today.
	for _, tc := range []struct {
		seed  string
		floor int
	}{
		{"000", 3},
		{"002", 8},
	} {
		t.Run(tc.seed, func(t *testing.T) {
			doc, x, g := loadSeed(t, tc.seed)
			th := x.Theses[0]
			rec, numeric, total, missed := recall(x, g)
			b, r := cueCount(doc.Text)
			t.Logf("seed %s: stance %s (gold %s; %d bullish vs %d bearish cues); value recall %d/%d numeric gold data points (%d gold in all); %d extracted; missed %q",
				tc.seed, th.Stance, g.Theses[0].Stance, b, r, rec, numeric, total, len(th.DataPoints), missed)
			if th.Stance != schema.Bullish {
				t.Errorf("stance = %s, want bullish", th.Stance)
			}
			if rec < tc.floor {
				t.Errorf("recall %d/%d fell below the floor %d", rec, numeric, tc.floor)
			}
			if th.Confidence != nil || th.Conviction != nil {
				t.Errorf("confidence/conviction = %v/%v, want null for prose", num(th.Confidence), num(th.Conviction))
			}
			if str(x.Title) != str(g.Title) {
				t.Errorf("title = %q, gold %q", str(x.Title), str(g.Title))
			}
			if len(th.Views) != 0 {
				t.Errorf("views = %+v, want none in prose", th.Views)
			}
			assertGroundedExactly(t, doc.Text, x)
		})
	}
}
