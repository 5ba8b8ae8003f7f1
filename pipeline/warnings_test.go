package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/rules"
)

// TestExtractorWarningIsStored ingests a document stating more figures
// than the rules extractor keeps: the data points stop at the limit, the
// document row carries the extractor's warning, and re-extracting the
// stored document logs it.
func TestExtractorWarningIsStored(t *testing.T) {
	p, db, run := newTest(t)
	var logs bytes.Buffer
	p.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	p.Extractor = rules.New(rules.WithMaxDataPoints(3))
	var text strings.Builder
	text.WriteString("Ten figures\n")
	for i := range 10 {
		fmt.Fprintf(&text, "Margin %d rose to %d.5%% last year.\n", i, i)
	}
	path := write(t, t.TempDir(), "figures.txt", []byte(text.String()))

	ev := p.Process(context.Background(), run, Item{Source: path})
	if ev.Status != OK || ev.DataPoints != 3 {
		t.Fatalf("event %+v, want ok with 3 data points", ev)
	}
	rows := query(t, db, fmt.Sprintf("SELECT warnings FROM documents WHERE id = %d", ev.DocumentID))
	if len(rows) != 1 || !strings.Contains(fmt.Sprint(rows[0][0]), "kept the first 3 data points") {
		t.Errorf("documents.warnings = %v, want the data point limit named", rows)
	}
	if !strings.Contains(logs.String(), "kept the first 3 data points") {
		t.Errorf("log %q does not carry the warning", logs.String())
	}

	// Re-extraction of the stored document: the warning is logged.
	logs.Reset()
	p.Force = true
	ev = p.Process(context.Background(), run, Item{DocumentID: ev.DocumentID})
	if ev.Status != OK && ev.Status != Duplicate {
		t.Fatalf("re-extraction: %+v", ev)
	}
	if !strings.Contains(logs.String(), "kept the first 3 data points") {
		t.Errorf("re-extraction log %q does not carry the warning", logs.String())
	}
}
