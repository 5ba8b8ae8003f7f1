package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/internal/hostile"
)

// FuzzDecode sends arbitrary bytes as every kind through the worker
// boundary: whatever the parsers do, Decode returns a document or an
// error, the worker never dies of anything but a limit, and the pool keeps
// answering.
func FuzzDecode(f *testing.F) {
	for _, seed := range [][]byte{
		hostile.Valid("Spreads at 284 bps."), hostile.HugeXrefSize(), hostile.PageTreeCycle(), hostile.ParentCycle(),
		[]byte("<html><body><p>Margins at 60%</p></body></html>"), hostile.MisnestedHTML(2048),
		[]byte("# Note\n\nBullish."), {0, 1, 2, 3}, nil,
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(1))
	}
	p := &Pool{Size: 1, Memory: 512 << 20}
	f.Cleanup(func() { p.Close() })
	kinds := []string{"pdf", "html", "text", "markdown"}
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		q := &extract.Request{Kind: kinds[int(k)%len(kinds)], Source: "fuzz", Data: data, Timeout: 5 * time.Second}
		doc, err := p.Decode(context.Background(), q)
		var we *Error
		if errors.As(err, &we) && we.Cause == Crash {
			t.Fatalf("%s worker crashed on %d bytes: %v", q.Kind, len(data), err)
		}
		if err == nil && (doc == nil || doc.Text == "") {
			t.Fatalf("%s: no error and no text", q.Kind)
		}
	})
}
