package pdfdoc

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The floors the built-in engine must keep on the filings corpus: the
// shares of table rows and of annotated evidence passages whose word
// 3-grams survive in its text (the corpus' score.py computes the same).
// It reaches 0.990 and 0.911; pdftotext -raw, 1.000 and 0.919. Evidence
// stays below because the passages quote the page furniture the engine
// drops (0.915 with it kept) and run some words together.
const (
	filingsRowsFloor     = 0.97
	filingsEvidenceFloor = 0.90
)

var shingleWordRe = regexp.MustCompile(`[\p{L}\p{N}_]+`)

// shingles is score.py's: the set of word 3-grams of s, lower-cased, with
// words as Python's Unicode \w+ finds them (letters, digits, underscore).
func shingles(s string) map[[3]string]bool {
	w := shingleWordRe.FindAllString(strings.ToLower(s), -1)
	out := map[[3]string]bool{}
	for i := 0; i+3 <= len(w); i++ {
		out[[3]string{w[i], w[i+1], w[i+2]}] = true
	}
	return out
}

// coverage is the share of want's shingles found in have.
func coverage(want, have map[[3]string]bool) float64 {
	n := 0
	for s := range want {
		if have[s] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

func TestFilingsCorpus(t *testing.T) {
	files := filings(t)
	var rows map[string][]string
	var evidence []struct {
		File         string `json:"file"`
		EvidenceText string `json:"evidence_text"`
	}
	for name, v := range map[string]any{"table_rows.json": &rows, "evidence.json": &evidence} {
		data, err := os.ReadFile(filepath.Join(filingsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	texts := map[string]map[[3]string]bool{}
	var rowSum, evSum float64
	var rowN, evN int
	for _, f := range files {
		if _, ok := rows[f.Name]; !ok {
			continue
		}
		doc, err := Extract(context.Background(), f.Data, &Options{Timeout: 5 * time.Minute})
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		have := shingles(doc.Text())
		texts[f.Name] = have
		var sum float64
		n := 0
		for _, r := range rows[f.Name] {
			if want := shingles(r); len(want) > 0 {
				c := coverage(want, have)
				sum += c
				n++
				if c < 1 && testing.Verbose() {
					t.Logf("%s: row %.2f %q", f.Name, c, r)
				}
			}
		}
		rowSum += sum
		rowN += n
		if n > 0 {
			t.Logf("%-44s rows %.3f (n=%d)", f.Name, sum/float64(n), n)
		}
	}
	for _, e := range evidence {
		have, ok := texts[e.File]
		if !ok {
			continue
		}
		if want := shingles(e.EvidenceText); len(want) > 0 {
			c := coverage(want, have)
			evSum += c
			evN++
			t.Logf("%-44s evidence %.3f", e.File, c)
		}
	}
	if rowN == 0 || evN == 0 {
		t.Fatalf("nothing scored: %d rows, %d passages", rowN, evN)
	}
	r, e := rowSum/float64(rowN), evSum/float64(evN)
	t.Logf("rows %.3f (n=%d) evidence %.3f (n=%d)", r, rowN, e, evN)
	if r < filingsRowsFloor {
		t.Errorf("rows %.3f < floor %.2f", r, filingsRowsFloor)
	}
	if e < filingsEvidenceFloor {
		t.Errorf("evidence %.3f < floor %.2f", e, filingsEvidenceFloor)
	}
}
