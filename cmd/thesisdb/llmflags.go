package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
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
}

func (f *llmFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.model, "model", os.Getenv("THESISDB_MODEL"), "model name the server knows (env THESISDB_MODEL; default "+llm.DefaultModel+")")
	fs.StringVar(&f.mode, "llm-mode", "auto", "structured output: auto, json_schema (strict), json_object (schema in the prompt) or tools")
	fs.IntVar(&f.rpm, "rpm", 0, "requests per minute limit (0: none)")
	fs.IntVar(&f.tpm, "tpm", 0, "tokens per minute limit (0: none)")
	fs.IntVar(&f.maxContext, "max-context", 32768, "model context window in tokens; longer documents are split")
	fs.IntVar(&f.maxOutput, "max-output-tokens", 4096, "cap on each answer's tokens")
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

func (f *llmFlags) extractor(log *slog.Logger) (extract.Extractor, error) {
	c, err := f.config(log)
	if err != nil {
		return nil, err
	}
	if c.APIKey == "" && c.BaseURL == "" {
		return nil, fmt.Errorf("--extractor llm needs OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (a local OpenAI-compatible server such as http://localhost:11434/v1)")
	}
	ex, err := llm.New(c)
	if err != nil {
		return nil, err
	}
	info := ex.Info()
	server := extract.RedactURL(c.BaseURL)
	if server == "" {
		server = "OpenAI"
	}
	log.Info("extracting with an LLM", "server", server, "model", info.Model, "mode", c.Mode, "prompt", info.PromptVersion)
	return ex, nil
}
