package llmtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"
)

// BatchAPI implements OpenAI's Files and Batches endpoints over a Server:
// uploads are kept in memory, and a batch completes after PollsToFinish
// retrievals, its requests answered by Answer (default: the Server's
// script and fallback). Install it with Server.EnableBatches.
type BatchAPI struct {
	// PollsToFinish is how many GET /batches/{id} calls see the batch
	// in progress before it completes (default 1).
	PollsToFinish int
	// Answer answers one request of a batch; nil uses the server's script.
	Answer func(Request) Response

	mu      sync.Mutex
	srv     *Server
	files   map[string][]byte
	batches map[string]*batch
	seq     int
}

type batch struct {
	ID, InputFileID, Status, OutputFileID, ErrorFileID string
	polls, total, completed, failed                    int
	created                                            int64
}

// EnableBatches serves the Files and Batches endpoints and returns them
// for configuration and inspection.
func (s *Server) EnableBatches() *BatchAPI {
	b := &BatchAPI{PollsToFinish: 1, srv: s, files: map[string][]byte{}, batches: map[string]*batch{}}
	s.mu.Lock()
	s.batchAPI = b
	s.mu.Unlock()
	return b
}

// File returns an uploaded or generated file's bytes.
func (b *BatchAPI) File(id string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.files[id]
}

// Batches returns how many batches were created.
func (b *BatchAPI) Batches() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.batches)
}

func (b *BatchAPI) id(prefix string) string {
	b.seq++
	return fmt.Sprintf("%s-%d", prefix, b.seq)
}

// serve handles r when it is a Files or Batches call.
func (b *BatchAPI) serve(w http.ResponseWriter, r *http.Request, raw []byte) bool {
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	switch {
	case r.Method == http.MethodPost && path == "/files":
		b.upload(w, r, raw)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/files/") && strings.HasSuffix(path, "/content"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/files/"), "/content")
		b.mu.Lock()
		data, ok := b.files[id]
		b.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":{"message":"no such file","type":"invalid_request_error"}}`, http.StatusNotFound)
			return true
		}
		w.Write(data)
	case r.Method == http.MethodPost && path == "/batches":
		b.create(w, raw)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/batches/"):
		b.retrieve(w, strings.TrimPrefix(path, "/batches/"))
	default:
		return false
	}
	return true
}

func (b *BatchAPI) upload(w http.ResponseWriter, r *http.Request, raw []byte) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form, err := multipart.NewReader(bytes.NewReader(raw), params["boundary"]).ReadForm(256 << 20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fhs := form.File["file"]
	if len(fhs) != 1 {
		http.Error(w, "want one file", http.StatusBadRequest)
		return
	}
	f, _ := fhs[0].Open()
	data, _ := io.ReadAll(f)
	f.Close()
	b.mu.Lock()
	id := b.id("file")
	b.files[id] = data
	b.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "file", "bytes": len(data),
		"filename": fhs[0].Filename, "purpose": strings.Join(form.Value["purpose"], "")})
}

func (b *BatchAPI) create(w http.ResponseWriter, raw []byte) {
	var in struct {
		InputFileID string `json:"input_file_id"`
		Endpoint    string `json:"endpoint"`
	}
	json.Unmarshal(raw, &in)
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.files[in.InputFileID]
	if !ok || in.Endpoint != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"bad input file or endpoint","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	bt := &batch{ID: b.id("batch"), InputFileID: in.InputFileID, Status: "validating", created: time.Now().Unix(),
		total: bytes.Count(data, []byte("\n"))}
	b.batches[bt.ID] = bt
	json.NewEncoder(w).Encode(bt.json())
}

func (bt *batch) json() map[string]any {
	m := map[string]any{"id": bt.ID, "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": bt.InputFileID,
		"completion_window": "24h", "status": bt.Status, "created_at": bt.created,
		"request_counts": map[string]int{"total": bt.total, "completed": bt.completed, "failed": bt.failed}}
	if bt.OutputFileID != "" {
		m["output_file_id"] = bt.OutputFileID
	}
	if bt.ErrorFileID != "" {
		m["error_file_id"] = bt.ErrorFileID
	}
	return m
}

func (b *BatchAPI) retrieve(w http.ResponseWriter, id string) {
	b.mu.Lock()
	bt, ok := b.batches[id]
	if !ok {
		b.mu.Unlock()
		http.Error(w, `{"error":{"message":"no such batch","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	bt.polls++
	finish := bt.Status != "completed" && bt.polls > b.PollsToFinish
	if !finish && bt.Status != "completed" {
		bt.Status = "in_progress"
	}
	input := b.files[bt.InputFileID]
	b.mu.Unlock()
	if finish {
		out, errs, ok, failed := b.run(input)
		b.mu.Lock()
		bt.Status, bt.completed, bt.failed = "completed", ok, failed
		if len(out) > 0 {
			bt.OutputFileID = b.id("file")
			b.files[bt.OutputFileID] = out
		}
		if len(errs) > 0 {
			bt.ErrorFileID = b.id("file")
			b.files[bt.ErrorFileID] = errs
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	json.NewEncoder(w).Encode(bt.json())
}

// run answers every request line of an input file, as the server would
// answer it as a chat completion.
func (b *BatchAPI) run(input []byte) (out, errs []byte, ok, failed int) {
	sc := bufio.NewScanner(bytes.NewReader(input))
	sc.Buffer(nil, 64<<20)
	var ob, eb bytes.Buffer
	for n := 0; sc.Scan(); n++ {
		var line struct {
			CustomID string          `json:"custom_id"`
			Body     json.RawMessage `json:"body"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		req := Request{Method: http.MethodPost, Path: "/v1/chat/completions", Raw: line.Body}
		json.Unmarshal(line.Body, &req.Body)
		var resp Response
		if b.Answer != nil {
			resp = b.Answer(req)
		} else {
			resp = b.srv.next(req)
		}
		status := resp.Status
		if status == 0 {
			status = http.StatusOK
		}
		var body any = json.RawMessage(resp.Body)
		if status == http.StatusOK && resp.Body == "" {
			body = completion(line.Body, resp)
		}
		rec := map[string]any{"id": fmt.Sprintf("batch_req_%d", n), "custom_id": line.CustomID,
			"response": map[string]any{"status_code": status, "request_id": fmt.Sprintf("req_%d", n), "body": body}, "error": nil}
		data, _ := json.Marshal(rec)
		if status == http.StatusOK {
			ob.Write(append(data, '\n'))
			ok++
		} else {
			eb.Write(append(data, '\n'))
			failed++
		}
	}
	return ob.Bytes(), eb.Bytes(), ok, failed
}
