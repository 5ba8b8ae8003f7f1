package schema

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// dateRe is the only date form stored: YYYY-MM-DD.
var dateRe = lazyre.New(`^\d{4}-\d{2}-\d{2}$`)

// placeholders are words models write for "unknown".
var placeholders = map[string]bool{"null": true, "none": true, "nil": true, "n/a": true, "na": true,
	"unknown": true, "undefined": true, "untitled": true, "anonymous": true}

// CheckAnswer checks what the schema cannot: a published or as_of date
// that is not a real YYYY-MM-DD date is nulled, and a document title or
// author without any letter or digit, or made of placeholders ("null
// null"), is dropped. It returns one warning per change, and one when the
// extraction holds no thesis.
func CheckAnswer(x *Extraction) []string {
	if x == nil {
		return nil
	}
	var warns []string
	checkDate := func(p **string, where string) {
		if *p == nil {
			return
		}
		v := strings.TrimSpace(**p)
		if _, err := time.Parse(time.DateOnly, v); err == nil && dateRe().MatchString(v) {
			**p = v
			return
		}
		warns = append(warns, fmt.Sprintf("%s %q is not a YYYY-MM-DD date: dropped", where, clip(v)))
		*p = nil
	}
	checkDate(&x.Published, "published")
	for i := range x.Theses {
		for j := range x.Theses[i].Views {
			checkDate(&x.Theses[i].Views[j].AsOf, fmt.Sprintf("theses[%d].views[%d].as_of", i, j))
		}
	}
	for _, f := range []struct {
		p    **string
		name string
	}{{&x.Title, "title"}, {&x.Author, "author"}} {
		if *f.p != nil && Placeholder(**f.p) {
			warns = append(warns, fmt.Sprintf("%s %q holds no name: dropped", f.name, clip(**f.p)))
			*f.p = nil
		}
	}
	if len(x.Theses) == 0 {
		warns = append(warns, "the extractor found no thesis in the document")
	}
	return warns
}

// Placeholder reports whether s says nothing: empty, punctuation only,
// or only words like "null" and "n/a".
func Placeholder(s string) bool {
	for _, w := range strings.Fields(strings.ToLower(s)) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '/' })
		if w == "" || placeholders[w] {
			continue
		}
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
			continue
		}
		return false
	}
	return true
}

func clip(s string) string {
	if len(s) <= 60 {
		return s
	}
	i := 60
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
