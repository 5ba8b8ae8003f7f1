package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestCheckIsProcessDuplicateCheck(t *testing.T) {
	p, _, run := newTest(t)
	ctx := context.Background()
	dir := t.TempDir()
	good := write(t, dir, "good.txt", []byte("Title\nSpreads are 284 bps\n"))
	bad := write(t, dir, "bad.txt", []byte("INVALID 2\n"))
	fresh := write(t, dir, "fresh.txt", []byte("Not stored\n"))
	for _, f := range []string{good, bad} {
		p.Process(ctx, run, Item{Source: f})
	}

	st, err := p.Check(ctx, Item{Source: good})
	sum := sha256.Sum256([]byte("Title\nSpreads are 284 bps\n"))
	if err != nil || !st.Extracted || st.DocumentID == 0 || st.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("stored and extracted: %+v, %v", st, err)
	}
	if ev := p.Process(ctx, run, Item{Source: good}); ev.Status != Duplicate || ev.DocumentID != st.DocumentID {
		t.Errorf("Process does not agree with Check: %s, document %d", ev.Status, ev.DocumentID)
	}
	st, err = p.Check(ctx, Item{Source: bad})
	if err != nil || st.Extracted || st.DocumentID == 0 || st.LastError == "" {
		t.Errorf("stored, extraction failed: %+v, %v", st, err)
	}
	st, err = p.Check(ctx, Item{Source: fresh})
	if err != nil || st.DocumentID != 0 || st.Extracted || len(st.SHA256) != 64 {
		t.Errorf("not stored: %+v, %v", st, err)
	}
	if _, err := p.Check(ctx, Item{Source: dir + "/missing.txt"}); err == nil {
		t.Error("a missing file is checked without error")
	}
}
