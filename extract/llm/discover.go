package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/thesisdb/thesisdb/extract"
)

// ServerKind names the kind of OpenAI-compatible server behind a base URL.
type ServerKind string

// The server kinds discovery recognises.
const (
	KindOpenAI   ServerKind = "openai"
	KindLlamaCpp ServerKind = "llama-server"
	KindOllama   ServerKind = "ollama"
	KindVLLM     ServerKind = "vllm"
	KindLMStudio ServerKind = "lm-studio"
	KindUnknown  ServerKind = "unknown"
)

// Server is what discovery learnt about the server before any document.
type Server struct {
	Kind ServerKind
	// Models are the ids GET /models lists.
	Models []string
	// Model is the model to use: the configured one, else the only one
	// the server serves ("" when it cannot be told).
	Model string
	// Context is the context window one request gets, in tokens (0:
	// unknown): llama-server's per-slot n_ctx, Ollama's loaded or
	// configured context, vLLM's max_model_len, LM Studio's loaded length.
	Context int
	// ContextFrom says where Context was read.
	ContextFrom string
	// Slots is how many requests the server runs at once (llama-server's
	// total_slots; 0: unknown).
	Slots int
}

// String is the one-line account of what was found, for the log.
func (s *Server) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", s.Kind)
	if s.Model != "" {
		fmt.Fprintf(&b, ", model %s", s.Model)
	}
	if s.Context > 0 {
		fmt.Fprintf(&b, ", %d tokens of context per request (%s)", s.Context, s.ContextFrom)
	}
	if s.Slots > 0 {
		fmt.Fprintf(&b, ", %d slots", s.Slots)
	}
	return b.String()
}

// Discovery and pre-flight errors. Both stop a run before any document.
var (
	// ErrUnreachable means the server could not be reached (no
	// connection, DNS failure) before the run or for several requests in
	// a row during it.
	ErrUnreachable error = abortError("LLM server unreachable")
	// ErrContextTooSmall means the context window cannot hold the prompt
	// and an answer, so every document would fail.
	ErrContextTooSmall error = abortError("context window too small")
)

// discoverTimeout bounds each discovery request.
const discoverTimeout = 15 * time.Second

// Discover asks the server at cfg.BaseURL (OpenAI when empty) what it
// serves, once, before any document: GET /models (the model names; vLLM's
// max_model_len), then, by kind, llama-server's GET /props (per-slot n_ctx,
// total_slots), Ollama's /api/ps and POST /api/show (the loaded context,
// num_ctx, the model's context_length) or LM Studio's /api/v0/models
// (loaded_context_length). An unreachable server or refused credentials
// are errors wrapping ErrUnreachable or ErrAuth, naming OPENAI_BASE_URL
// or OPENAI_API_KEY; anything else the server does not answer is left
// unknown.
func Discover(ctx context.Context, cfg Config) (*Server, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = "https://api.openai.com/v1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tr := cfg.Transport
	if tr == nil {
		tr = cleanhttp.DefaultPooledTransport()
	}
	d := &discoverer{base: base, root: strings.TrimSuffix(base, "/v1"), key: cfg.APIKey,
		client: &http.Client{Transport: tr, Timeout: discoverTimeout}, cfg: cfg}
	s := &Server{Kind: KindUnknown, Model: strings.TrimSpace(cfg.Model)}
	if err := d.models(ctx, s); err != nil {
		return nil, redact(err, cfg.APIKey)
	}
	if s.Model == "" && len(s.Models) == 1 {
		s.Model = servedName(s.Models[0])
	}
	switch s.Kind {
	case KindLlamaCpp, KindUnknown:
		d.llamaProps(ctx, s)
	}
	if s.Kind == KindUnknown || s.Kind == KindOllama {
		d.ollama(ctx, s)
	}
	if s.Kind == KindUnknown || s.Kind == KindLMStudio {
		d.lmStudio(ctx, s)
	}
	if s.Kind == KindUnknown && (cfg.BaseURL == "" || isOpenAIHost(cfg.BaseURL)) {
		s.Kind = KindOpenAI
	}
	return s, nil
}

