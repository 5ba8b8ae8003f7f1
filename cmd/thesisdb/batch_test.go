package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

func TestReextractBatch(t *testing.T) {
	srv := llmtest.New(t)
	api := srv.EnableBatches()
	api.PollsToFinish = 1 // the first --resume finds it in progress
	t.Setenv("OPENAI_BASE_URL", srv.BaseURL())
	t.Setenv("OPENAI_API_KEY", "test-key")
	t.Setenv("THESISDB_MODEL", "")
	db := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", notes(t, 3))

	answer, _ := json.Marshal(schema.Extraction{Theses: []schema.Thesis{{
		Title: "Small caps", Statement: "Small caps lag.", Stance: schema.Bearish, Views: []schema.View{},
		DataPoints: []schema.DataPoint{{Indicator: "High-yield spreads", Value: "bps", Quote: "High-yield spreads stand at"}},
	}}})
	api.Answer = func(r llmtest.Request) llmtest.Response {
		if r.Contains("Note 2:") {
			return llmtest.Completion(`{"theses": 1}`) // invalid: fails its document
		}
		return llmtest.Response{Content: string(answer), Usage: &llmtest.Usage{Prompt: 1000, Completion: 100}}
	}
	_, stderr := mustCLI(t, 0, "--db", db, "reextract", "--extractor", "llm", "--model", "gpt-4o-mini", "--batch")
	if !strings.Contains(stderr, "submitted 3 documents in 1 batch") || !strings.Contains(stderr, "--resume 2") {
		t.Errorf("submit:\n%s", stderr)
	}
	if r := getRun(t, db, 2); r.Status != store.RunWaiting || r.DocumentsOK != 0 {
		t.Fatalf("after submit: %+v", r)
	}
	// Nothing was sent to chat completions: only the file and the batch.
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			t.Fatalf("a synchronous request was made in batch mode")
		}
	}

	// Later, in another process: still running.
	_, stderr = mustCLI(t, 0, "--db", db, "reextract", "--resume", "2")
	if !strings.Contains(stderr, "in_progress") || !strings.Contains(stderr, "1 batch still running") {
		t.Errorf("first resume:\n%s", stderr)
	}
	// Then done: results stored, the invalid answer failing its document.
	_, stderr, code := cli(t, t.Context(), "--db", db, "reextract", "--resume", "2")
	if code != 1 {
		t.Fatalf("second resume exit %d, want 1 (one document failed):\n%s", code, stderr)
	}
	r := getRun(t, db, 2)
	if r.Status != store.RunDone || r.DocumentsOK != 2 || r.DocumentsFailed != 1 || r.Usage.PromptTokens <= 2000 || r.Usage.CostUSD <= 0 { // the failed answer spent tokens too
		t.Errorf("after collection: %+v", r)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM current_theses WHERE stance = 'bearish' AND run_id = 2`); n != 2 {
		t.Errorf("%d theses from the batch are current, want 2", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM batches WHERE run_id = 2 AND collected = 1 AND status = 'completed'`); n != 1 {
		t.Errorf("batches collected = %d", n)
	}
	// Collected once: resuming again sends and stores nothing more.
	before := srv.Calls()
	_, stderr = mustCLI(t, 0, "--db", db, "reextract", "--resume", "2")
	if !strings.Contains(stderr, "nothing left to do") || srv.Calls() != before {
		t.Errorf("third resume: %d calls\n%s", srv.Calls()-before, stderr)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM extractions WHERE run_id = 2`); n != 3 {
		t.Errorf("extractions in run 2 = %d, want 3", n)
	}
}

func TestBatchNeedsLLM(t *testing.T) {
	noLLM(t)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", notes(t, 1))
	_, stderr, code := cli(t, t.Context(), "--db", db, "reextract", "--batch", "--force")
	if code == 0 || !strings.Contains(stderr, "--extractor llm") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
