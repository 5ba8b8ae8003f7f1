package extract

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadDoesNotDecode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.txt")
	data := []byte("\x00\x01 not text")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := Read(context.Background(), p, nil)
	if err != nil {
		t.Fatalf("Read = %v; reading must not decode", err)
	}
	sum := sha256.Sum256(data)
	if raw.SHA256 != hex.EncodeToString(sum[:]) || raw.Kind != "text" || raw.Source != p {
		t.Errorf("raw = %+v", raw)
	}
	if _, err := raw.Decode(context.Background()); !errors.Is(err, ErrBinary) {
		t.Errorf("Decode = %v, want ErrBinary", err)
	}
}
