package llm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
)

func discover(t *testing.T, srv *llmtest.Server, model string) *Server {
	t.Helper()
	s, err := Discover(context.Background(), Config{BaseURL: srv.BaseURL(), Model: model})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDiscoverLlamaServer(t *testing.T) {
	srv := llmtest.New(t)
	srv.Discover(llmtest.LlamaServer("/models/qwen2.5-7b-instruct-q4_k_m.gguf", 4096, 4))
	s := discover(t, srv, "")
	if s.Kind != KindLlamaCpp || s.Model != "qwen2.5-7b-instruct-q4_k_m.gguf" || s.Context != 4096 || s.Slots != 4 {
		t.Errorf("discovered %+v; want llama-server, the model file's name, 4096 per slot, 4 slots", s)
	}
	if !strings.Contains(s.String(), "4096 tokens of context per request") {
		t.Errorf("String() = %q", s.String())
	}
	// A model named by the user is kept.
	if s := discover(t, srv, "mine"); s.Model != "mine" {
		t.Errorf("model = %q, want the configured one", s.Model)
	}
	if srv.Calls() != 0 {
		t.Errorf("discovery made %d chat calls", srv.Calls())
	}
}

func TestDiscoverOllama(t *testing.T) {
	cases := []struct {
		name              string
		models            map[string]int
		model             string
		numCtx, loadedCtx int
		wantModel         string
		wantCtx           int
	}{
		{"loaded model", map[string]int{"qwen2.5:7b": 32768}, "", 8192, 16384, "qwen2.5:7b", 16384},
		{"num_ctx parameter", map[string]int{"qwen2.5:7b": 32768}, "", 8192, 0, "qwen2.5:7b", 8192},
		{"server default", map[string]int{"qwen2.5:7b": 32768}, "", 0, 0, "qwen2.5:7b", ollamaDefaultContext},
		{"model's own limit", map[string]int{"tiny:1b": 2048}, "", 8192, 0, "tiny:1b", 2048},
		{"several models, none named", map[string]int{"a:1b": 8192, "b:1b": 8192}, "", 0, 0, "", 0},
		{"several models, one named", map[string]int{"a:1b": 8192, "b:1b": 8192}, "b:1b", 0, 0, "b:1b", ollamaDefaultContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := llmtest.New(t)
			srv.Discover(llmtest.Ollama(c.models, c.numCtx, c.loadedCtx))
			s := discover(t, srv, c.model)
			if s.Kind != KindOllama || s.Model != c.wantModel || s.Context != c.wantCtx {
				t.Errorf("discovered %+v; want ollama, model %q, context %d", s, c.wantModel, c.wantCtx)
			}
			if len(s.Models) != len(c.models) {
				t.Errorf("models %v", s.Models)
			}
		})
	}
}

func TestDiscoverVLLMAndOpenAI(t *testing.T) {
	srv := llmtest.New(t)
	srv.Discover(llmtest.VLLM("meta-llama/Llama-3.1-8B-Instruct", 8192))
	s := discover(t, srv, "")
	if s.Kind != KindVLLM || s.Model != "meta-llama/Llama-3.1-8B-Instruct" || s.Context != 8192 || s.Slots != 0 {
		t.Errorf("vLLM discovered as %+v", s)
	}

	srv = llmtest.New(t) // lists OpenAI's models by default
	s = discover(t, srv, "")
	if s.Kind != KindOpenAI || s.Model != "" || s.Context != 0 || len(s.Models) != 3 {
		t.Errorf("OpenAI discovered as %+v", s)
	}
	for _, p := range srv.Probes() {
		if p.Header.Get("Authorization") != "" {
			t.Error("a key was sent although none is configured")
		}
	}
}

func TestDiscoverUnknownServer(t *testing.T) {
	srv := llmtest.New(t)
	srv.Discover(map[string]llmtest.Response{"GET /v1/models": {Status: http.StatusNotFound, Body: "no"}})
	s := discover(t, srv, "")
	if s.Kind != KindUnknown || s.Model != "" || s.Context != 0 {
		t.Errorf("discovered %+v from a server that says nothing", s)
	}
}

