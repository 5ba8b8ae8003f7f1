package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
)

// answer is what a model would return for samples/market-commentary.txt:
// one real figure and one fabricated one.
const answer = `{"title": "The Consumer Is Running Out of Cushion", "author": "Harrow Street strategy team", "published": null,
 "theses": [{"title": "Discretionary retail is priced for a consumer that no longer exists",
  "statement": "Discretionary retailers are priced for a consumer that no longer exists; use rallies to reduce exposure.",
  "subject": "US discretionary retail", "stance": "bearish", "confidence": null, "conviction": null, "horizon": "6-12 months",
  "views": [],
  "data_points": [
   {"indicator": "Personal saving rate, January", "value": "3.1%", "source": "Larkspur Economics", "implication": "Households have little cushion left",
    "perspective": null, "quote": "The personal saving rate fell to 3.1% in January, according to Larkspur Economics, well below the 7% or so that households held before the pandemic."},
   {"indicator": "Card delinquency", "value": "9.9%", "source": "Tidewater Credit Monitor", "implication": "Credit stress",
    "perspective": null, "quote": "Serious delinquencies on card debt have climbed to 7.2% of balances"}]}]}`

func TestIngestWithLLM(t *testing.T) {
	srv := llmtest.New(t)
	srv.Otherwise(func(llmtest.Request) llmtest.Response {
		return llmtest.Response{Content: answer, Usage: &llmtest.Usage{Prompt: 3000, Completion: 400, Cached: 2000}}
	})
	db := filepath.Join(t.TempDir(), "t.sqlite")
	var out, errb bytes.Buffer
	t.Setenv("OPENAI_API_KEY", "sk-test-secret-key")
	t.Setenv("OPENAI_BASE_URL", srv.BaseURL())
	code := run(context.Background(), []string{"--db", db, "ingest", "--model", "gpt-4o-mini", "../../samples/market-commentary.txt"},
		strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "extracting with an LLM") || !strings.Contains(errb.String(), "1 ungrounded") {
		t.Errorf("stderr:\n%s", errb.String())
	}
	if strings.Contains(errb.String(), "sk-test-secret-key") {
		t.Error("the API key reached the log")
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if reqs[0].Body["model"] != "gpt-4o-mini" || reqs[0].Body["temperature"] != float64(0) {
		t.Errorf("request model %v temperature %v", reqs[0].Body["model"], reqs[0].Body["temperature"])
	}

	out.Reset()
	errb.Reset()
	run(context.Background(), []string{"--db", db, "query", "--format", "json",
		"SELECT r.extractor, r.model, r.prompt_tokens, r.cached_tokens, r.cost_usd, p.value, p.grounded, d.author FROM runs r JOIN current_data_points p ON p.run_id = r.id JOIN documents d ON d.id = p.document_id ORDER BY p.data_point_id"},
		strings.NewReader(""), &out, &errb)
	var rows []struct {
		Extractor, Model, Value, Author string
		PromptTokens                    int     `json:"prompt_tokens"`
		CachedTokens                    int     `json:"cached_tokens"`
		CostUSD                         float64 `json:"cost_usd"`
		Grounded                        int
	}
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("%v: %s %s", err, out.String(), errb.String())
	}
	if rows[0].Extractor != "llm" || rows[0].Model != "gpt-4o-mini" || rows[0].PromptTokens != 3000 || rows[0].CachedTokens != 2000 || rows[0].CostUSD <= 0 {
		t.Errorf("run accounting = %+v", rows[0])
	}
	if rows[0].Grounded != 1 || rows[1].Grounded != 0 {
		t.Errorf("grounded = %d, %d; want the real figure grounded and the fabricated 9.9%% not", rows[0].Grounded, rows[1].Grounded)
	}
	if rows[0].Author != "Harrow Street strategy team" {
		t.Errorf("document author = %q, want it from the extraction", rows[0].Author)
	}

	// The same document, prompt and model again: not sent (zero tokens).
	errb.Reset()
	code = run(context.Background(), []string{"--db", db, "ingest", "--model", "gpt-4o-mini", "../../samples/market-commentary.txt"},
		strings.NewReader(""), &out, &errb)
	if code != 0 || len(srv.Requests()) != 1 || !strings.Contains(errb.String(), "duplicate") {
		t.Errorf("second ingest: exit %d, %d requests:\n%s", code, len(srv.Requests()), errb.String())
	}
}
