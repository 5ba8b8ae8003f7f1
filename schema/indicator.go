package schema

import (
	"strings"
	"unicode"
)

// IndicatorKey is the one definition of "the same indicator": two data
// points state the same indicator when their indicators have the same
// key. It is lower case; letters, digits, '.', '%' and the currency signs
// $ € £ ¥ are kept, every other run of characters becomes one space, and
// leading and trailing periods and spaces go: "HY OAS (bps)" and
// "hy oas bps" have the key "hy oas bps".
func IndicatorKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("%.$€£¥", r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return strings.Trim(b.String(), ". ")
}
