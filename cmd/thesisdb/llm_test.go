package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/schema"
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

// llmRun runs thesisdb against the OpenAI-compatible server at baseURL,
// without a key or a model unless the arguments name one.
func llmRun(t *testing.T, baseURL string, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", baseURL)
	t.Setenv("THESISDB_MODEL", "")
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// sqlRows runs a query with thesisdb query and decodes its JSON rows.
func sqlRows(t *testing.T, db, q string) []map[string]any {
	t.Helper()
	out, stderr, code := llmRun(t, "", "--db", db, "query", "--format", "json", q)
	if code != 0 {
		t.Fatalf("query %s: %s", q, stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("query %s: %v: %s", q, err, out)
	}
	return rows
}

func TestIngestDiscoversLlamaServer(t *testing.T) {
	srv := llmtest.New(t)
	srv.Discover(llmtest.LlamaServer("/models/qwen2.5-7b-instruct-q4_k_m.gguf", 16384, 3))
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Completion(answer) })
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := llmRun(t, srv.BaseURL(), "--db", db, "ingest", "../../samples/market-commentary.txt")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	first, _, _ := strings.Cut(stderr, "\n")
	for _, want := range []string{"extracting with an LLM", "kind=llama-server", "model=qwen2.5-7b-instruct-q4_k_m.gguf", "server_context=16384", "slots=3", "max_context=16384", "cost=\"unknown"} {
		if !strings.Contains(first, want) {
			t.Errorf("first log line lacks %s:\n%s", want, first)
		}
	}
	if !strings.Contains(stderr, "cost unknown") || strings.Contains(stderr, "est. cost") {
		t.Errorf("summary prices a local model:\n%s", stderr)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Body["model"] != "qwen2.5-7b-instruct-q4_k_m.gguf" {
		t.Fatalf("requests %d, model %v", len(reqs), reqs[0].Body["model"])
	}
	rows := sqlRows(t, db, "SELECT r.model, r.cost_usd, json_extract(r.params, '$.concurrency') AS concurrency, e.model AS emodel, e.cost_usd AS ecost FROM runs r JOIN extractions e ON e.run_id = r.id")
	if len(rows) != 1 || rows[0]["model"] != "qwen2.5-7b-instruct-q4_k_m.gguf" || rows[0]["emodel"] != "qwen2.5-7b-instruct-q4_k_m.gguf" ||
		rows[0]["cost_usd"] != nil || rows[0]["ecost"] != nil || rows[0]["concurrency"] != float64(3) {
		t.Errorf("run %v; want the served model, cost NULL (unknown), one document per slot", rows)
	}
}

func TestIngestDiscoveryAnswersOfOllamaAndVLLM(t *testing.T) {
	for _, c := range []struct {
		name      string
		discovery map[string]llmtest.Response
		args      []string
		want      []string // in the first log line, or the error
		code      int
	}{
		{"ollama num_ctx", llmtest.Ollama(map[string]int{"qwen2.5:7b": 32768}, 8192, 0), nil,
			[]string{"kind=ollama", "model=qwen2.5:7b", "server_context=8192", "max_context=8192"}, 0},
		{"ollama, --max-context overrides", llmtest.Ollama(map[string]int{"qwen2.5:7b": 32768}, 8192, 0), []string{"--max-context", "6000"},
			[]string{"kind=ollama", "max_context=6000"}, 0},
		{"ollama, several models", llmtest.Ollama(map[string]int{"qwen2.5:7b": 32768, "llama3.1:8b": 131072}, 0, 0), nil,
			[]string{"serves 2 models", "choose one with --model"}, 1},
		{"vllm", llmtest.VLLM("Qwen/Qwen2.5-7B-Instruct", 12288), nil,
			[]string{"kind=vllm", "model=Qwen/Qwen2.5-7B-Instruct", "server_context=12288"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := llmtest.New(t)
			srv.Discover(c.discovery)
			srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Completion(answer) })
			db := filepath.Join(t.TempDir(), "t.sqlite")
			args := append([]string{"--db", db, "ingest"}, c.args...)
			_, stderr, code := llmRun(t, srv.BaseURL(), append(args, "../../samples/market-commentary.txt")...)
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, stderr)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if c.code != 0 {
				first = stderr
			}
			for _, w := range c.want {
				if !strings.Contains(first, w) {
					t.Errorf("lacks %q:\n%s", w, first)
				}
			}
		})
	}
}

