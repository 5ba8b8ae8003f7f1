// Package llm extracts investment theses with a large language model
// behind any OpenAI-compatible chat completions API: OpenAI itself,
// llama.cpp's llama-server, Ollama, vLLM or LM Studio.
//
// # Pointing it at a server
//
// Config.BaseURL (env OPENAI_BASE_URL) selects the server, Config.Model
// (env THESISDB_MODEL) the model, Config.APIKey (env OPENAI_API_KEY) the
// credentials; local servers need no key.
//
//	OpenAI:       OPENAI_API_KEY=sk-...  THESISDB_MODEL=gpt-4o-mini
//	Ollama:       OPENAI_BASE_URL=http://localhost:11434/v1  THESISDB_MODEL=qwen2.5:7b
//	llama-server: OPENAI_BASE_URL=http://localhost:8080/v1   (the model is the one loaded)
//	vLLM:         OPENAI_BASE_URL=http://localhost:8000/v1   THESISDB_MODEL=<served model name>
//	LM Studio:    OPENAI_BASE_URL=http://localhost:1234/v1   THESISDB_MODEL=<loaded model id>
//
// Discover asks the server, once, what it serves: the model, the context
// window one request really gets (llama-server's --ctx-size divided by its
// --parallel slots; Ollama's loaded context or num_ctx; vLLM's
// max_model_len) and the slots. Set Config.MaxContext, Model and Kind from
// it: longer documents are split into parts that fit. A server that still
// cuts a prompt (it reports reading far fewer prompt tokens than were
// sent) is caught: the answer is discarded, the context lowered and the
// document split. Three requests in a row without a connection stop the
// run (ErrUnreachable).
//
// # Output modes
//
//   - json_schema: response_format {"type":"json_schema", "strict": true}
//     with the extraction schema; the server constrains decoding to it
//     (OpenAI, vLLM, LM Studio, recent Ollama and llama-server).
//   - json_object: response_format {"type":"json_object"} with the schema
//     written into the system prompt; for servers that only guarantee
//     syntactically valid JSON (llama.cpp ignores "strict" and does not show
//     the schema to the model, so the prompt must). LM Studio rejects it.
//   - tools: one function whose parameters are the schema, and tool_choice
//     "required" forcing the model to call it (llama.cpp rejects the object
//     form naming the function); for servers with tool calling but no
//     response_format. llama-server needs --jinja for tools (ErrNeedsJinja).
//   - auto (default): json_schema first; when the server answers 400 that
//     the format is unsupported, or cannot compile the schema (llama.cpp's
//     500 "JSON schema conversion failed"), or answers a json_schema request
//     with something that is not JSON at all, fall back to json_object,
//     then tools, once, and keep that mode for the rest of the run.
//
// Whatever the mode, every answer is validated locally against the JSON
// Schema and the semantic rules (schema.Parse); an invalid answer is sent
// back once with the problems quoted, then the document fails with
// ErrInvalidOutput.
//
// # Requests and cost
//
// The system prompt (prompts package) is identical for every document so
// that providers' prompt caching applies; the document comes last in the
// user message, fenced, declared to be data. Temperature 0 is sent
// explicitly. Retries (408, 429, 5xx, connection errors, honouring
// Retry-After and retry-after-ms), per-attempt timeouts and the RPM/TPM
// limits live in the HTTP client under go-openai. Every Result carries the
// tokens used (prompt, completion, cached prompt) and their cost from the
// price table (DefaultPrices, OpenAI's, apply on OpenAI only; Config.Prices
// anywhere; a model without a known price has Usage.CostUnknown set and is
// stored with a NULL cost).
package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/time/rate"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/prompts"
	"github.com/thesisdb/thesisdb/schema"
)

// ToolName is the function the model calls in tools mode.
const ToolName = "record_extraction"

// schemaName names the schema in json_schema requests.
const schemaName = "thesis_extraction"

// Extractor is an extract.Extractor backed by an OpenAI-compatible server.
// It is safe for concurrent use; the caller bounds the concurrency.
type Extractor struct {
	cfg    Config
	client *openai.Client
	log    *slog.Logger

	systems map[Mode]modePrompt // rendered per concrete mode

	reqLimit *rate.Limiter // nil when unlimited
	tokLimit *rate.Limiter

	mu   sync.Mutex
	mode Mode // the concrete mode in use
	// maxContext is the context a request gets: Config.MaxContext, lowered
	// when the server is caught cutting prompts.
	maxContext int
	// ratio is the server's prompt tokens per estimated token, learnt from
	// the first answers' usage (1 until then).
	ratio   float64
	samples int
	// autoOutput: the answer budget follows the context (a quarter).
	autoOutput bool
	cut        bool // a prompt was cut (said once)

	connFails atomic.Int32 // consecutive requests without a connection
	tripped   atomic.Pointer[error]
}

