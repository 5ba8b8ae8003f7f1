package llm

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/thesisdb/thesisdb/extract"
)

// Mode is how the extractor asks the server for structured output.
type Mode string

// The output modes.
const (
	// ModeAuto starts with json_schema and falls back, once per run, when
	// the server says the mode is unsupported.
	ModeAuto Mode = "auto"
	// ModeJSONSchema sends the schema as response_format json_schema with
	// strict: true; the server constrains the answer to it.
	ModeJSONSchema Mode = "json_schema"
	// ModeJSONObject asks only for a JSON object and writes the schema into
	// the system prompt.
	ModeJSONObject Mode = "json_object"
	// ModeTools offers one function whose parameters are the schema and
	// forces the model to call it.
	ModeTools Mode = "tools"
)

// ParseMode turns a flag value into a Mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ModeAuto, nil
	case ModeAuto, ModeJSONSchema, ModeJSONObject, ModeTools:
		return m, nil
	}
	return "", fmt.Errorf("unknown LLM mode %q (want auto, json_schema, json_object or tools)", s)
}

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input       float64 `json:"input"`
	CachedInput float64 `json:"cached_input"`
	Output      float64 `json:"output"`
}

// DefaultPrices are list prices of common OpenAI models (USD per million
// tokens, as published in 2025); local models cost nothing. Override or
// extend them with Config.Prices.
var DefaultPrices = map[string]Price{
	"gpt-4o-mini":  {Input: 0.15, CachedInput: 0.075, Output: 0.60},
	"gpt-4o":       {Input: 2.50, CachedInput: 1.25, Output: 10.00},
	"gpt-4.1":      {Input: 2.00, CachedInput: 0.50, Output: 8.00},
	"gpt-4.1-mini": {Input: 0.40, CachedInput: 0.10, Output: 1.60},
	"gpt-4.1-nano": {Input: 0.10, CachedInput: 0.025, Output: 0.40},
	"gpt-5":        {Input: 1.25, CachedInput: 0.125, Output: 10.00},
	"gpt-5-mini":   {Input: 0.25, CachedInput: 0.025, Output: 2.00},
	"gpt-5-nano":   {Input: 0.05, CachedInput: 0.005, Output: 0.40},
	"o4-mini":      {Input: 1.10, CachedInput: 0.275, Output: 4.40},
}

// DefaultModel is the model used when none is configured.
const DefaultModel = "gpt-4o-mini"

// Config configures an Extractor. The zero value plus an API key (or a
// BaseURL of a local server) is usable: every other field has a default.
type Config struct {
	// BaseURL is the OpenAI-compatible API root, e.g.
	// "http://localhost:11434/v1"; empty means OpenAI. A user name and
	// password in it are sent (HTTP basic authentication) but never
	// logged or printed.
	BaseURL string
	// APIKey is sent as a bearer token. It is never logged, printed or
	// stored, and is removed from error messages that echo it.
	APIKey string
	// Model is the model name the server knows (default DefaultModel).
	Model string
	// Mode is the structured-output mode (default ModeAuto).
	Mode Mode
	// Temperature is the sampling temperature (default 0, which is sent
	// explicitly). A negative value omits it, for models that reject it.
	Temperature float64
	// Timeout bounds one HTTP attempt (default 5 minutes: local servers on
	// a CPU are slow).
	Timeout time.Duration
	// MaxRetries is how many times a failed request is retried (default 4;
	// negative disables retries).
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// retries (defaults 1s and 60s); a server's Retry-After takes
	// precedence.
	RetryWaitMin, RetryWaitMax time.Duration
	// RPM and TPM limit requests and tokens per minute (0: unlimited).
	RPM, TPM int
	// MaxContext is the context window one request gets, in tokens
	// (default 32768; Discover reads the server's); longer documents are
	// split.
	MaxContext int
	// MaxOutputTokens caps each answer (default a quarter of MaxContext,
	// at most 4096).
	MaxOutputTokens int
	// Kind is the kind of server (from Discover; "" when not known). It
	// decides whether the schema counts as prompt in json_schema mode and
	// whether list prices apply: DefaultPrices are OpenAI's, so a model
	// served by another kind of server is priced only from Prices.
	Kind ServerKind
	// Prices override or extend DefaultPrices, by model name.
	Prices map[string]Price
	// Logger receives retries and mode fallbacks (default: discard).
	Logger *slog.Logger
	// Transport is the HTTP transport under the retrying client (default:
	// a pooled transport with sensible dial and TLS timeouts).
	Transport http.RoundTripper
}

