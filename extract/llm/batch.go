package llm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/thesisdb/thesisdb/prompts"
	"github.com/thesisdb/thesisdb/schema"
)

// Batch API limits per input file (OpenAI's).
const (
	BatchMaxRequests = 50_000
	BatchMaxBytes    = 200 << 20
)

// batchLimits are the limits SubmitBatches splits at (variables so that
// tests can exercise the split).
var batchLimits = struct{ requests, bytes int }{BatchMaxRequests, BatchMaxBytes}

// BatchDiscount is the share of the list price the Batch API charges.
const BatchDiscount = 0.5

// BatchInfo is the state of one submitted batch.
type BatchInfo struct {
	ID           string
	InputFileID  string
	Status       string // validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled
	OutputFileID string
	ErrorFileID  string
	Total        int
	Completed    int
	Failed       int
}

// Finished reports whether the batch will change no more.
func (b BatchInfo) Finished() bool {
	switch b.Status {
	case "completed", "failed", "expired", "cancelled":
		return true
	}
	return false
}

// batchMode is the output mode batch requests use: there is no fallback
// inside a batch, so auto means json_schema.
func (e *Extractor) batchMode() Mode {
	if e.cfg.Mode == ModeAuto {
		return ModeJSONSchema
	}
	return e.cfg.Mode
}

// BatchLine returns the Batch API input line (JSONL, without newline) that
// extracts doc, under customID. ok is false when the document is too long
// for one request: extract it with Extract instead.
func (e *Extractor) BatchLine(customID string, doc *schema.Document) (line []byte, ok bool, err error) {
	if EstimateTokens(doc.Text) > e.partBudget() {
		return nil, false, nil
	}
	user, err := prompts.Document(docInfo(doc, doc.Text))
	if err != nil {
		return nil, false, err
	}
	mode := e.batchMode()
	req := e.request(mode, []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: e.systems[mode].text},
		{Role: openai.ChatMessageRoleUser, Content: user},
	})
	body, err := json.Marshal(req)
	if err != nil {
		return nil, false, fmt.Errorf("encode batch request: %w", err)
	}
	if e.cfg.Temperature == 0 && !reasoningModel(e.cfg.Model) {
		body = withZeroTemperature(body)
	}
	line, err = json.Marshal(struct {
		CustomID string          `json:"custom_id"`
		Method   string          `json:"method"`
		URL      string          `json:"url"`
		Body     json.RawMessage `json:"body"`
	}{customID, "POST", string(openai.BatchEndpointChatCompletions), body})
	return line, true, err
}

// SubmitBatches uploads lines as Batch API input files of at most
// BatchMaxRequests requests and BatchMaxBytes bytes each, and creates one
// batch per file. On error it returns the batches already created with
// the error, so the caller can record them.
func (e *Extractor) SubmitBatches(ctx context.Context, name string, lines [][]byte) ([]BatchInfo, error) {
	var out []BatchInfo
	for part := 1; len(lines) > 0; part++ {
		n, size := 0, 0
		for n < len(lines) && n < batchLimits.requests && size+len(lines[n])+1 <= batchLimits.bytes {
			size += len(lines[n]) + 1
			n++
		}
		if n == 0 {
			return out, fmt.Errorf("batch request of %d bytes exceeds the %d-byte file limit", len(lines[0]), batchLimits.bytes)
		}
		var b strings.Builder
		b.Grow(size)
		for _, l := range lines[:n] {
			b.Write(l)
			b.WriteByte('\n')
		}
		f, err := e.client.CreateFileBytes(ctx, openai.FileBytesRequest{
			Name: fmt.Sprintf("%s-part%d.jsonl", name, part), Bytes: []byte(b.String()), Purpose: openai.PurposeBatch,
		})
		if err != nil {
			if statusOf(err) == 404 {
				return out, ErrBatchUnsupported
			}
			return out, redact(fmt.Errorf("upload batch input file: %w", e.classify(ctx, err)), e.cfg.APIKey)
		}
		resp, err := e.client.CreateBatch(ctx, openai.CreateBatchRequest{
			InputFileID: f.ID, Endpoint: openai.BatchEndpointChatCompletions, CompletionWindow: "24h",
			Metadata: map[string]any{"created_by": "thesisdb", "name": name},
		})
		if err != nil {
			return out, redact(fmt.Errorf("create batch: %w", e.classify(ctx, err)), e.cfg.APIKey)
		}
		info := batchInfo(resp.Batch)
		if info.Total == 0 {
			info.Total = n
		}
		out = append(out, info)
		lines = lines[n:]
	}
	return out, nil
}