type modePrompt struct {
	text   string
	tokens int // the system message, estimated
	hash   string
}

var _ extract.Extractor = (*Extractor)(nil)

// New checks cfg, fills its defaults and returns an Extractor.
func New(cfg Config) (*Extractor, error) {
	autoOutput := cfg.MaxOutputTokens <= 0
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("llm config: %w", err)
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		if _, err := url.ParseRequestURI(cfg.BaseURL); err != nil {
			// url.Error repeats the URL, credentials included: keep only
			// its reason.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("llm config: base URL %q: %w", extract.RedactURL(cfg.BaseURL), err)
		}
		oc.BaseURL = cfg.BaseURL
	}
	oc.HTTPClient = newHTTPClient(cfg)
	e := &Extractor{
		cfg:     cfg,
		client:  openai.NewClientWithConfig(oc),
		log:     cfg.Logger,
		systems: map[Mode]modePrompt{},
		mode:    cfg.Mode,

		maxContext: cfg.MaxContext,
		ratio:      1,
		autoOutput: autoOutput,
	}
	if e.mode == ModeAuto {
		e.mode = ModeJSONSchema
	}
	for _, m := range []Mode{ModeJSONSchema, ModeJSONObject, ModeTools} {
		o := prompts.SystemOptions{Schema: schema.JSON, IncludeSchema: m == ModeJSONObject}
		if m == ModeTools {
			o.Tool = ToolName
		}
		text, err := prompts.System(o)
		if err != nil {
			return nil, err
		}
		tok := EstimateTokens(text) + messageOverhead + requestOverhead
		h := sha256.New()
		h.Write([]byte(prompts.Version + "\x00" + text + "\x00"))
		h.Write(schema.JSON)
		h.Write([]byte("\x00" + string(m)))
		e.systems[m] = modePrompt{text: text, tokens: tok, hash: hex.EncodeToString(h.Sum(nil))}
	}
	if cfg.RPM > 0 {
		e.reqLimit = rate.NewLimiter(rate.Limit(float64(cfg.RPM)/60), max(1, cfg.RPM/60))
	}
	if cfg.TPM > 0 {
		e.tokLimit = rate.NewLimiter(rate.Limit(float64(cfg.TPM)/60), cfg.TPM)
	}
	if cfg.Temperature == 0 && reasoningModel(cfg.Model) {
		e.log.Info("llm: temperature not sent: the model accepts only its default", "model", cfg.Model)
	}
	return e, nil
}

// Info describes the extractor: model, prompt version, and the hash of the
// system prompt, schema and output mode in use. In auto mode the mode,
// hence the hash, can change once, after the first request that falls
// back; record Info with each extraction, or after the first.
func (e *Extractor) Info() extract.Info {
	m := e.Mode()
	return extract.Info{
		Extractor:     "llm",
		Model:         e.cfg.Model,
		PromptVersion: prompts.Version,
		PromptHash:    e.systems[m].hash,
	}
}

// Mode returns the output mode in use: the configured one, or in auto mode
// the one the server accepted.
func (e *Extractor) Mode() Mode {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mode
}

// fallback moves from mode `from` to the next mode after a server said it
// is unsupported; it reports false when there is none left or the mode is
// fixed. Concurrent callers that saw the same failure move only once.
func (e *Extractor) fallback(from Mode, why error) bool {
	if e.cfg.Mode != ModeAuto {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mode != from {
		return true // another request already moved on
	}
	next := map[Mode]Mode{ModeJSONSchema: ModeJSONObject, ModeJSONObject: ModeTools}[from]
	if next == "" {
		return false
	}
	e.mode = next
	e.log.Warn("llm: server does not support this output mode; falling back for the rest of the run",
		"from", string(from), "to", string(next), "reason", truncate(redact(why, e.cfg.APIKey).Error(), 300))
	return true
}

// schemaTokens is the extraction schema's size, estimated.
var schemaTokens = EstimateTokens(string(schema.JSON))

// schemaInPrompt reports whether the server counts the schema as prompt in
// mode m: tools are written into the prompt by every server's chat
// template; a json_schema response format is compiled into an output
// grammar by llama-server, Ollama, vLLM and LM Studio, and only OpenAI
// (or a server not identified) counts it.
func (e *Extractor) schemaInPrompt(m Mode) bool {
	switch m {
	case ModeTools:
		return true
	case ModeJSONSchema:
		k := e.cfg.Kind
		return k == "" || k == KindOpenAI || k == KindUnknown
	}
	return false // json_object writes the schema into the system prompt
}

// overheadEstimate is the estimated (uncalibrated) prompt every document
// pays in mode m on top of its text: system prompt, schema when the
// server counts it, and the user message's framing.
func (e *Extractor) overheadEstimate(m Mode) int {
	user, _ := prompts.Document(prompts.Doc{})
	n := e.systems[m].tokens + EstimateTokens(user) + messageOverhead
	if e.schemaInPrompt(m) {
		n += schemaTokens
	}
	return n
}

// OverheadTokens estimates the prompt tokens every document pays on top
// of its own text in the current mode, in the server's tokens once its
// usage reports have calibrated the estimate.
func (e *Extractor) OverheadTokens() int {
	return int(e.calibration() * float64(e.overheadEstimate(e.Mode())))
}

// calibration is the server's prompt tokens per estimated token.
func (e *Extractor) calibration() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ratio
}

