package llm

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
)

// benchServer answers every request with the small-caps answer after
// latency, without recording requests.
func benchServer(b *testing.B, latency time.Duration) *llmtest.Server {
	srv := llmtest.New(b)
	srv.Record = false
	srv.Latency = latency
	ans := llmtest.Completion(answer(b, "small_caps.answer.json"))
	ans.Usage = &llmtest.Usage{Prompt: 1500, Completion: 400, Cached: 1024}
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return ans })
	return srv
}

func benchExtractor(b *testing.B, srv *llmtest.Server) *Extractor {
	e, err := New(Config{BaseURL: srv.BaseURL(), APIKey: testKey, Model: "gpt-4o-mini", Mode: ModeJSONSchema})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkThroughput measures documents per second against a server that
// takes 200 ms per answer, with 1, 4 and 16 documents in flight.
func BenchmarkThroughput(b *testing.B) {
	for _, conc := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			srv := benchServer(b, 200*time.Millisecond)
			e := benchExtractor(b, srv)
			doc := loadDoc(b, "small_caps.txt")
			var next atomic.Int64
			var failed atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range conc {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := e.Extract(context.Background(), doc); err != nil {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "docs/s")
			if failed.Load() > 0 {
				b.Fatalf("%d extractions failed", failed.Load())
			}
		})
	}
}

// BenchmarkCPUPerDocument measures the client-side cost of one extraction
// (request building, JSON, validation) against a zero-latency server in
// the same process; the server's own work is included, so this is an upper
// bound.
func BenchmarkCPUPerDocument(b *testing.B) {
	srv := benchServer(b, 0)
	e := benchExtractor(b, srv)
	doc := loadDoc(b, "credit_note.md")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Extract(context.Background(), doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPromptOverhead reports the prompt tokens every document pays
// on top of its text (system prompt, schema, framing), per mode.
func BenchmarkPromptOverhead(b *testing.B) {
	for _, m := range []Mode{ModeJSONSchema, ModeJSONObject, ModeTools} {
		b.Run(string(m), func(b *testing.B) {
			e, err := New(Config{APIKey: testKey, Mode: m})
			if err != nil {
				b.Fatal(err)
			}
			doc := loadDoc(b, "small_caps.txt")
			var over, prompt int
			for b.Loop() {
				over = e.OverheadTokens()
				prompt, _, _ = e.Estimate(doc)
			}
			b.ReportMetric(float64(over), "overhead-tokens/doc")
			b.ReportMetric(float64(prompt), "prompt-tokens/doc")
		})
	}
}
