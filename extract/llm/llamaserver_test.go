package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/schema"
)

// These tests talk to a real llama-server (../shared/llm) and skip
// without it. Its test model answers the shortest object a grammar
// allows: {"title":null,"author":null,"published":null,"theses":[]}.

// llamaExtractor discovers the server as thesisdb does and builds an
// extractor for it.
func llamaExtractor(t *testing.T, l *llmtest.Llama, mut func(*Config)) (*Extractor, *Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{BaseURL: l.BaseURL(), MaxRetries: -1, Timeout: time.Minute,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	srv, err := Discover(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Model, cfg.Kind, cfg.MaxContext = srv.Model, srv.Kind, srv.Context
	if mut != nil {
		mut(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, srv, logs
}

func TestLlamaServerDiscoveryAndJSONSchema(t *testing.T) {
	l := llmtest.StartLlama(t, "-c", "8192", "-np", "2")
	e, srv, _ := llamaExtractor(t, l, nil)
	if srv.Kind != KindLlamaCpp || srv.Model != "shortest.gguf" || srv.Context != 4096 || srv.Slots != 2 {
		t.Fatalf("discovered %+v; want llama-server serving shortest.gguf, 4096 tokens per slot (-c 8192 / -np 2), 2 slots", srv)
	}
	if e.Info().Model != "shortest.gguf" {
		t.Errorf("model recorded as %q", e.Info().Model)
	}
	if e.cfg.Priced(e.Info().Model) {
		t.Error("a local model is priced")
	}
	res, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt"))
	if err != nil {
		t.Fatalf("%v\n%s", err, l.Log())
	}
	if len(res.Extraction.Theses) != 0 || res.Usage.PromptTokens == 0 || res.Usage.CostUSD != 0 {
		t.Errorf("extraction %+v usage %+v", res.Extraction, res.Usage)
	}
	if !hasWarning(res, "no thesis") {
		t.Errorf("no warning about zero theses: %q", res.Warnings)
	}
	// The schema is a grammar, not prompt: the server read about what
	// the estimate without it says.
	if e.Mode() != ModeJSONSchema || e.calibration() > 1.6 {
		t.Errorf("mode %s, calibration %.2f", e.Mode(), e.calibration())
	}
}

func hasWarning(res *schema.Result, s string) bool {
	for _, w := range res.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

func TestLlamaServerTools(t *testing.T) {
	doc := loadDoc(t, "small_caps.txt")
	t.Run("without --jinja", func(t *testing.T) {
		l := llmtest.StartLlama(t, "-c", "4096", "-np", "1")
		e, _, _ := llamaExtractor(t, l, func(c *Config) { c.Mode = ModeTools; c.MaxRetries = 3 })
		_, err := e.Extract(context.Background(), doc)
		if !errors.Is(err, ErrNeedsJinja) || !errors.Is(err, extract.ErrAbortRun) || !strings.Contains(err.Error(), "--jinja") {
			t.Fatalf("err = %v; want ErrNeedsJinja, stopping the run", err)
		}
		if n := strings.Count(l.Log(), "POST /v1/chat/completions"); n > 1 {
			t.Errorf("%d requests: a permanent error was retried", n)
		}
	})
	t.Run("with --jinja", func(t *testing.T) {
		l := llmtest.StartLlama(t, "-c", "4096", "-np", "1", "--jinja")
		e, _, _ := llamaExtractor(t, l, func(c *Config) { c.Mode = ModeTools })
		res, err := e.Extract(context.Background(), doc)
		if err != nil {
			t.Fatalf("%v\n%s", err, l.Log())
		}
		if res.Usage.Requests != 1 || len(res.Extraction.Theses) != 0 {
			t.Errorf("%d requests, extraction %+v", res.Usage.Requests, res.Extraction)
		}
	})
}

// longDoc is a research note of about n estimated tokens.
func longDoc(t *testing.T, n int) *schema.Document {
	doc := *loadDoc(t, "credit_note.md")
	var b strings.Builder
	b.WriteString(doc.Text)
	for i := 1; EstimateTokens(b.String()) < n; i++ {
		fmt.Fprintf(&b, "\n\nAppendix %d\n\nThis appendix repeats background material on market structure, issuance trends and investor positioning in the high yield market, without new figures, so that the note is long.", i)
	}
	doc.Text = b.String()
	return &doc
}

func TestLlamaServerSilentTruncationIsCaught(t *testing.T) {
	l := llmtest.StartLlama(t, "-c", "4096", "-np", "1")
	// --max-context says 32768; the slot holds 4096.
	e, _, logs := llamaExtractor(t, l, func(c *Config) { c.MaxContext = 32768 })
	doc := longDoc(t, 7000)
	res, err := e.Extract(context.Background(), doc)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, logs)
	}
	if !strings.Contains(logs.String(), "cut a prompt short") {
		t.Fatalf("the cut was not noticed:\n%s", logs)
	}
	if e.Context() >= 4096 {
		t.Errorf("context still %d after the cut", e.Context())
	}
	if res.Usage.Requests < 3 {
		t.Errorf("%d requests: the document was not split after the cut", res.Usage.Requests)
	}
}

func TestLlamaServerKilledMidRun(t *testing.T) {
	l := llmtest.StartLlama(t, "-c", "4096", "-np", "1")
	e, _, _ := llamaExtractor(t, l, func(c *Config) { c.MaxRetries = 1; c.RetryWaitMin, c.RetryWaitMax = time.Millisecond, time.Millisecond })
	doc := loadDoc(t, "small_caps.txt")
	if _, err := e.Extract(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	l.Kill()
	var err error
	for i := 1; i <= breakerLimit; i++ {
		_, err = e.Extract(context.Background(), doc)
		if err == nil {
			t.Fatal("extracted with the server dead")
		}
		if i < breakerLimit && errors.Is(err, extract.ErrAbortRun) {
			t.Fatalf("stopped after %d failures: %v", i, err)
		}
	}
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, extract.ErrAbortRun) || !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
		t.Fatalf("after %d failures: %v; want the run stopped, naming OPENAI_BASE_URL", breakerLimit, err)
	}
}

func TestLlamaServerDownFromTheStart(t *testing.T) {
	l := llmtest.StartLlama(t, "-c", "2048")
	l.Kill()
	_, err := Discover(context.Background(), Config{BaseURL: l.BaseURL()})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
		t.Fatalf("err = %v", err)
	}
}