// outputTokens is the cap on each answer: Config.MaxOutputTokens, or by
// default a quarter of the context in use (at most 4096).
func (e *Extractor) outputTokens() int {
	if !e.autoOutput {
		return e.cfg.MaxOutputTokens
	}
	return min(4096, max(256, e.Context()/4))
}

// Context returns the context window requests are sized for: the
// configured one, or less once the server was caught cutting prompts.
func (e *Extractor) Context() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.maxContext
}

// calibrationSamples is how many answers calibrate the estimate.
const calibrationSamples = 3

// calibrate learns the server's prompt tokens per estimated token from an
// answer's usage (the largest ratio of the first answers, so that budgets
// stay safe), and says so once.
func (e *Extractor) calibrate(sent, reported int) {
	if sent < 200 || reported <= 0 {
		return
	}
	r := min(max(float64(reported)/float64(sent), 0.5), 3)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.samples >= calibrationSamples {
		return
	}
	e.samples++
	if e.samples == 1 || r > e.ratio {
		e.ratio = r
	}
	if e.samples == 1 {
		e.log.Info("llm: prompt size calibrated from the server's usage",
			"server_tokens_per_estimated_token", fmt.Sprintf("%.2f", r),
			"overhead_tokens", int(r*float64(e.overheadEstimate(e.mode))), "context", e.maxContext)
	}
}

// minPartTokens is the least document text worth one request.
const minPartTokens = 256

// CheckBudget returns an error wrapping ErrContextTooSmall when the
// context cannot hold the prompt, an answer and some document text: every
// document would fail, so the run should not start (or go on).
func (e *Extractor) CheckBudget() error {
	if e.partBudget() >= minPartTokens {
		return nil
	}
	e.mu.Lock()
	cut := e.cut
	e.mu.Unlock()
	if cut {
		return fmt.Errorf("%w: the server cut prompts to about %d tokens, too few for the prompt (about %d) and an answer (up to %d): "+
			"give each request more context (llama-server -c divided by -np; Ollama num_ctx)", ErrContextTooSmall, e.Context(), e.OverheadTokens(), e.outputTokens())
	}
	return fmt.Errorf("%w: --max-context is %d tokens but the prompt alone needs about %d and an answer up to %d (--max-output-tokens), "+
		"leaving no room for a document: give each request more context (llama-server -c divided by -np; Ollama num_ctx) and set --max-context to it, or lower --max-output-tokens",
		ErrContextTooSmall, e.Context(), e.OverheadTokens(), e.outputTokens())
}

// outputGuess estimates the answer's tokens for a text of textTokens.
func (e *Extractor) outputGuess(textTokens int) int {
	return min(e.outputTokens(), 300+textTokens/6)
}

// Estimate returns the prompt and output tokens a document would take and
// their cost, without calling the server (for dry runs). Long documents
// are counted as the parts and the synthesis pass they would be split
// into; cached-prompt discounts are not assumed.
func (e *Extractor) Estimate(doc *schema.Document) (promptTokens, outputTokens int, costUSD float64) {
	over := e.OverheadTokens()
	textTokens := EstimateTokens(doc.Text)
	if budget := e.partBudget(); textTokens <= budget {
		promptTokens = over + textTokens
		outputTokens = e.outputGuess(textTokens)
	} else {
		parts := splitText(doc.Text, budget, overlapTokens(budget))
		for _, p := range parts {
			pt := EstimateTokens(p)
			promptTokens += over + pt
			outputTokens += e.outputGuess(pt)
		}
		// The synthesis pass reads about half a part plus the findings.
		promptTokens += over + budget
		outputTokens += e.outputGuess(budget / 4)
	}
	return promptTokens, outputTokens, e.cfg.Cost(e.cfg.Model, promptTokens, 0, outputTokens)
}