func TestIngestServerDownFromTheStart(t *testing.T) {
	srv := llmtest.New(t)
	base := srv.BaseURL()
	srv.Close()
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := llmRun(t, base, "--db", db, "ingest", "../../samples")
	if code == 0 {
		t.Fatalf("exit 0 with the server down:\n%s", stderr)
	}
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(stderr, "OPENAI_BASE_URL") ||
		!strings.Contains(stderr, "connection refused") || !strings.Contains(stderr, "failed before any document") {
		t.Errorf("want one message naming OPENAI_BASE_URL:\n%s", stderr)
	}
	if rows := sqlRows(t, db, "SELECT status, (SELECT count(*) FROM documents) AS docs FROM runs"); len(rows) != 1 || rows[0]["status"] != "failed" || rows[0]["docs"] != float64(0) {
		t.Errorf("runs %v; want one failed run, nothing stored", rows)
	}
}

func TestIngestStopsAfterConnectionFailures(t *testing.T) {
	srv := llmtest.New(t)
	srv.Script(llmtest.Completion(answer))
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Response{Hang: true} })
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := llmRun(t, srv.BaseURL(), "--db", db, "ingest", "--retries", "0", "--concurrency", "1", "--model", "m", "../../samples")
	if code == 0 {
		t.Fatalf("exit 0:\n%s", stderr)
	}
	if !strings.Contains(stderr, "3 requests in a row could not connect") || !strings.Contains(stderr, "OPENAI_BASE_URL") {
		t.Errorf("no run-level stop:\n%s", stderr)
	}
	// One ok, two failed before the breaker; the third is not stored and
	// the rest never sent.
	if srv.Calls() != 4 {
		t.Errorf("%d chat calls, want 4", srv.Calls())
	}
	rows := sqlRows(t, db, "SELECT r.status, (SELECT count(*) FROM extractions) AS n, (SELECT count(*) FROM extractions WHERE status = 'ok') AS ok FROM runs r")
	if len(rows) != 1 || rows[0]["status"] != "failed" || rows[0]["n"] != float64(3) || rows[0]["ok"] != float64(1) {
		t.Errorf("runs %v; want a failed run with 3 extractions stored, 1 ok", rows)
	}
}

func TestIngestContextTooSmallIsOneError(t *testing.T) {
	srv := llmtest.New(t)
	srv.Discover(llmtest.LlamaServer("/m/small.gguf", 1024, 1))
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := llmRun(t, srv.BaseURL(), "--db", db, "ingest", "../../samples")
	if code == 0 || strings.Count(stderr, "--max-context is 1024 tokens but the prompt alone needs about") != 1 {
		t.Fatalf("exit %d; want one run-level error:\n%s", code, stderr)
	}
	if srv.Calls() != 0 {
		t.Errorf("%d chat calls", srv.Calls())
	}
	if strings.Contains(stderr, "failed     ") {
		t.Errorf("per-document failures:\n%s", stderr)
	}
}

func TestIngestRealLlamaServer(t *testing.T) {
	l := llmtest.StartLlama(t, "-c", "8192", "-np", "2")
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := llmRun(t, l.BaseURL(), "--db", db, "ingest", "../../samples/market-commentary.txt", "../../samples/research-note-japan.md")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\nserver:\n%s", code, stderr, l.Log())
	}
	for _, want := range []string{"kind=llama-server", "model=shortest.gguf", "server_context=4096", "slots=2", "2 documents without any thesis", "cost unknown"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	rows := sqlRows(t, db, "SELECT r.model, r.cost_usd, r.prompt_tokens, d.warnings FROM runs r JOIN extractions e ON e.run_id = r.id JOIN documents d ON d.id = e.document_id WHERE e.status = 'ok'")
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	for _, r := range rows {
		if r["model"] != "shortest.gguf" || r["cost_usd"] != nil || r["prompt_tokens"] == float64(0) || !strings.Contains(fmt.Sprint(r["warnings"]), "no thesis") {
			t.Errorf("row %v", r)
		}
	}
	out, _, _ := llmRun(t, "", "--db", db, "runs", "--format", "json")
	if !strings.Contains(out, `"no_theses": 2`) || !strings.Contains(out, `"cost_usd": null`) {
		t.Errorf("runs: %s", out)
	}

	// Tools without --jinja: one run-level error with the advice.
	_, stderr, code = llmRun(t, l.BaseURL(), "--db", db, "ingest", "--force", "--llm-mode", "tools", "../../samples/market-commentary.txt")
	if code == 0 || !strings.Contains(stderr, "restart it with --jinja") {
		t.Errorf("tools without --jinja: exit %d:\n%s", code, stderr)
	}

	// The server gone: the next run fails before any document.
	l.Kill()
	_, stderr, code = llmRun(t, l.BaseURL(), "--db", db, "ingest", "--force", "../../samples/blog-post.html")
	if code == 0 || !strings.Contains(stderr, "OPENAI_BASE_URL") {
		t.Errorf("server down: exit %d:\n%s", code, stderr)
	}
	if rows := sqlRows(t, db, "SELECT status FROM runs ORDER BY id"); len(rows) != 3 || rows[1]["status"] != "failed" || rows[2]["status"] != "failed" {
		t.Errorf("runs %v; want done, failed, failed", rows)
	}
}

