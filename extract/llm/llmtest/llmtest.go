// Package llmtest is an in-process OpenAI-compatible chat completions
// server for tests and benchmarks: it records every request (decoded body
// and headers) and answers each call from a script of responses and
// faults, with optional latency.
package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	// Raw is the body as sent; Body is it decoded (nil when not JSON).
	Raw  []byte
	Body map[string]any
}

// Messages returns the request's chat messages as role and content pairs.
func (r Request) Messages() []Message {
	var out struct {
		Messages []Message `json:"messages"`
	}
	_ = json.Unmarshal(r.Raw, &out)
	return out.Messages
}

// Message is one chat message of a request.
type Message struct {
	Role       string `json:"role"`
	Content    string `json:"content"`
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// Response is one scripted answer. A zero Status means 200. When Body is
// empty and the status is 200, a chat completion is built from Content,
// ToolArguments, Refusal, FinishReason and Usage.
type Response struct {
	Status int
	Header map[string]string
	// Body is sent verbatim when set (error bodies, HTML pages).
	Body string
	// Content is the assistant message's text.
	Content string
	// ToolArguments, when set, makes the answer a call of Tool with them.
	ToolArguments string
	Tool          string
	Refusal       string
	// FinishReason defaults to "stop", or "tool_calls" for a tool call.
	FinishReason string
	// Usage is reported as is when set; otherwise it is estimated from the
	// request and answer sizes (4 bytes a token).
	Usage *Usage
	// Delay is waited before answering (on top of Server.Latency).
	Delay time.Duration
	// Hang closes the connection without answering.
	Hang bool
}

// Usage is a completion's reported token usage.
type Usage struct {
	Prompt, Completion, Cached int
}

// Completion answers with content as the assistant message.
func Completion(content string) Response { return Response{Content: content} }

// ToolCall answers with a call of the named function with arguments.
func ToolCall(name, arguments string) Response {
	return Response{Tool: name, ToolArguments: arguments}
}

// Error answers status with an OpenAI-style JSON error body.
func Error(status int, typ, code, message string) Response {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": message, "type": typ, "code": code, "param": nil}})
	return Response{Status: status, Body: string(b), Header: map[string]string{"Content-Type": "application/json"}}
}

// HTML answers status with an HTML page, as proxies and gateways do.
func HTML(status int) Response {
	text := http.StatusText(status)
	return Response{Status: status, Header: map[string]string{"Content-Type": "text/html"},
		Body: fmt.Sprintf("<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>", status, text, status, text)}
}

// Server is a scripted OpenAI-compatible server. Create it with New.
type Server struct {
	*httptest.Server

	// Latency is waited before every answer (cancelled with the request).
	Latency time.Duration
	// Record keeps every request for Requests (default true); benchmarks
	// turn it off.
	Record bool

	mu       sync.Mutex
	script   []Response
	fallback func(Request) Response
	reqs     []Request
	calls    int
	batchAPI *BatchAPI

	discovery map[string]Response
	probes    []Request
}

// New starts a server on loopback, closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{Record: true}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	tb.Cleanup(s.Close)
	return s
}

// BaseURL is the API root to configure clients with ("<url>/v1").
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Script queues responses, served one per call in order.
func (s *Server) Script(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// Otherwise sets how calls are answered once the script is used up
// (default: a 500 saying the script is exhausted).
func (s *Server) Otherwise(fn func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = fn
}

// Requests returns the recorded requests, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Calls returns how many requests arrived.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Pending returns how many scripted responses are still unused.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw}
	if err := json.Unmarshal(raw, &req.Body); err != nil {
		req.Body = nil
	}
	if key := r.Method + " " + r.URL.Path; discoveryPaths[key] {
		s.serveDiscovery(w, key, req)
		return
	}
	s.mu.Lock()
	s.calls++
	if s.Record {
		s.reqs = append(s.reqs, req)
	}
	batches := s.batchAPI
	s.mu.Unlock()
	if batches != nil && batches.serve(w, r, raw) {
		return
	}
	resp := s.next(req)
	if d := s.Latency + resp.Delay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if resp.Hang {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body != "" || status != http.StatusOK {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp.Body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(completion(raw, resp))
}

// next returns the answer to req: the next scripted response, else the
// fallback's, else a 500 saying the script is exhausted.
func (s *Server) next(req Request) Response {
	s.mu.Lock()
	if len(s.script) > 0 {
		resp := s.script[0]
		s.script = s.script[1:]
		s.mu.Unlock()
		return resp
	}
	fn := s.fallback
	s.mu.Unlock()
	if fn != nil {
		return fn(req)
	}
	return Error(http.StatusInternalServerError, "server_error", "", "llmtest: script exhausted")
}

// completion builds a chat.completion object for resp.
func completion(reqBody []byte, resp Response) map[string]any {
	var in struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(reqBody, &in)
	msg := map[string]any{"role": "assistant", "content": resp.Content}
	finish := resp.FinishReason
	if resp.ToolArguments != "" {
		name := resp.Tool
		if name == "" {
			name = "record_extraction"
		}
		msg["content"] = nil
		msg["tool_calls"] = []any{map[string]any{"id": "call_1", "type": "function",
			"function": map[string]any{"name": name, "arguments": resp.ToolArguments}}}
		if finish == "" {
			finish = "tool_calls"
		}
	}
	if resp.Refusal != "" {
		msg["refusal"] = resp.Refusal
		msg["content"] = nil
	}
	if finish == "" {
		finish = "stop"
	}
	u := resp.Usage
	if u == nil {
		u = &Usage{Prompt: len(reqBody) / 4, Completion: (len(resp.Content) + len(resp.ToolArguments) + 3) / 4}
	}
	usage := map[string]any{"prompt_tokens": u.Prompt, "completion_tokens": u.Completion, "total_tokens": u.Prompt + u.Completion}
	if u.Cached > 0 {
		usage["prompt_tokens_details"] = map[string]any{"cached_tokens": u.Cached}
	}
	return map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": time.Now().Unix(), "model": in.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   usage,
	}
}

// Compact returns b with insignificant whitespace removed, for comparing
// JSON documents byte for byte.
func Compact(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}

// LastUser returns the content of the request's last user message.
func (r Request) LastUser() string {
	ms := r.Messages()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == "user" {
			return ms[i].Content
		}
	}
	return ""
}

