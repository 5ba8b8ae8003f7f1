package htmldoc

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir is the shared HTML corpus, relative to this package.
const corpusDir = "../../../shared/corpora/html"

type expectation struct {
	URL     string   `json:"url"`
	With    []string `json:"with"`
	Without []string `json:"without"`
}

// loadCorpus returns the corpus expectations, skipping when it is absent.
func loadCorpus(tb testing.TB) map[string]expectation {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "expectations.json"))
	if os.IsNotExist(err) {
		tb.Skip("shared HTML corpus not present")
	}
	if err != nil {
		tb.Fatal(err)
	}
	var exp map[string]expectation
	if err := json.Unmarshal(data, &exp); err != nil {
		tb.Fatal(err)
	}
	return exp
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

type score struct{ tp, fn, fp int }

func (s score) prf() (p, r, f float64) {
	p = float64(s.tp) / float64(s.tp+s.fp)
	r = float64(s.tp) / float64(s.tp+s.fn)
	return p, r, 2 * p * r / (p + r)
}

// scoreCorpus runs extract on every corpus page and scores it by the
// corpus README's rules: whitespace collapsed, substring matching,
// micro-averaged.
func scoreCorpus(t *testing.T, extract func(name string, data []byte) string) score {
	exp := loadCorpus(t)
	names := make([]string, 0, len(exp))
	for n := range exp {
		names = append(names, n)
	}
	sort.Strings(names)
	var total score
	for _, name := range names {
		e := exp[name]
		data, err := os.ReadFile(filepath.Join(corpusDir, "pages", name))
		if err != nil {
			t.Fatal(err)
		}
		text := collapse(extract(name, data))
		var s score
		for _, w := range e.With {
			if strings.Contains(text, collapse(w)) {
				s.tp++
			} else {
				s.fn++
				t.Logf("%s: missing %q", name, w)
			}
		}
		for _, w := range e.Without {
			if strings.Contains(text, collapse(w)) {
				s.fp++
				t.Logf("%s: kept boilerplate %q", name, w)
			}
		}
		total.tp += s.tp
		total.fn += s.fn
		total.fp += s.fp
	}
	return total
}

// corpusFloor is the F1 the loader reaches on the shared corpus; a change
// that lowers it fails.
const corpusFloor = 0.935

func TestCorpusF1(t *testing.T) {
	ctx := context.Background()
	s := scoreCorpus(t, func(name string, data []byte) string {
		res, err := Parse(ctx, data, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return ""
		}
		return res.Text
	})
	p, r, f := s.prf()
	t.Logf("corpus: TP %d FN %d FP %d precision %.3f recall %.3f F1 %.3f", s.tp, s.fn, s.fp, p, r, f)
	if f < corpusFloor {
		t.Errorf("F1 %.3f below the floor %.3f", f, corpusFloor)
	}
}
