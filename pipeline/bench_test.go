package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract/llm"
	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/store"
)

// BenchmarkIngest1000 ingests 1,000 text documents with the rules
// extractor into a fresh database: loading, extraction, grounding and the
// store's transactions, at the default concurrency.
func BenchmarkIngest1000(b *testing.B) {
	dir := b.TempDir()
	var items []Item
	var size int64
	for i := range 1000 {
		body := fmt.Sprintf(`Bullish
Regional banks rerate as deposit costs peak (note %d)

Net interest margins trough in 2026 as deposit betas fall.

Conviction:
6/10
By: Desk %d
Updated March %d, 2026

Credit Research
Bearish 0-2 Year
Confidence: 6/10|Conviction: 5/10
Commercial real estate losses are the main risk to the thesis.

Key Data Points

indicator: Deposit beta
value: %d%%
source: FDIC, Q%d 2026
implication: Funding costs stop rising
indicator: CRE loan share of assets
value: $%d billion
source: Federal Reserve H.8
implication: Concentrated exposure at smaller banks

Analysts at the Fed noted loan growth of %d.%d%% in the quarter, according to the H.8 release.
`, i, i, i%28+1, 30+i%20, i%4+1, 100+i, i%9, i%10)
		p := filepath.Join(dir, fmt.Sprintf("note-%04d.txt", i))
		if err := writeFile(p, body); err != nil {
			b.Fatal(err)
		}
		items = append(items, Item{Source: p})
		size += int64(len(body))
	}
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.sqlite"))
		if err != nil {
			b.Fatal(err)
		}
		run, _ := db.StartRun(context.Background(), store.RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: "bench"})
		p := &Pipeline{Store: db, Extractor: rules.New(), Concurrency: 4}
		b.StartTimer()
		sum := p.Run(context.Background(), run, items, nil)
		b.StopTimer()
		if sum.OK != 1000 {
			b.Fatalf("summary = %+v", sum)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkLLMPipeline measures end-to-end throughput — load, LLM
// extraction over HTTP through go-openai, grounding, store — against a
// scripted OpenAI-compatible server answering after 200 ms, at several
// concurrencies. With the wait dominating, documents/s should grow close
// to linearly with concurrency.
func BenchmarkLLMPipeline(b *testing.B) {
	answer, err := os.ReadFile("../extract/llm/testdata/small_caps.answer.json")
	if err != nil {
		b.Fatal(err)
	}
	text, err := os.ReadFile("../extract/llm/testdata/small_caps.txt")
	if err != nil {
		b.Fatal(err)
	}
	srv := llmtest.New(b)
	srv.Record = false
	srv.Latency = 200 * time.Millisecond
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Completion(string(answer)) })
	ex, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), APIKey: "k", Model: "gpt-4o-mini", Mode: llm.ModeJSONSchema})
	if err != nil {
		b.Fatal(err)
	}
	const docs = 48
	dir := b.TempDir()
	for _, conc := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			n := 0
			for range b.N {
				b.StopTimer()
				db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.sqlite"))
				if err != nil {
					b.Fatal(err)
				}
				run, _ := db.StartRun(context.Background(), store.RunSpec{Kind: "ingest", Extractor: "llm", PromptVersion: "bench"})
				var items []Item
				for i := range docs {
					// Distinct content, so that none is a duplicate.
					p := filepath.Join(dir, fmt.Sprintf("c%d-%d-%d.txt", conc, n, i))
					if err := writeFile(p, fmt.Sprintf("%s\n\nCopy %d-%d.\n", text, n, i)); err != nil {
						b.Fatal(err)
					}
					items = append(items, Item{Source: p})
				}
				n++
				p := &Pipeline{Store: db, Extractor: ex, Concurrency: conc}
				b.StartTimer()
				sum := p.Run(context.Background(), run, items, nil)
				b.StopTimer()
				if sum.OK != docs || sum.Ungrounded != 0 {
					b.Fatalf("summary = %+v", sum)
				}
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*docs)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