// lowerContext shrinks the run's context after the server cut a prompt
// to reported tokens, and says so.
func (e *Extractor) lowerContext(te *InputTruncatedError) {
	e.mu.Lock()
	old := e.maxContext
	if te.Context > old {
		// Sized for a context already lowered (by a concurrent request
		// cut the same way): asking again with the new one is enough.
		e.mu.Unlock()
		return
	}
	e.maxContext = min(te.Reported, old*3/4)
	now := e.maxContext
	first := !e.cut
	e.cut = true
	e.mu.Unlock()
	if first {
		e.log.Warn("llm: the server cut a prompt short (its context is smaller than --max-context); the answer was discarded and documents are split to fit the smaller context from now on",
			"sent_tokens_about", te.Sent, "server_read", te.Reported, "max_context_was", old, "max_context_now", now)
		return
	}
	e.log.Info("llm: a prompt was cut again; context lowered", "max_context_now", now)
}

// InputTruncatedError reports an answer to a prompt the server cut short:
// it read far fewer prompt tokens than were sent (llama-server and Ollama
// drop what does not fit their context and answer 200). The answer is
// never used.
type InputTruncatedError struct {
	Sent, Reported int
	// Context is the context the request was sized for.
	Context int
}

func (e *InputTruncatedError) Error() string {
	return fmt.Sprintf("the server read %d prompt tokens of about %d sent: it cut the prompt to fit its context (smaller than --max-context)", e.Reported, e.Sent)
}

// partBudget is how many estimated tokens of document text fit one
// request.
func (e *Extractor) partBudget() int {
	room := float64(e.Context()-e.outputTokens()-64) / e.calibration()
	return max(int(room)-e.overheadEstimate(e.Mode()), 0)
}

func overlapTokens(budget int) int { return min(200, budget/10) }

// Extract sends doc to the model and returns its validated extraction. On
// failure the Result, when not nil, still carries the tokens spent.
func (e *Extractor) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	start := time.Now()
	res := &schema.Result{}
	var x *schema.Extraction
	err := extract.Safely(func() error {
		var err error
		x, err = e.extract(ctx, doc, &res.Usage)
		return err
	})
	res.Duration = time.Since(start)
	res.Usage.CostUSD = e.cfg.Cost(e.cfg.Model, res.Usage.PromptTokens, res.Usage.CachedPromptTokens, res.Usage.CompletionTokens)
	res.Usage.CostUnknown = res.Usage.Requests > 0 && !e.cfg.Priced(e.cfg.Model)
	if err != nil {
		err = redact(fmt.Errorf("llm extract %s: %w", doc.Source, err), e.cfg.APIKey)
		if res.Usage.Requests == 0 {
			return nil, err
		}
		return res, err
	}
	res.Extraction = x
	// Beyond the schema: dates, placeholder names, no thesis at all.
	res.Warnings = append(res.Warnings, schema.CheckAnswer(x)...)
	return res, nil
}

// maxContextCuts bounds how often one document is retried after the
// server cut its prompt.
const maxContextCuts = 3

func (e *Extractor) extract(ctx context.Context, doc *schema.Document, u *schema.Usage) (*schema.Extraction, error) {
	if strings.TrimSpace(doc.Text) == "" {
		return nil, extract.ErrEmpty
	}
	for cut := 0; ; cut++ {
		x, err := e.extractOnce(ctx, doc, u)
		var te *InputTruncatedError
		if !errors.As(err, &te) || cut >= maxContextCuts {
			return x, err
		}
		e.lowerContext(te)
	}
}

func (e *Extractor) extractOnce(ctx context.Context, doc *schema.Document, u *schema.Usage) (*schema.Extraction, error) {
	budget := e.partBudget()
	if err := e.CheckBudget(); err != nil {
		return nil, err
	}
	textTokens := EstimateTokens(doc.Text)
	if textTokens <= budget {
		user, err := prompts.Document(docInfo(doc, doc.Text))
		if err != nil {
			return nil, err
		}
		x, err := e.ask(ctx, user, u)
		if !errors.Is(err, ErrTruncated) {
			return x, err
		}
		// The answer did not fit the output budget: ask about smaller parts.
		e.log.Info("llm: answer truncated; splitting the document", "source", doc.Source)
		budget = max(textTokens/2, 256)
	}
	return e.extractLong(ctx, doc, budget, u)
}

