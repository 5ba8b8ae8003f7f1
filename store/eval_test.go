package store

import (
	"context"
	"strings"
	"testing"
)

func TestDocumentKeys(t *testing.T) {
	db, _, _ := jobFixture(t)
	keys, err := db.DocumentKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Fatalf("%d keys; want 4 (every document, failed ones included)", len(keys))
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if k.ID != int64(i+1) || len(k.SHA256) != 64 || !strings.HasPrefix(k.Source, "note-") || seen[k.SHA256] {
			t.Errorf("key %d: %+v", i, k)
		}
		seen[k.SHA256] = true
	}
}