func TestDiscoverRefusesDeadServerAndBadKey(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://user:hunter22@" + l.Addr().String() + "/v1"
	l.Close()
	_, err = Discover(context.Background(), Config{BaseURL: dead})
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, extract.ErrAbortRun) {
		t.Fatalf("err = %v, want ErrUnreachable (stopping the run)", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "OPENAI_BASE_URL") || !strings.Contains(msg, "connection refused") || strings.Contains(msg, "hunter22") {
		t.Errorf("message %q should name OPENAI_BASE_URL and the cause, without the password", msg)
	}

	srv := llmtest.New(t)
	srv.Discover(map[string]llmtest.Response{"GET /v1/models": llmtest.Error(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-test-9f8e7d6c5b4a")})
	_, err = Discover(context.Background(), Config{BaseURL: srv.BaseURL(), APIKey: testKey})
	if !errors.Is(err, ErrAuth) || !errors.Is(err, extract.ErrAbortRun) || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Fatalf("err = %v, want ErrAuth naming OPENAI_API_KEY", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Error("the key is in the error")
	}
	if got := srv.Probes()[0].Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
}

func TestConnectionFailuresStopTheRun(t *testing.T) {
	srv := llmtest.New(t)
	e, _ := newExtractor(t, srv, func(c *Config) { c.MaxRetries = -1 })
	srv.Close()
	doc := loadDoc(t, "small_caps.txt")
	for i := 1; i <= breakerLimit; i++ {
		_, err := e.Extract(context.Background(), doc)
		if err == nil {
			t.Fatal("no error from a closed server")
		}
		if stop := errors.Is(err, extract.ErrAbortRun); stop != (i == breakerLimit) {
			t.Fatalf("request %d: err = %v; want the run stopped at the %dth failure in a row only", i, err, breakerLimit)
		}
		if !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
			t.Errorf("request %d: %v does not name OPENAI_BASE_URL", i, err)
		}
	}
	// Later documents fail at once, with the same reason.
	_, err := e.Extract(context.Background(), doc)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("after the breaker: %v", err)
	}
}

func TestConnectionSuccessResetsTheCount(t *testing.T) {
	srv := llmtest.New(t)
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Completion(answer(t, "small_caps.answer.json")) })
	e, _ := newExtractor(t, srv, nil)
	e.connFails.Store(breakerLimit - 1)
	if _, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt")); err != nil {
		t.Fatal(err)
	}
	if n := e.connFails.Load(); n != 0 {
		t.Errorf("%d failures still counted after an answer", n)
	}
}

func TestToolsAnswerWithoutCallIsAnError(t *testing.T) {
	srv := llmtest.New(t)
	srv.Script(llmtest.Completion(`"title": null, "theses": []}`))
	e, _ := newExtractor(t, srv, func(c *Config) { c.Mode = ModeTools })
	_, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt"))
	if !errors.Is(err, ErrNoToolCall) || !strings.Contains(err.Error(), "--llm-mode json_schema") {
		t.Fatalf("err = %v, want ErrNoToolCall with advice", err)
	}
	if strings.Contains(err.Error(), "invalid character") {
		t.Error("the text was parsed as the function's arguments")
	}
	if srv.Calls() != 1 {
		t.Errorf("%d calls, want 1", srv.Calls())
	}
}

func TestToolsWithoutJinjaStopsTheRun(t *testing.T) {
	srv := llmtest.New(t)
	srv.Otherwise(func(llmtest.Request) llmtest.Response {
		return llmtest.Response{Status: 500, Body: `{"error":{"code":500,"message":"tools param requires --jinja flag","type":"server_error"}}`}
	})
	e, _ := newExtractor(t, srv, func(c *Config) { c.Mode = ModeTools })
	_, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt"))
	if !errors.Is(err, ErrNeedsJinja) || !errors.Is(err, extract.ErrAbortRun) {
		t.Fatalf("err = %v, want ErrNeedsJinja stopping the run", err)
	}
	if !strings.Contains(err.Error(), "restart it with --jinja") {
		t.Errorf("no advice in %v", err)
	}
	if srv.Calls() != 1 {
		t.Errorf("%d calls: a permanent error was retried", srv.Calls())
	}
}

