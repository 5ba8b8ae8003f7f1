package htmldoc

import (
	"testing"

	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// TestLazyRegexpsCompile compiles every expression the package builds on
// first use, so that a bad one fails here rather than in use.
func TestLazyRegexpsCompile(t *testing.T) {
	n, err := lazyre.CompileAll()
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d lazy expressions: fewer than the package has", n)
	}
}
