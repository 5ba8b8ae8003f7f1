package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// emptyExtractor finds no thesis, as a model answering the shortest valid
// object does, and warns about it as the LLM extractor does.
type emptyExtractor struct{}

func (emptyExtractor) Info() extract.Info {
	return extract.Info{Extractor: "test", PromptVersion: "t1"}
}

func (emptyExtractor) Extract(context.Context, *schema.Document) (*schema.Result, error) {
	x := &schema.Extraction{Theses: []schema.Thesis{}}
	return &schema.Result{Extraction: x, Warnings: schema.CheckAnswer(x)}, nil
}

// TestZeroThesesCounted stores a document without theses as ok, with its
// warning, and counts it in the summary apart from documents with theses.
func TestZeroThesesCounted(t *testing.T) {
	p, db, run := newTest(t)
	dir := t.TempDir()
	full := write(t, dir, "full.txt", []byte("Rates\nYields rose to 4.5% in March.\n"))
	empty := write(t, dir, "empty.txt", []byte("Nothing to see\nA note without any view.\n"))

	var sum Summary
	sum.Add(p.Process(context.Background(), run, Item{Source: full}))
	p.Extractor = emptyExtractor{}
	ev := p.Process(context.Background(), run, Item{Source: empty})
	sum.Add(ev)
	if ev.Status != OK || !ev.NoTheses {
		t.Fatalf("event %+v; want ok without theses", ev)
	}
	if sum.OK != 2 || sum.NoTheses != 1 {
		t.Errorf("summary ok %d, without theses %d; want 2 and 1", sum.OK, sum.NoTheses)
	}
	rows := query(t, db, fmt.Sprintf("SELECT warnings FROM documents WHERE id = %d", ev.DocumentID))
	if len(rows) != 1 || !strings.Contains(fmt.Sprint(rows[0][0]), "no thesis") {
		t.Errorf("documents.warnings = %v", rows)
	}
	var merged Summary
	merged.Merge(sum)
	if merged.NoTheses != 1 {
		t.Errorf("Merge lost the count: %d", merged.NoTheses)
	}
}