func docInfo(doc *schema.Document, text string) prompts.Doc {
	return prompts.Doc{Title: doc.Title, Author: doc.Author, Published: doc.Published, Kind: doc.Kind, Source: doc.Source, Text: text}
}

// maxSplitDepth bounds how often a truncated part is split again.
const maxSplitDepth = 3

// partResult is what one part of a long document yielded.
type partResult struct {
	x *schema.Extraction
}

// extractLong reads a long document in parts of at most budget tokens,
// then asks for the thesis-level fields from the document's beginning, its
// headings and the parts' findings, and attaches the parts' data points,
// de-duplicated, to the theses.
func (e *Extractor) extractLong(ctx context.Context, doc *schema.Document, budget int, u *schema.Usage) (*schema.Extraction, error) {
	parts := splitText(doc.Text, budget, overlapTokens(budget))
	var results []partResult
	var askPart func(text string, depth int) error
	total := len(parts)
	n := 0
	askPart = func(text string, depth int) error {
		n++
		user, err := prompts.Chunk(docInfo(doc, text), n, max(total, n))
		if err != nil {
			return err
		}
		x, err := e.ask(ctx, user, u)
		if errors.Is(err, ErrTruncated) && depth < maxSplitDepth {
			tok := EstimateTokens(text)
			if sub := splitText(text, max(tok/2, 64), overlapTokens(tok/2)); len(sub) > 1 {
				n--
				total += len(sub) - 1
				for _, s := range sub {
					if err := askPart(s, depth+1); err != nil {
						return err
					}
				}
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("part %d of %d: %w", n, total, err)
		}
		results = append(results, partResult{x: x})
		return nil
	}
	for _, p := range parts {
		if err := askPart(p, 0); err != nil {
			return nil, err
		}
	}

	// Findings, within about a third of the budget.
	var findings []string
	findBudget := budget / 3
	used := 0
	for i, r := range results {
		var b strings.Builder
		fmt.Fprintf(&b, "Part %d:", i+1)
		for _, t := range r.x.Theses {
			fmt.Fprintf(&b, "\n  thesis %q (%s): %s", t.Title, t.Stance, t.Statement)
			for _, d := range t.DataPoints {
				fmt.Fprintf(&b, "\n    %s: %s", d.Indicator, d.Value)
			}
		}
		f := b.String()
		ft := EstimateTokens(f)
		if used+ft > findBudget {
			f = head(f, max(findBudget-used, 0))
			ft = EstimateTokens(f)
		}
		if f != "" {
			findings = append(findings, f)
		}
		used += ft
	}
	headings := Headings(doc.Text)
	for len(headings) > 0 && EstimateTokens(strings.Join(headings, "\n")) > budget/6 {
		headings = headings[:len(headings)*3/4]
	}
	begin := head(doc.Text, budget-used-EstimateTokens(strings.Join(headings, "\n"))-32)
	user, err := prompts.Synthesis(docInfo(doc, begin), headings, findings)
	if err != nil {
		return nil, err
	}
	x, err := e.ask(ctx, user, u)
	if err != nil {
		return nil, fmt.Errorf("synthesis pass: %w", err)
	}
	if len(x.Theses) == 0 {
		for _, r := range results {
			if len(r.x.Theses) > 0 {
				t := r.x.Theses[0]
				x.Theses = append(x.Theses, t)
				break
			}
		}
	}
	for i := range x.Theses {
		x.Theses[i].DataPoints = nil
	}
	if len(x.Theses) > 0 {
		assigned := make([][]schema.DataPoint, len(x.Theses))
		for _, r := range results {
			for _, t := range r.x.Theses {
				for _, d := range t.DataPoints {
					i := pick(x.Theses, d, t.Title+" "+t.Statement)
					assigned[i] = append(assigned[i], d)
				}
			}
		}
		for i := range x.Theses {
			x.Theses[i].DataPoints = mergeDataPoints(assigned[i])
			if x.Theses[i].DataPoints == nil {
				x.Theses[i].DataPoints = []schema.DataPoint{}
			}
		}
	}
	if err := schema.Validate(x); err != nil {
		return nil, fmt.Errorf("%w: merged extraction: %w", ErrInvalidOutput, err)
	}
	return x, nil
}

// ask sends one user message after the system prompt and returns the
// validated extraction, re-asking once with the problems quoted when the
// answer does not validate, and falling back to another output mode when
// the server rejects the current one (auto mode).
func (e *Extractor) ask(ctx context.Context, user string, u *schema.Usage) (*schema.Extraction, error) {
	for {
		mode := e.Mode()
		x, err := e.askMode(ctx, mode, user, u)
		if (errors.Is(err, ErrUnsupportedFormat) || errors.Is(err, ErrServerSchema)) && e.fallback(mode, err) {
			continue
		}
		return x, err
	}
}

func (e *Extractor) askMode(ctx context.Context, mode Mode, user string, u *schema.Usage) (*schema.Extraction, error) {
	msgs := []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: e.systems[mode].text},
		{Role: openai.ChatMessageRoleUser, Content: user},
	}
	answer, msg, err := e.complete(ctx, mode, msgs, u)
	if err != nil {
		return nil, err
	}
	x, perr := parseAnswer(answer)
	if perr == nil {
		return x, nil
	}
	if mode == ModeJSONSchema && e.cfg.Mode == ModeAuto && !json.Valid([]byte(cleanAnswer(answer))) && !strings.HasPrefix(cleanAnswer(answer), "{") {
		// The server ignored the schema (llama.cpp b4747 answered prose
		// with 200): another mode, not a re-ask.
		return nil, fmt.Errorf("%w: the answer to a json_schema request is not JSON (%q)", ErrUnsupportedFormat, truncate(answer, 80))
	}
	// Quote the problems back once.
	problems := problemLines(perr)
	reask, err := prompts.Reask(problems)
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, msg)
	if mode == ModeTools && len(msg.ToolCalls) > 0 {
		msgs = append(msgs, openai.ChatCompletionMessage{
			Role: openai.ChatMessageRoleTool, ToolCallID: msg.ToolCalls[0].ID,
			Content: "Rejected: the arguments do not pass validation.",
		})
	}
	msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: reask})
	e.log.Debug("llm: answer invalid; asking again", "problems", len(problems))
	answer, _, err = e.complete(ctx, mode, msgs, u)
	if err != nil {
		return nil, fmt.Errorf("re-ask after invalid answer (%v): %w", perr, err)
	}
	x, perr = parseAnswer(answer)
	if perr != nil {
		return nil, fmt.Errorf("%w after one re-ask: %w", ErrInvalidOutput, perr)
	}
	return x, nil
}