func TestAutoFallsBackWhenSchemaAnswerIsNotJSON(t *testing.T) {
	srv := llmtest.New(t)
	srv.Script(llmtest.Completion("The author is bullish on small caps."), llmtest.Completion(answer(t, "small_caps.answer.json")))
	e, logs := newExtractor(t, srv, nil)
	if _, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || field(reqs[1].Body, "response_format", "type") != "json_object" {
		t.Fatalf("second request %v; want the json_object mode", reqs[len(reqs)-1].Body["response_format"])
	}
	if e.Mode() != ModeJSONObject || !strings.Contains(logs.String(), "falling back") {
		t.Errorf("mode %s; log:\n%s", e.Mode(), logs)
	}
}

func TestSchemaIsNotPromptOnGrammarServers(t *testing.T) {
	srv := llmtest.New(t)
	openai, _ := newExtractor(t, srv, func(c *Config) { c.Kind = KindOpenAI })
	llama, _ := newExtractor(t, srv, func(c *Config) { c.Kind = KindLlamaCpp })
	if d := openai.OverheadTokens() - llama.OverheadTokens(); d != schemaTokens {
		t.Errorf("json_schema overhead differs by %d, want the schema's %d tokens", d, schemaTokens)
	}
	tools, _ := newExtractor(t, srv, func(c *Config) { c.Kind = KindLlamaCpp; c.Mode = ModeTools })
	if tools.OverheadTokens() < llama.OverheadTokens()+schemaTokens {
		t.Errorf("tools overhead %d does not count the schema", tools.OverheadTokens())
	}
}

func TestBudgetCalibratedFromUsage(t *testing.T) {
	srv := llmtest.New(t)
	// The server counts 1.5 of its tokens per estimated token.
	srv.Otherwise(func(r llmtest.Request) llmtest.Response {
		sent := requestOverhead
		for _, m := range r.Messages() {
			sent += EstimateTokens(m.Content) + messageOverhead
		}
		return llmtest.Response{Content: answer(t, "small_caps.answer.json"), Usage: &llmtest.Usage{Prompt: sent * 3 / 2, Completion: 200}}
	})
	e, logs := newExtractor(t, srv, func(c *Config) { c.Kind = KindLlamaCpp; c.MaxContext = 8192 })
	before, budget := e.OverheadTokens(), e.partBudget()
	if _, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt")); err != nil {
		t.Fatal(err)
	}
	after := e.OverheadTokens()
	if after < before*14/10 || after > before*16/10 {
		t.Errorf("overhead %d → %d, want about 1.5 times", before, after)
	}
	if e.partBudget() >= budget {
		t.Errorf("budget %d → %d, want smaller", budget, e.partBudget())
	}
	if !strings.Contains(logs.String(), "calibrated") {
		t.Errorf("log:\n%s", logs)
	}
}

func TestBudgetTooSmallIsOneRunLevelError(t *testing.T) {
	srv := llmtest.New(t)
	e, _ := newExtractor(t, srv, func(c *Config) { c.Kind = KindLlamaCpp; c.MaxContext = 1024 })
	err := e.CheckBudget()
	if !errors.Is(err, ErrContextTooSmall) || !errors.Is(err, extract.ErrAbortRun) {
		t.Fatalf("CheckBudget = %v", err)
	}
	if !strings.Contains(err.Error(), "--max-context is 1024 tokens but the prompt alone needs about") {
		t.Errorf("message %q", err)
	}
	if _, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt")); !errors.Is(err, ErrContextTooSmall) {
		t.Errorf("Extract: %v", err)
	}
	if srv.Calls() != 0 {
		t.Errorf("%d calls", srv.Calls())
	}
	// A 2048-token slot holds a short document once the schema is not
	// counted as prompt and the answer budget follows the context.
	e, _ = newExtractor(t, srv, func(c *Config) { c.Kind = KindLlamaCpp; c.MaxContext = 2048 })
	if err := e.CheckBudget(); err != nil {
		t.Errorf("2048 tokens: %v", err)
	}
}

