package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm"
)

// llmFlags configure the LLM extractor. The API key and base URL come only
// from the environment, so that secrets stay out of shell history.
type llmFlags struct {
	model       string
	mode        string
	rpm, tpm    int
	maxContext  int
	maxOutput   int
	temperature float64
	timeout     time.Duration
	retries     int
	prices      string

	cmd *cobra.Command // to tell flags given from defaults
}

func (f *llmFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.cmd = cmd
	fs.StringVar(&f.model, "model", os.Getenv("THESISDB_MODEL"), "model name the server knows (env THESISDB_MODEL; default: the one the server serves, or "+llm.DefaultModel+" on OpenAI)")
	fs.StringVar(&f.mode, "llm-mode", "auto", "structured output: auto, json_schema (strict), json_object (schema in the prompt) or tools")
	fs.IntVar(&f.rpm, "rpm", 0, "requests per minute limit (0: none)")
	fs.IntVar(&f.tpm, "tpm", 0, "tokens per minute limit (0: none)")
	fs.IntVar(&f.maxContext, "max-context", 0, "context window one request gets, in tokens (default: what the server says — llama-server's per-slot n_ctx, Ollama's num_ctx, vLLM's max_model_len — else 32768); longer documents are split")
	fs.IntVar(&f.maxOutput, "max-output-tokens", 0, "cap on each answer's tokens (default a quarter of the context, at most 4096)")
	fs.Float64Var(&f.temperature, "temperature", 0, "sampling temperature (0 is sent explicitly; negative omits it)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "limit on one LLM request")
	fs.IntVar(&f.retries, "retries", 4, "retries of a request on 408, 429, 5xx and connection errors")
	fs.StringVar(&f.prices, "prices", "", `JSON file of prices per model in USD per million tokens, e.g. {"my-model":{"input":0.1,"cached_input":0.05,"output":0.4}}`)
}

// configured reports whether the environment points at an LLM.
func (f *llmFlags) configured() bool {
	c := llm.ConfigFromEnv()
	return c.APIKey != "" || c.BaseURL != ""
}

func (f *llmFlags) config(log *slog.Logger) (llm.Config, error) {
	c := llm.ConfigFromEnv()
	if f.model != "" {
		c.Model = f.model
	}
	mode, err := llm.ParseMode(f.mode)
	if err != nil {
		return c, fmt.Errorf("--llm-mode: %w", err)
	}
	c.Mode = mode
	c.RPM, c.TPM = f.rpm, f.tpm
	c.MaxContext, c.MaxOutputTokens = f.maxContext, f.maxOutput
	c.Temperature = f.temperature
	c.Timeout = f.timeout
	c.MaxRetries = f.retries
	if f.retries == 0 {
		c.MaxRetries = -1
	}
	c.Logger = log
	if f.prices != "" {
		data, err := os.ReadFile(f.prices)
		if err != nil {
			return c, fmt.Errorf("--prices: %w", err)
		}
		if err := json.Unmarshal(data, &c.Prices); err != nil {
			return c, fmt.Errorf("--prices %s: %w", f.prices, err)
		}
	}
	return c, nil
}

// discoverTimeout bounds the whole discovery of the server.
const discoverTimeout = 2 * time.Minute

// extractor asks the server what it serves (once, before any document),
// completes the configuration from it unless flags say otherwise, and
// builds the extractor. An unreachable server, a refused key or a context
// too small for any document are errors that stop the run (they wrap
// extract.ErrAbortRun).
func (f *llmFlags) extractor(log *slog.Logger) (extract.Extractor, error) {
	c, err := f.config(log)
	if err != nil {
		return nil, err
	}
	if c.APIKey == "" && c.BaseURL == "" {
		return nil, fmt.Errorf("--extractor llm needs OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (a local OpenAI-compatible server such as http://localhost:11434/v1)")
	}
	server := extract.RedactURL(c.BaseURL)
	if server == "" {
		server = "OpenAI"
	}
	ctx, cancel := context.WithTimeout(context.Background(), discoverTimeout)
	defer cancel()
	srv, err := llm.Discover(ctx, c)
	if err != nil {
		return nil, err
	}
	c.Kind = srv.Kind
	switch {
	case c.Model != "":
	case srv.Model != "":
		c.Model = srv.Model
	case srv.Kind == llm.KindOpenAI:
		c.Model = llm.DefaultModel
	case len(srv.Models) > 1:
		return nil, fmt.Errorf("the server at %s serves %d models (%s): choose one with --model or THESISDB_MODEL",
			server, len(srv.Models), displayText(strings.Join(srv.Models[:min(len(srv.Models), 8)], ", ")))
	default:
		return nil, fmt.Errorf("the server at %s does not say which model it serves: name it with --model or THESISDB_MODEL", server)
	}
	switch {
	case c.MaxContext == 0 && srv.Context > 0:
		c.MaxContext = srv.Context
	case c.MaxContext > srv.Context && srv.Context > 0:
		log.Warn("--max-context is more than the server gives one request: prompts longer than that would be cut (thesisdb notices and splits)",
			"max_context", c.MaxContext, "server", srv.Context)
	}
	if srv.Slots > 0 && f.cmd != nil {
		if cf := f.cmd.Flags().Lookup("concurrency"); cf != nil && !cf.Changed {
			// One document per slot: more would only queue in the server.
			_ = f.cmd.Flags().Set("concurrency", strconv.Itoa(srv.Slots))
		}
	}
	ex, err := llm.New(c)
	if err != nil {
		return nil, err
	}
	info := ex.Info()
	args := []any{"server", server, "kind", srv.Kind, "model", info.Model}
	if srv.Context > 0 {
		args = append(args, "server_context", srv.Context, "context_from", srv.ContextFrom)
	}
	if srv.Slots > 0 {
		args = append(args, "slots", srv.Slots)
	}
	args = append(args, "max_context", ex.Context(), "mode", c.Mode, "prompt", info.PromptVersion)
	if !c.Priced(info.Model) {
		args = append(args, "cost", "unknown (no price for this model on this server; --prices sets one)")
	}
	log.Info("extracting with an LLM", args...)
	if err := ex.CheckBudget(); err != nil {
		return nil, err
	}
	return ex, nil
}