// servedName is the name to record for a served model id: llama-server
// lists the path of the model file, of which the file name is enough (it
// ignores the name in requests).
func servedName(id string) string {
	if strings.HasSuffix(strings.ToLower(id), ".gguf") && strings.ContainsAny(id, `/\`) {
		return path.Base(strings.ReplaceAll(id, `\`, "/"))
	}
	return id
}

func isOpenAIHost(base string) bool {
	u, err := url.Parse(base)
	return err == nil && strings.EqualFold(u.Hostname(), "api.openai.com")
}

type discoverer struct {
	base, root string
	key        string
	client     *http.Client
	cfg        Config
}

// do sends a discovery request and decodes a 200 answer into v. It returns the status (0 when there
// was no answer) and, for no answer at all, the connection error.
func (d *discoverer) do(ctx context.Context, method, u string, body any, v any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("discovery request: %w", cleanURLError(err))
	}
	if d.key != "" {
		req.Header.Set("Authorization", "Bearer "+d.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, cleanURLError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read %s: %w", extract.RedactURL(u), err)
	}
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s is not JSON: %w", extract.RedactURL(u), err)
		}
	} else if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("server answered %d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode),
			truncate(bodyText(data), 300))
	}
	return resp.StatusCode, nil
}

// cleanURLError keeps a url.Error's reason but not its URL, which may
// carry a password.
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, extract.RedactURL(ue.URL), ue.Err)
	}
	return err
}

// modelsAnswer is GET /models: OpenAI's list, with vLLM's max_model_len,
// llama-server's meta and the owner that tells servers apart.
type modelsAnswer struct {
	Data []struct {
		ID          string         `json:"id"`
		OwnedBy     string         `json:"owned_by"`
		MaxModelLen int            `json:"max_model_len"`
		Meta        map[string]any `json:"meta"`
	} `json:"data"`
}

// loadingWait is how long discovery waits for a server still loading its
// model (503).
const loadingWait = 60 * time.Second

func (d *discoverer) models(ctx context.Context, s *Server) error {
	var ans modelsAnswer
	u := d.base + "/models"
	deadline := time.Now().Add(loadingWait)
	for {
		status, err := d.do(ctx, http.MethodGet, u, nil, &ans)
		switch {
		case status == 0 && err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("discover the LLM server: %w", ctx.Err())
			}
			return fmt.Errorf("%w: cannot connect to %s (OPENAI_BASE_URL): %w; start the server, or point OPENAI_BASE_URL at it",
				ErrUnreachable, extract.RedactURL(d.base), unwrapNet(err))
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("%w: the server at %s refused the API key (OPENAI_API_KEY): %w", ErrAuth, extract.RedactURL(d.base), err)
		case status == http.StatusServiceUnavailable && time.Now().Before(deadline):
			// llama-server answers 503 while it loads the model.
			select {
			case <-ctx.Done():
				return fmt.Errorf("discover the LLM server: %w", ctx.Err())
			case <-time.After(time.Second):
			}
			continue
		case status != http.StatusOK:
			// Not every server lists its models; go on without.
			d.cfg.Logger.Debug("llm: no model list", "url", extract.RedactURL(u), "err", err)
			return nil
		}
		break
	}
	for _, m := range ans.Data {
		s.Models = append(s.Models, m.ID)
		switch strings.ToLower(m.OwnedBy) {
		case "llamacpp":
			s.Kind = KindLlamaCpp
		case "vllm":
			s.Kind = KindVLLM
		case "openai", "system", "openai-internal":
			if s.Kind == KindUnknown {
				s.Kind = KindOpenAI
			}
		case "organization_owner":
			s.Kind = KindLMStudio
		}
		if m.MaxModelLen > 0 && (s.Model == "" && len(ans.Data) == 1 || m.ID == s.Model) {
			s.Context, s.ContextFrom = m.MaxModelLen, "vLLM max_model_len"
		}
	}
	return nil
}

// unwrapNet shortens a dial error to its cause ("connection refused").
func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// llamaProps reads llama-server's GET /props: default_generation_settings
// n_ctx is one slot's context (--ctx-size divided by --parallel), and
// total_slots how many requests it serves at once.
func (d *discoverer) llamaProps(ctx context.Context, s *Server) {
	var props struct {
		Settings *struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
		TotalSlots int `json:"total_slots"`
	}
	if status, _ := d.do(ctx, http.MethodGet, d.root+"/props", nil, &props); status != http.StatusOK || props.Settings == nil {
		return
	}
	s.Kind = KindLlamaCpp
	if props.Settings.NCtx > 0 {
		s.Context, s.ContextFrom = props.Settings.NCtx, "llama-server /props n_ctx per slot"
	}
	s.Slots = props.TotalSlots
}

// numCtxRe finds num_ctx in Ollama's parameters text.
var numCtxRe = regexp.MustCompile(`(?m)^\s*num_ctx\s+(\d+)`)

// ollamaDefaultContext is what Ollama gives a model that sets no num_ctx
// (OLLAMA_CONTEXT_LENGTH, 4096 by default since 0.6; 2048 before, which
// truncation detection then finds).
const ollamaDefaultContext = 4096

// ollama recognises Ollama by GET /api/version and reads the context its
// OpenAI endpoint uses: the loaded model's context_length in /api/ps, else
// num_ctx from /api/show's parameters, else Ollama's default; never more
// than the model's own <arch>.context_length.
func (d *discoverer) ollama(ctx context.Context, s *Server) {
	var ver struct {
		Version string `json:"version"`
	}
	if status, _ := d.do(ctx, http.MethodGet, d.root+"/api/version", nil, &ver); status != http.StatusOK || ver.Version == "" {
		return
	}
	s.Kind = KindOllama
	if s.Model == "" {
		return
	}
	var ps struct {
		Models []struct {
			Name          string `json:"name"`
			Model         string `json:"model"`
			ContextLength int    `json:"context_length"`
		} `json:"models"`
	}
	if status, _ := d.do(ctx, http.MethodGet, d.root+"/api/ps", nil, &ps); status == http.StatusOK {
		for _, m := range ps.Models {
			if (m.Name == s.Model || m.Model == s.Model) && m.ContextLength > 0 {
				s.Context, s.ContextFrom = m.ContextLength, "Ollama /api/ps context_length of the loaded model"
			}
		}
	}
	var show struct {
		Parameters string         `json:"parameters"`
		ModelInfo  map[string]any `json:"model_info"`
	}
	if status, _ := d.do(ctx, http.MethodPost, d.root+"/api/show", map[string]string{"model": s.Model}, &show); status != http.StatusOK {
		return
	}
	if s.Context == 0 {
		if m := numCtxRe.FindStringSubmatch(show.Parameters); m != nil {
			n, _ := strconv.Atoi(m[1])
			s.Context, s.ContextFrom = n, "Ollama num_ctx of the model"
		} else {
			s.Context, s.ContextFrom = ollamaDefaultContext, "Ollama's default num_ctx (the model sets none)"
		}
	}
	arch, _ := show.ModelInfo["general.architecture"].(string)
	if n, ok := show.ModelInfo[arch+".context_length"].(float64); ok && n > 0 && int(n) < s.Context {
		s.Context, s.ContextFrom = int(n), "Ollama model_info "+arch+".context_length"
	}
}

// lmStudio reads LM Studio's GET /api/v0/models: the loaded model's
// loaded_context_length (else max_context_length).
func (d *discoverer) lmStudio(ctx context.Context, s *Server) {
	var ans struct {
		Data []struct {
			ID            string `json:"id"`
			State         string `json:"state"`
			Loaded        int    `json:"loaded_context_length"`
			MaxContextLen int    `json:"max_context_length"`
		} `json:"data"`
	}
	if status, _ := d.do(ctx, http.MethodGet, d.root+"/api/v0/models", nil, &ans); status != http.StatusOK || len(ans.Data) == 0 {
		return
	}
	s.Kind = KindLMStudio
	if s.Model == "" {
		var loaded []string
		for _, m := range ans.Data {
			if m.State == "loaded" {
				loaded = append(loaded, m.ID)
			}
		}
		if len(loaded) == 1 {
			s.Model = loaded[0]
		}
	}
	for _, m := range ans.Data {
		if m.ID != s.Model {
			continue
		}
		switch {
		case m.Loaded > 0:
			s.Context, s.ContextFrom = m.Loaded, "LM Studio loaded_context_length"
		case m.MaxContextLen > 0:
			s.Context, s.ContextFrom = m.MaxContextLen, "LM Studio max_context_length"
		}
	}
}