// killAfterFirst kills the LLM server once its first document is done.
type killAfterFirst struct {
	extract.Extractor
	once sync.Once
	kill func()
}

func (k *killAfterFirst) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	res, err := k.Extractor.Extract(ctx, doc)
	k.once.Do(k.kill)
	return res, err
}

func TestReextractRealLlamaServerKilledMidRun(t *testing.T) {
	l := llmtest.StartLlama(t, "-c", "4096", "-np", "1")
	db := filepath.Join(t.TempDir(), "t.sqlite")
	if _, stderr, code := llmRun(t, l.BaseURL(), "--db", db, "ingest", "../../samples"); code != 0 {
		t.Fatalf("ingest: exit %d:\n%s", code, stderr)
	}
	docs := len(sqlRows(t, db, "SELECT id FROM documents"))
	if docs < 5 {
		t.Fatalf("%d documents stored", docs)
	}
	prev := newExtractor
	newExtractor = func(ef *extractFlags, log *slog.Logger) (extract.Extractor, error) {
		ex, err := prev(ef, log)
		if err != nil {
			return nil, err
		}
		return &killAfterFirst{Extractor: ex, kill: l.Kill}, nil
	}
	t.Cleanup(func() { newExtractor = prev })
	_, stderr, code := llmRun(t, l.BaseURL(), "--db", db, "reextract", "--force", "--concurrency", "1", "--retries", "1")
	if code == 0 {
		t.Fatalf("exit 0 with the server killed:\n%s", stderr)
	}
	if !strings.Contains(stderr, "3 requests in a row could not connect") || !strings.Contains(stderr, "OPENAI_BASE_URL") {
		t.Errorf("no run-level stop:\n%s", stderr)
	}
	// The first document ok, two failed, the one that tripped the breaker
	// and the rest unstored.
	rows := sqlRows(t, db, "SELECT r.status, (SELECT count(*) FROM extractions e WHERE e.run_id = r.id) AS n FROM runs r WHERE r.kind = 'reextract'")
	if len(rows) != 1 || rows[0]["status"] != "failed" || rows[0]["n"] != float64(3) {
		t.Errorf("reextract run %v; want failed with 3 extractions of %d documents", rows, docs)
	}
}

func TestIngestRealLlamaServerSmallSlot(t *testing.T) {
	// A 2048-token slot: thesisdb used to refuse every document.
	l := llmtest.StartLlama(t, "-c", "2048", "-np", "1")
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := llmRun(t, l.BaseURL(), "--db", db, "ingest", "../../samples/market-commentary.txt")
	if code != 0 || !strings.Contains(stderr, "server_context=2048") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

func TestIngestRealLlamaServerCutPrompt(t *testing.T) {
	// --max-context says 32768; each request really gets 4096 tokens.
	l := llmtest.StartLlama(t, "-c", "4096", "-np", "1")
	var b strings.Builder
	b.WriteString("High yield outlook\n\n")
	for i := 1; b.Len() < 30000; i++ {
		fmt.Fprintf(&b, "Section %d\n\nSpreads, defaults and issuance in the high yield market are discussed here at length, without new figures, so that the note is long.\n\n", i)
	}
	doc := filepath.Join(t.TempDir(), "long.txt")
	if err := os.WriteFile(doc, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := llmRun(t, l.BaseURL(), "--db", db, "ingest", "--max-context", "32768", doc)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if strings.Count(stderr, "cut a prompt short") != 1 || strings.Contains(stderr, "cut again") {
		t.Errorf("the cut should happen, and be said, once:\n%s", stderr)
	}
	// Every request after the cut fits the slot: none was cut again, and
	// the run's tokens are those of several requests.
	rows := sqlRows(t, db, "SELECT e.status, e.prompt_tokens FROM extractions e")
	if len(rows) != 1 || rows[0]["status"] != "ok" || rows[0]["prompt_tokens"].(float64) < 4096 {
		t.Errorf("extractions %v", rows)
	}
}
