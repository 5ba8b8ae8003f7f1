// Package textscore scores extracted text against a reference, for tests
// and benchmarks of the loaders.
package textscore

import (
	"regexp"
	"strings"
)

var wordRe = regexp.MustCompile(`[\p{L}\p{N}]+`)

// Words returns s's words, lower-cased: runs of letters and digits.
func Words(s string) []string { return wordRe.FindAllString(strings.ToLower(s), -1) }

// WordRecall is the share of truth's words (runs of letters and digits,
// case-insensitive, each occurrence counted once) found in got.
func WordRecall(got, truth string) float64 {
	have := map[string]int{}
	for _, w := range Words(got) {
		have[w]++
	}
	n, hit := 0, 0
	for _, w := range Words(truth) {
		n++
		if have[w] > 0 {
			have[w]--
			hit++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hit) / float64(n)
}