// problemLines turns a parse failure into the lines quoted to the model.
func problemLines(err error) []string {
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		lines := make([]string, 0, len(ve.Problems))
		for _, p := range ve.Problems {
			lines = append(lines, p.String())
		}
		return lines
	}
	return []string{"$: " + err.Error()}
}

var thinkRe = regexp.MustCompile(`(?s)<think>.*?</think>`)

// cleanAnswer strips what models wrap JSON in: reasoning blocks, Markdown
// fences and prose before or after the object.
func cleanAnswer(s string) string {
	s = strings.TrimSpace(thinkRe.ReplaceAllString(s, ""))
	if strings.HasPrefix(s, "```") {
		if nl := strings.IndexByte(s, '\n'); nl >= 0 {
			s = s[nl+1:]
		} else {
			s = strings.TrimPrefix(s, "```")
		}
		s = strings.TrimSpace(s)
		s = strings.TrimSpace(strings.TrimSuffix(s, "```"))
	}
	if !strings.HasPrefix(s, "{") {
		if i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}'); i >= 0 && j > i {
			s = s[i : j+1]
		}
	}
	return s
}

func parseAnswer(answer string) (*schema.Extraction, error) {
	s := cleanAnswer(answer)
	if s == "" {
		return nil, errors.New("the answer is empty; a JSON object is required")
	}
	return schema.Parse([]byte(s))
}

// request builds a chat completion request for mode.
func (e *Extractor) request(mode Mode, msgs []openai.ChatCompletionMessage) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{Model: e.cfg.Model, Messages: msgs}
	if reasoningModel(e.cfg.Model) {
		req.MaxCompletionTokens = e.outputTokens()
	} else {
		req.MaxTokens = e.outputTokens()
	}
	if e.cfg.Temperature > 0 {
		req.Temperature = float32(e.cfg.Temperature)
	}
	raw := json.RawMessage(schema.JSON)
	switch mode {
	case ModeJSONSchema:
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{
			Type:       openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: schemaName, Schema: raw, Strict: true},
		}
	case ModeJSONObject:
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	case ModeTools:
		req.Tools = []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name:        ToolName,
			Description: "Record the investment theses extracted from the document.",
			Parameters:  raw,
			Strict:      true,
		}}}
		// "required" forces a call on OpenAI and llama.cpp alike; the
		// object form naming the function is not accepted by llama.cpp,
		// which then answers without a call. There is one function only.
		req.ToolChoice = "required"
		req.ParallelToolCalls = false
	}
	return req
}

