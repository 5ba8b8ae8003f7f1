package rules

import (
	"context"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// BenchmarkExtract extracts the three text samples in turn; one operation
// is one document, and the bytes are those of the document text.
func BenchmarkExtract(b *testing.B) {
	var docs []*schema.Document
	total := 0
	for _, f := range []string{"research-note-energy.txt", "research-note-japan.md", "market-commentary.txt"} {
		d := loadSample(b, f)
		docs = append(docs, d)
		total += len(d.Text)
	}
	b.SetBytes(int64(total / len(docs)))
	ctx := context.Background()
	e := New()
	i := 0
	for b.Loop() {
		if _, err := e.Extract(ctx, docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "docs/s")
}
