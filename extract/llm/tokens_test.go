package llm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tiktoken-go/tokenizer/codec"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// TestEstimateTokensAgainstTokenizer holds EstimateTokens to OpenAI's
// o200k_base tokenizer on real documents (the samples, the prompts, the
// schema and, when ../shared is there, the seeds and the HTML corpus'
// articles): within -15%/+35% on each and
// between +0% and +20% over all of them (the estimate budgets context, so
// it errs high). The tokenizer is a test oracle only: its regexp and
// merges go quadratic on long runs without spaces or of " \n", which a
// hostile page can hold, while the estimate is linear.
func TestEstimateTokensAgainstTokenizer(t *testing.T) {
	texts := map[string]string{
		"schema":  string(schema.JSON),
		"cjk":     "日本銀行は政策金利を0.5%に引き上げた。円相場は1ドル=148円台に上昇し、日経平均株価は3日続落した。",
		"german":  "Die Europäische Zentralbank senkte den Einlagensatz um 25 Basispunkte auf 3,25 Prozent; die Kerninflation lag im Oktober bei 2,7 Prozent.",
		"numbers": "| Indicator | Value |\n|---|---|\n| HY OAS | 284 bps |\n| 10y UST | 4.14%-4.26% |\n| Fwd P/E | 13.7x |\n| EPS growth 2026E | +11.2% |\n",
	}
	var globs = []string{"../../samples/*.txt", "../../samples/*.md", "../../prompts/v1/*", "../../../shared/seeds/*.txt"}
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			texts[f] = string(b)
		}
	}
	// The main-content text of the real web pages beside the project.
	pages, _ := filepath.Glob("../../../shared/corpora/html/pages/*.html")
	for _, f := range pages {
		doc, err := extract.Load(t.Context(), f, nil)
		if err == nil && len(doc.Text) >= 200 {
			texts[f] = doc.Text
		}
	}
	if len(texts) < 8 {
		t.Fatalf("only %d texts: samples missing?", len(texts))
	}
	enc := codec.NewO200kBase()
	var est, exact int
	lo, hi := 10.0, 0.0
	for name, s := range texts {
		n, err := enc.Count(s)
		if err != nil {
			t.Fatal(err)
		}
		e := EstimateTokens(s)
		est, exact = est+e, exact+n
		r := float64(e) / float64(n)
		lo, hi = min(lo, r), max(hi, r)
		if r < 0.85 || r > 1.35 {
			t.Errorf("%s: estimated %d tokens, o200k counts %d (%.2f×)", name, e, n, r)
		}
	}
	r := float64(est) / float64(exact)
	t.Logf("%d texts: estimated %d tokens, o200k counts %d (%.3f×; %.2f–%.2f× per text)", len(texts), est, exact, r, lo, hi)
	if r < 1 || r > 1.2 {
		t.Errorf("over all texts: %.3f× the o200k count, want 1.00–1.20", r)
	}
}