// complete makes one chat completion within the rate limits, accounts its
// usage and returns the answer text (tool arguments in tools mode) and
// the assistant message, or a typed error.
func (e *Extractor) complete(ctx context.Context, mode Mode, msgs []openai.ChatCompletionMessage, u *schema.Usage) (string, openai.ChatCompletionMessage, error) {
	var none openai.ChatCompletionMessage
	if err := e.wait(ctx, msgs); err != nil {
		return "", none, err
	}
	if p := e.tripped.Load(); p != nil {
		return "", none, *p
	}
	sizedFor := e.Context()
	resp, err := e.client.CreateChatCompletion(ctx, e.request(mode, msgs))
	if err != nil {
		if ctx.Err() == nil && connectionFailure(err) {
			return "", none, e.connectionFailed(err)
		}
		e.connFails.Store(0)
		return "", none, e.classify(ctx, err)
	}
	e.connFails.Store(0)
	sent := requestOverhead
	for _, m := range msgs {
		sent += EstimateTokens(m.Content) + messageOverhead
	}
	text, msg, err := e.answer(mode, resp, u)
	if reported := resp.Usage.PromptTokens; reported > 0 && sent >= 200 && float64(reported) < truncatedBelow*float64(sent) {
		return "", none, &InputTruncatedError{Sent: sent, Reported: reported, Context: sizedFor}
	}
	if err == nil {
		if e.schemaInPrompt(mode) {
			sent += schemaTokens
		}
		e.calibrate(sent, resp.Usage.PromptTokens)
	}
	return text, msg, err
}

// truncatedBelow is the share of the estimated prompt below which a
// server's reported prompt tokens mean it cut the prompt: every
// tokenizer makes more tokens of a text than o200k, and the estimate is
// about 1.12 times o200k.
const truncatedBelow = 0.6

// breakerLimit is how many requests in a row may fail to connect before
// the run stops.
const breakerLimit = 3

// connectionFailed counts a request that got no connection and, at
// breakerLimit in a row, stops every later request with ErrUnreachable.
func (e *Extractor) connectionFailed(err error) error {
	server := extract.RedactURL(e.cfg.BaseURL)
	if server == "" {
		server = "OpenAI"
	}
	n := e.connFails.Add(1)
	if n < breakerLimit {
		return fmt.Errorf("cannot connect to the LLM server at %s (OPENAI_BASE_URL): %w", server, unwrapNet(err))
	}
	stop := fmt.Errorf("%w: %d requests in a row could not connect to %s (OPENAI_BASE_URL), the last: %w; is the server still running?",
		ErrUnreachable, n, server, unwrapNet(err))
	e.tripped.CompareAndSwap(nil, &stop)
	return *e.tripped.Load()
}

// connectionFailure reports whether err means no answer came at all: a
// refused or reset connection, a failed dial or name lookup, a connection
// closed before the answer. A timeout is a slow server, not a dead one.
func connectionFailure(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	if errors.As(err, &apiErr) || errors.As(err, &reqErr) {
		return false
	}
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) || errors.As(err, &dns) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// answer accounts a completion's usage and returns its answer text (tool
// arguments in tools mode) and the assistant message, or a typed error for
// refusals, filtered and truncated answers.
func (e *Extractor) answer(mode Mode, resp openai.ChatCompletionResponse, u *schema.Usage) (string, openai.ChatCompletionMessage, error) {
	var none openai.ChatCompletionMessage
	u.Requests++
	u.PromptTokens += resp.Usage.PromptTokens
	u.CompletionTokens += resp.Usage.CompletionTokens
	if d := resp.Usage.PromptTokensDetails; d != nil {
		u.CachedPromptTokens += d.CachedTokens
	}
	if len(resp.Choices) == 0 {
		return "", none, fmt.Errorf("%w: the answer has no choices", ErrInvalidOutput)
	}
	c := resp.Choices[0]
	switch {
	case c.Message.Refusal != "":
		return "", none, fmt.Errorf("%w: %s", ErrRefused, truncate(c.Message.Refusal, 300))
	case c.FinishReason == openai.FinishReasonContentFilter:
		return "", none, ErrContentFiltered
	case c.FinishReason == openai.FinishReasonLength:
		return "", none, fmt.Errorf("%w (%d output tokens)", ErrTruncated, e.outputTokens())
	}
	answer := c.Message.Content
	if mode == ModeTools {
		found := false
		for _, tc := range c.Message.ToolCalls {
			if tc.Function.Name == ToolName || len(c.Message.ToolCalls) == 1 {
				answer, found = tc.Function.Arguments, true
				break
			}
		}
		if !found {
			// Text is not the function's arguments: never parse it as such.
			return "", none, fmt.Errorf("%w: the answer calls no function although tools mode requires the call of %s (tool_choice \"required\"): the server or model does not force tool calls; use --llm-mode json_schema or json_object",
				ErrNoToolCall, ToolName)
		}
	}
	return answer, c.Message, nil
}

