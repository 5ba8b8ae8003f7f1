package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/schema"
)

func TestBatchRoundTrip(t *testing.T) {
	srv := llmtest.New(t)
	api := srv.EnableBatches()
	api.PollsToFinish = 1
	good := answer(t, "small_caps.answer.json")
	api.Answer = func(r llmtest.Request) llmtest.Response {
		switch {
		case r.Contains("doc-invalid"):
			return llmtest.Completion(`{"theses": "not an array"}`)
		case r.Contains("doc-refused"):
			return llmtest.Response{Refusal: "I can't help with that."}
		case r.Contains("doc-error"):
			return llmtest.Error(500, "server_error", "", "boom")
		}
		return llmtest.Response{Content: good, Usage: &llmtest.Usage{Prompt: 1000, Completion: 200}}
	}
	e, _ := newExtractor(t, srv, nil)
	ctx := context.Background()
	small := loadDoc(t, "small_caps.txt")
	var lines [][]byte
	for _, id := range []string{"ok-1", "doc-invalid", "doc-refused", "doc-error", "ok-2"} {
		d := *small
		d.Title = id
		line, ok, err := e.BatchLine(id, &d)
		if err != nil || !ok {
			t.Fatalf("BatchLine(%s) = %v, %v", id, ok, err)
		}
		lines = append(lines, line)
	}
	// A document too long for one request is left to Extract.
	long := *small
	long.Text = strings.Repeat(small.Text+"\n\n", 200)
	if _, ok, _ := e.BatchLine("long", &long); ok {
		t.Error("BatchLine accepted a document that needs splitting")
	}

	old := batchLimits
	batchLimits.requests = 2 // five requests make three input files
	defer func() { batchLimits = old }()
	infos, err := e.SubmitBatches(ctx, "run-7", lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 || api.Batches() != 3 || infos[0].Total != 2 || infos[2].Total != 1 {
		t.Fatalf("batches = %+v", infos)
	}
	// The input file holds strict json_schema requests with temperature 0.
	sc := bufio.NewScanner(bytes.NewReader(api.File(infos[0].InputFileID)))
	sc.Buffer(nil, 1<<24)
	sc.Scan()
	var line struct {
		CustomID string `json:"custom_id"`
		Method   string `json:"method"`
		URL      string `json:"url"`
		Body     map[string]any
	}
	if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line.CustomID != "ok-1" || line.Method != "POST" || line.URL != "/v1/chat/completions" ||
		line.Body["temperature"] != float64(0) || field(line.Body, "response_format", "json_schema", "strict") != true ||
		line.Body["model"] != "gpt-4o-mini" {
		t.Errorf("batch line = %+v", line)
	}

	got := map[string]error{}
	var cost float64
	for _, b := range infos {
		st, err := e.Batch(ctx, b.ID)
		if err != nil || st.Status != "in_progress" || st.Finished() {
			t.Fatalf("first poll: %+v %v", st, err)
		}
		st, err = e.Batch(ctx, b.ID)
		if err != nil || !st.Finished() {
			t.Fatalf("second poll: %+v %v", st, err)
		}
		err = e.BatchResults(ctx, st, func(id string, res *schema.Result, err error) error {
			got[id] = err
			if err == nil {
				if len(res.Extraction.Theses) == 0 {
					t.Errorf("%s: empty extraction", id)
				}
				cost += res.Usage.CostUSD
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 5 || got["ok-1"] != nil || got["ok-2"] != nil {
		t.Fatalf("results = %v", got)
	}
	if !errors.Is(got["doc-invalid"], ErrInvalidOutput) || !errors.Is(got["doc-refused"], ErrRefused) || !errors.Is(got["doc-error"], ErrBadRequest) {
		t.Errorf("failures = %v", got)
	}
	// Two documents at 1000+200 tokens, at half the gpt-4o-mini list price.
	want := 2 * BatchDiscount * (1000*0.15 + 200*0.60) / 1e6
	if d := cost - want; d > 1e-12 || d < -1e-12 {
		t.Errorf("cost = %g, want %g", cost, want)
	}
}

func TestBatchUnsupportedServer(t *testing.T) {
	srv := llmtest.New(t) // no batch endpoints: uploads get the scripted 404
	srv.Script(llmtest.Error(404, "invalid_request_error", "", "Not Found"))
	e, _ := newExtractor(t, srv, nil)
	line, _, _ := e.BatchLine("a", loadDoc(t, "small_caps.txt"))
	if _, err := e.SubmitBatches(context.Background(), "run", [][]byte{line}); !errors.Is(err, ErrBatchUnsupported) {
		t.Fatalf("err = %v, want ErrBatchUnsupported", err)
	}
}