// Contains reports whether any message of the request contains s.
func (r Request) Contains(s string) bool {
	for _, m := range r.Messages() {
		if strings.Contains(m.Content, s) {
			return true
		}
	}
	return false
}

// discoveryPaths are the endpoints servers describe themselves with:
// answered from Discover's table, recorded apart from chat requests.
var discoveryPaths = map[string]bool{
	"GET /v1/models": true, "GET /props": true, "GET /api/version": true, "GET /api/ps": true,
	"POST /api/show": true, "GET /api/v0/models": true,
}

// Discover sets the answers of the discovery endpoints, by "METHOD /path"
// (GET /v1/models, GET /props, GET /api/version, GET /api/ps, POST
// /api/show, GET /api/v0/models). Unset ones answer 404, except GET
// /v1/models, which by default lists OpenAI models.
func (s *Server) Discover(answers map[string]Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discovery = answers
}

// Probes returns the discovery requests received, in arrival order; they
// are not among Requests and not counted by Calls.
func (s *Server) Probes() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.probes...)
}

func (s *Server) serveDiscovery(w http.ResponseWriter, key string, req Request) {
	s.mu.Lock()
	s.probes = append(s.probes, req)
	resp, ok := s.discovery[key]
	s.mu.Unlock()
	if !ok {
		if key != "GET /v1/models" {
			http.NotFound(w, nil)
			return
		}
		resp = OpenAIModels()
	}
	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, resp.Body)
}

// JSON answers 200 with v encoded as JSON.
func JSON(v any) Response {
	b, _ := json.Marshal(v)
	return Response{Body: string(b), Header: map[string]string{"Content-Type": "application/json"}}
}

// OpenAIModels is OpenAI's GET /v1/models answer.
func OpenAIModels() Response {
	var data []any
	for _, id := range []string{"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"} {
		data = append(data, map[string]any{"id": id, "object": "model", "created": 1721172741, "owned_by": "system"})
	}
	return JSON(map[string]any{"object": "list", "data": data})
}

// LlamaServer is what llama-server answers about itself: the model file it
// serves and, in GET /props, one slot's context (--ctx-size divided by
// --parallel) and the number of slots.
func LlamaServer(modelPath string, slotContext, slots int) map[string]Response {
	return map[string]Response{
		"GET /v1/models": JSON(map[string]any{"object": "list", "data": []any{map[string]any{
			"id": modelPath, "object": "model", "created": 1, "owned_by": "llamacpp",
			"meta": map[string]any{"n_ctx_train": 131072, "n_vocab": 32000}}}}),
		"GET /props": JSON(map[string]any{
			"default_generation_settings": map[string]any{"id": 0, "n_ctx": slotContext, "params": map[string]any{}},
			"total_slots":                 slots, "model_path": modelPath}),
	}
}

// Ollama is what Ollama answers about itself for models (name to
// <arch>.context_length): its version, /v1/models, POST /api/show with
// numCtx as the num_ctx parameter (none when 0), and /api/ps with the
// first model loaded at loadedCtx (none loaded when 0).
func Ollama(models map[string]int, numCtx, loadedCtx int) map[string]Response {
	var data, ps []any
	first := ""
	for name := range models {
		if first == "" || name < first {
			first = name
		}
	}
	for name := range models {
		data = append(data, map[string]any{"id": name, "object": "model", "created": 1, "owned_by": "library"})
	}
	if loadedCtx > 0 {
		ps = append(ps, map[string]any{"name": first, "model": first, "size": 1, "context_length": loadedCtx})
	}
	params := "stop \"<|im_end|>\"\ntemperature 0.7"
	if numCtx > 0 {
		params = fmt.Sprintf("num_ctx %d\n%s", numCtx, params)
	}
	info := map[string]any{"general.architecture": "qwen2", "qwen2.context_length": models[first]}
	return map[string]Response{
		"GET /api/version": JSON(map[string]any{"version": "0.9.0"}),
		"GET /v1/models":   JSON(map[string]any{"object": "list", "data": data}),
		"GET /api/ps":      JSON(map[string]any{"models": ps}),
		"POST /api/show":   JSON(map[string]any{"parameters": params, "model_info": info, "details": map[string]any{"family": "qwen2"}}),
	}
}

// VLLM is what vLLM answers about itself: the served model with its
// max_model_len.
func VLLM(model string, maxModelLen int) map[string]Response {
	return map[string]Response{
		"GET /v1/models": JSON(map[string]any{"object": "list", "data": []any{map[string]any{
			"id": model, "object": "model", "created": 1, "owned_by": "vllm", "root": model, "max_model_len": maxModelLen}}}),
	}
}