// ConfigFromEnv returns a Config filled from OPENAI_API_KEY,
// OPENAI_BASE_URL and THESISDB_MODEL.
func ConfigFromEnv() Config {
	return Config{
		APIKey:  strings.TrimSpace(os.Getenv("OPENAI_API_KEY")),
		BaseURL: strings.TrimSpace(os.Getenv("OPENAI_BASE_URL")),
		Model:   strings.TrimSpace(os.Getenv("THESISDB_MODEL")),
	}
}

// String describes the configuration without the API key, and with the
// password of a base URL that carries one redacted.
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("llm.Config{BaseURL:%q Model:%q Mode:%s APIKey:%s}", extract.RedactURL(c.BaseURL), c.Model, c.Mode, key)
}

// GoString keeps %#v from printing the API key.
func (c Config) GoString() string { return c.String() }

func (c Config) withDefaults() (Config, error) {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	m, err := ParseMode(string(c.Mode))
	if err != nil {
		return c, err
	}
	c.Mode = m
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 4
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryWaitMin <= 0 {
		c.RetryWaitMin = time.Second
	}
	if c.RetryWaitMax <= 0 {
		c.RetryWaitMax = 60 * time.Second
	}
	if c.RetryWaitMax < c.RetryWaitMin {
		c.RetryWaitMax = c.RetryWaitMin
	}
	if c.MaxContext <= 0 {
		c.MaxContext = 32768
	}
	if c.MaxOutputTokens <= 0 {
		c.MaxOutputTokens = min(4096, max(256, c.MaxContext/4))
	}
	if c.RPM < 0 || c.TPM < 0 {
		return c, fmt.Errorf("rate limits must not be negative (rpm %d, tpm %d)", c.RPM, c.TPM)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c, nil
}

// price finds the model's price: an exact name first, then the longest
// name the model starts with ("gpt-4o-mini-2024-07-18" costs as
// "gpt-4o-mini").
func (c Config) price(model string) (Price, bool) {
	lookup := func(tab map[string]Price) (Price, bool) {
		if p, ok := tab[model]; ok {
			return p, true
		}
		best, found := "", false
		var bp Price
		for name, p := range tab {
			if strings.HasPrefix(model, name) && len(name) > len(best) {
				best, bp, found = name, p, true
			}
		}
		return bp, found
	}
	if p, ok := lookup(c.Prices); ok {
		return p, true
	}
	if c.Kind != "" && c.Kind != KindOpenAI {
		return Price{}, false // OpenAI's list prices, not this server's
	}
	return lookup(DefaultPrices)
}

// Priced reports whether Cost knows the price of model.
func (c Config) Priced(model string) bool {
	_, ok := c.price(model)
	return ok
}

// Cost prices a usage in US dollars with the configured table; a model
// without a known price (see Priced) costs 0.
func (c Config) Cost(model string, prompt, cached, completion int) float64 {
	p, ok := c.price(model)
	if !ok {
		return 0
	}
	uncached := max(prompt-cached, 0)
	return (float64(uncached)*p.Input + float64(cached)*p.CachedInput + float64(completion)*p.Output) / 1e6
}

// reasoningModel reports whether OpenAI's API rejects sampling parameters
// (temperature) for model.
func reasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}