func TestTruncatedPromptIsNeverStored(t *testing.T) {
	doc := loadDoc(t, "credit_note.md")
	var b strings.Builder
	b.WriteString(doc.Text)
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "\n\nAppendix %d\n\nThis appendix repeats background material on market structure, issuance trends and investor positioning in the high yield market, without new figures, so that the note is long.", i)
	}
	doc.Text = b.String()
	srv := llmtest.New(t)
	// The first answer read a fraction of the prompt (llama-server cut
	// it); later ones read it all.
	srv.Script(llmtest.Response{Content: answer(t, "credit_note.answer.json"), Usage: &llmtest.Usage{Prompt: 1500, Completion: 40}})
	srv.Otherwise(partAnswer(t, answer(t, "credit_note.answer.json")))
	e, logs := newExtractor(t, srv, func(c *Config) { c.Kind = KindLlamaCpp; c.MaxContext = 32768 })
	res, err := e.Extract(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	if e.Context() != 1500 {
		t.Errorf("context %d; log:\n%s", e.Context(), logs)
	}
	if !strings.Contains(logs.String(), "cut a prompt short") || strings.Count(logs.String(), "cut a prompt short") != 1 {
		t.Errorf("the cut should be said once:\n%s", logs)
	}
	reqs := srv.Requests()
	if len(reqs) < 3 {
		t.Fatalf("%d requests: the document was not split after the cut", len(reqs))
	}
	for i, r := range reqs[1:] {
		if tok := EstimateTokens(r.Messages()[0].Content) + EstimateTokens(r.LastUser()); tok > 1500 {
			t.Errorf("request %d after the cut sends about %d tokens, more than the server read", i+1, tok)
		}
	}
	if res.Usage.Requests != len(reqs) {
		t.Errorf("usage counts %d requests of %d", res.Usage.Requests, len(reqs))
	}
}

func TestCostOnlyForKnownPrices(t *testing.T) {
	for _, c := range []struct {
		cfg   Config
		model string
		want  bool
	}{
		{Config{}, "gpt-4o-mini", true},
		{Config{Kind: KindOpenAI}, "gpt-4o-mini-2024-07-18", true},
		{Config{Kind: KindOpenAI}, "my-finetune", false},
		{Config{Kind: KindLlamaCpp}, "gpt-4o-mini", false}, // never another model's price
		{Config{Kind: KindOllama, Prices: map[string]Price{"qwen2.5:7b": {Input: 1}}}, "qwen2.5:7b", true},
		{Config{Kind: KindVLLM}, "qwen2.5:7b", false},
	} {
		if got := c.cfg.Priced(c.model); got != c.want {
			t.Errorf("%s on %q: priced %v, want %v", c.model, c.cfg.Kind, got, c.want)
		}
		if cost := c.cfg.Cost(c.model, 1000, 0, 1000); (cost > 0) != c.want {
			t.Errorf("%s on %q: cost %v", c.model, c.cfg.Kind, cost)
		}
	}
}

func TestConcurrentCutsLowerTheContextOnce(t *testing.T) {
	srv := llmtest.New(t)
	e, logs := newExtractor(t, srv, func(c *Config) { c.Kind = KindLlamaCpp; c.MaxContext = 32768 })
	// Two requests sized for 32768 come back cut: the context is lowered
	// once, not once per request.
	e.lowerContext(&InputTruncatedError{Sent: 9000, Reported: 2100, Context: 32768})
	e.lowerContext(&InputTruncatedError{Sent: 8000, Reported: 2000, Context: 32768})
	if e.Context() != 2100 {
		t.Errorf("context %d, want 2100", e.Context())
	}
	// A request sized for the lowered context cut again lowers it more.
	e.lowerContext(&InputTruncatedError{Sent: 2000, Reported: 900, Context: 2100})
	if e.Context() != 900 {
		t.Errorf("context %d, want 900", e.Context())
	}
	if n := strings.Count(logs.String(), "cut a prompt short"); n != 1 {
		t.Errorf("said %d times, want once:\n%s", n, logs)
	}
	if err := e.CheckBudget(); !errors.Is(err, ErrContextTooSmall) || !strings.Contains(err.Error(), "the server cut prompts to about 900 tokens") {
		t.Errorf("CheckBudget = %v", err)
	}
}