func batchInfo(b openai.Batch) BatchInfo {
	info := BatchInfo{ID: b.ID, InputFileID: b.InputFileID, Status: b.Status,
		Total: b.RequestCounts.Total, Completed: b.RequestCounts.Completed, Failed: b.RequestCounts.Failed}
	if b.OutputFileID != nil {
		info.OutputFileID = *b.OutputFileID
	}
	if b.ErrorFileID != nil {
		info.ErrorFileID = *b.ErrorFileID
	}
	return info
}

// Batch returns the current state of batch id.
func (e *Extractor) Batch(ctx context.Context, id string) (BatchInfo, error) {
	resp, err := e.client.RetrieveBatch(ctx, id)
	if err != nil {
		return BatchInfo{}, redact(fmt.Errorf("retrieve batch %s: %w", id, e.classify(ctx, err)), e.cfg.APIKey)
	}
	return batchInfo(resp.Batch), nil
}

// batchOutputLine is one line of a batch's output or error file.
type batchOutputLine struct {
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// BatchResults reads a finished batch's output and error files and calls
// fn for each request with its custom id and either its validated result
// or the reason it failed. Answers are checked exactly as Extract checks
// them, without the re-ask (a batch has no second turn): an invalid one
// fails its document, which `reextract --failed` can retry.
func (e *Extractor) BatchResults(ctx context.Context, b BatchInfo, fn func(customID string, res *schema.Result, err error) error) error {
	mode := e.batchMode()
	for _, fileID := range []string{b.OutputFileID, b.ErrorFileID} {
		if fileID == "" {
			continue
		}
		content, err := e.client.GetFileContent(ctx, fileID)
		if err != nil {
			return redact(fmt.Errorf("download batch file %s: %w", fileID, e.classify(ctx, err)), e.cfg.APIKey)
		}
		sc := bufio.NewScanner(content)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if len(strings.TrimSpace(sc.Text())) == 0 {
				continue
			}
			var l batchOutputLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				content.Close()
				return fmt.Errorf("batch file %s: malformed line: %w", fileID, err)
			}
			res, rerr := e.batchResult(mode, l)
			if err := fn(l.CustomID, res, rerr); err != nil {
				content.Close()
				return err
			}
		}
		err = sc.Err()
		content.Close()
		if err != nil {
			return fmt.Errorf("read batch file %s: %w", fileID, err)
		}
	}
	return nil
}

func (e *Extractor) batchResult(mode Mode, l batchOutputLine) (*schema.Result, error) {
	switch {
	case l.Error != nil:
		return nil, fmt.Errorf("%w: batch request failed: %s %s", ErrBadRequest, l.Error.Code, l.Error.Message)
	case l.Response == nil:
		return nil, fmt.Errorf("%w: batch line without response", ErrInvalidOutput)
	case l.Response.StatusCode != 200:
		return nil, fmt.Errorf("%w: batch request answered %d: %s", ErrBadRequest, l.Response.StatusCode, truncate(string(l.Response.Body), 500))
	}
	var resp openai.ChatCompletionResponse
	if err := json.Unmarshal(l.Response.Body, &resp); err != nil {
		return nil, fmt.Errorf("%w: batch response body: %w", ErrInvalidOutput, err)
	}
	res := &schema.Result{}
	text, _, err := e.answer(mode, resp, &res.Usage)
	res.Usage.CostUSD = BatchDiscount * e.cfg.Cost(e.cfg.Model, res.Usage.PromptTokens, res.Usage.CachedPromptTokens, res.Usage.CompletionTokens)
	res.Usage.CostUnknown = !e.cfg.Priced(e.cfg.Model)
	if err == nil {
		res.Extraction, err = parseAnswer(text)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrInvalidOutput, err)
		} else {
			res.Warnings = schema.CheckAnswer(res.Extraction)
		}
	}
	if err != nil {
		return res, redact(err, e.cfg.APIKey)
	}
	return res, nil
}

// ErrBatchUnsupported reports a server without the Batch API (local
// servers: llama-server, Ollama, LM Studio).
var ErrBatchUnsupported = errors.New("the server does not offer the Batch API (OpenAI does; local servers do not): run without --batch")

// statusOf returns the HTTP status of a go-openai error, or 0.
func statusOf(err error) int {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		return reqErr.HTTPStatusCode
	}
	return 0
}