// wait blocks until the request and token rate limits allow a request of
// msgs, or ctx ends.
func (e *Extractor) wait(ctx context.Context, msgs []openai.ChatCompletionMessage) error {
	if e.reqLimit != nil {
		if err := e.reqLimit.Wait(ctx); err != nil {
			return fmt.Errorf("rate limit (requests per minute): %w", err)
		}
	}
	if e.tokLimit != nil {
		n := requestOverhead + e.outputTokens()
		for _, m := range msgs {
			n += EstimateTokens(m.Content) + messageOverhead
		}
		if err := e.tokLimit.WaitN(ctx, min(n, e.tokLimit.Burst())); err != nil {
			return fmt.Errorf("rate limit (tokens per minute): %w", err)
		}
	}
	return nil
}

// unsupportedRe recognises a 400 that rejects the output mode.
var unsupportedRe = regexp.MustCompile(`(?i)(response_format|json_schema|json_object|structured output|tool_choice|tools?\b|function)`)
var unsupportedVerbRe = regexp.MustCompile(`(?i)(not supported|unsupported|not support|invalid|unknown|not allowed|must be|unrecognized|not available|does not)`)

// classify turns a go-openai or transport error into a typed error with a
// readable message.
func (e *Extractor) classify(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("chat completion: %w", ctxErr)
	}
	status, msg, code := 0, "", ""
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		status, msg = apiErr.HTTPStatusCode, apiErr.Message
		code = fmt.Sprint(apiErr.Code) + " " + apiErr.Type
	case errors.As(err, &reqErr):
		status, msg = reqErr.HTTPStatusCode, bodyText(reqErr.Body)
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("%w after %d attempt(s) of %s each: %w", ErrTimeout, e.cfg.MaxRetries+1, e.cfg.Timeout, err)
		}
		return fmt.Errorf("chat completion: %w", err)
	}
	msg = truncate(strings.TrimSpace(msg), 500)
	desc := fmt.Sprintf("server answered %d %s: %s", status, http.StatusText(status), msg)
	switch {
	case status == http.StatusTooManyRequests && (strings.Contains(code, "insufficient_quota") || strings.Contains(msg, "insufficient_quota") || strings.Contains(strings.ToLower(msg), "exceeded your current quota")):
		return fmt.Errorf("%w: %s", ErrQuotaExceeded, desc)
	case status == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s", ErrRateLimited, desc)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%w: %s", ErrAuth, desc)
	case strings.Contains(msg, "--jinja"):
		return fmt.Errorf("%w: llama-server takes tools only when started with --jinja: restart it with --jinja, or use --llm-mode json_schema or json_object: %s", ErrNeedsJinja, desc)
	case status >= 500 && permanentServerError([]byte(msg)):
		return fmt.Errorf("%w: the server could not turn the extraction JSON Schema into an output grammar, a permanent failure for this mode (use --llm-mode json_object, or auto): %s", ErrServerSchema, desc)
	case status == http.StatusBadRequest && unsupportedRe.MatchString(msg) && unsupportedVerbRe.MatchString(msg):
		return fmt.Errorf("%w: %s", ErrUnsupportedFormat, desc)
	case status >= 500 || status == http.StatusRequestTimeout:
		return fmt.Errorf("%w after %d attempt(s): %s", ErrServer, e.cfg.MaxRetries+1, desc)
	default:
		return fmt.Errorf("%w: %s", ErrBadRequest, desc)
	}
}

var tagRe = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)

// bodyText makes a readable line of a non-JSON error body (often HTML from
// a proxy).
func bodyText(b []byte) string {
	s := tagRe.ReplaceAllString(string(b), " ")
	return strings.Join(strings.Fields(s), " ")
}

// String describes the extractor without its API key.
func (e *Extractor) String() string {
	return fmt.Sprintf("llm.Extractor{%s mode:%s}", e.cfg.String(), e.Mode())
}

// GoString keeps %#v from printing the API key.
func (e *Extractor) GoString() string { return e.String() }
