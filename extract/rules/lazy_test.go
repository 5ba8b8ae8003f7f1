package rules

import "testing"

// TestLazyRegexpsCompile compiles every expression the package builds on
// first use, so that a bad one fails here rather than in an extraction.
func TestLazyRegexpsCompile(t *testing.T) {
	if len(lazyRegexps) < 20 {
		t.Fatalf("only %d lazy expressions registered", len(lazyRegexps))
	}
	for i, re := range lazyRegexps {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("expression %d: %v", i, r)
				}
			}()
			if re() != re() {
				t.Errorf("expression %d compiled twice", i)
			}
		}()
	}
}
