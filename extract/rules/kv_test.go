package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/internal/synth"
)

// kvLines are lines that probe where matchKV could part from kvRe: bullets,
// spacing, case, characters that fold to ASCII letters, a second colon.
var kvLines = []string{
	"indicator: Brent", "Indicator:Brent", "INDICATOR :  Brent ", "metric\t:\tx",
	"value: 5%", "- value: 5%", "* Value: 5%", "• value: 5%", "-value: 5%",
	"-  \tsource: IEA", "source: a: b", "ſource: IEA", "implication:", "implication :",
	"values: 5", "value 5: x", " value: x", "value:\tx\n", "value: \xff\xfe", "\xffvalue: x",
	"Implication: higher\r", "sources: x", "- : value", "-", ":", "", "value:: x",
	"metric\f: x", "metric\v: x", "MeTrIc: ok", "- \u00a0value: x",
}

// testLines returns the probing lines, every line of the samples and of
// synthetic notes, each also trimmed.
func testLines(t *testing.T) []string {
	t.Helper()
	lines := append([]string(nil), kvLines...)
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	for n := range 20 {
		lines = append(lines, strings.Split(synth.Note(n, 12), "\n")...)
	}
	for _, l := range lines[:len(lines):len(lines)] {
		lines = append(lines, strings.TrimSpace(l))
	}
	return lines
}

// TestMatchKVMatchesRegexp checks matchKV against kvRe line by line.
func TestMatchKVMatchesRegexp(t *testing.T) {
	lines := testLines(t)
	matched := 0
	for _, s := range lines {
		k, v, ok := matchKV(s)
		wk, wv, wok := matchKVRe(s)
		if k != wk || v != wv || ok != wok {
			t.Errorf("matchKV(%q) = %q, %q, %v; kvRe gives %q, %q, %v", s, k, v, ok, wk, wv, wok)
		}
		if ok {
			matched++
		}
	}
	if matched < 100 {
		t.Errorf("only %d of %d lines matched: the comparison tests too little", matched, len(lines))
	}
}

// TestHasResearchSuffix checks that the suffix test passes every line
// researchRe matches.
func TestHasResearchSuffix(t *testing.T) {
	lines := append(testLines(t), "Rates Research", "## Credit View", "Equity Views", "Macro Perspective")
	matched := 0
	for _, l := range lines {
		if researchRe().MatchString(l) {
			matched++
			if !hasResearchSuffix(l) {
				t.Errorf("hasResearchSuffix(%q) = false; researchRe matches it", l)
			}
		}
	}
	if matched < 20 {
		t.Errorf("researchRe matched only %d lines: the comparison tests too little", matched)
	}
}
