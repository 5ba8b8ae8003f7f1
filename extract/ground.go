package extract

import (
	"math"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/schema"
)

// FuzzyThreshold is the share of a quote's words that must appear, in one
// window of the text, for a fuzzy match to ground it.
const FuzzyThreshold = 0.8

// Ground locates every data point's quote in text and sets its Ground:
// exact match first, then a match ignoring case, whitespace and
// punctuation, then the best window of words above FuzzyThreshold. Each
// quote is looked for from where the previous one was found onwards, then
// before it, so that quotes listed in document order cost one pass over
// the text in all. A data point is grounded when its quote was found and
// every number in its value appears in the passage found. It returns how
// many data points are not grounded.
//
// The work is bounded by a multiple of the text's size whatever the data
// points: once the budget is spent, the quotes left are not looked for
// and stay ungrounded.
func Ground(text string, x *schema.Extraction) (ungrounded int) {
	idx := newTextIndex(text)
	for i := range x.Theses {
		for j := range x.Theses[i].DataPoints {
			dp := &x.Theses[i].DataPoints[j]
			g, start, end := idx.locate(dp.Quote)
			if g.Method != "" {
				g.Grounded = numbersAppear(dp.Value, text[start:end])
			}
			dp.Ground = &g
			if !g.Grounded {
				ungrounded++
			}
		}
	}
	return ungrounded
}

// DropUngrounded removes data points whose Ground says they are not
// grounded, returning how many it removed.
func DropUngrounded(x *schema.Extraction) (dropped int) {
	for i := range x.Theses {
		kept := x.Theses[i].DataPoints[:0]
		for _, dp := range x.Theses[i].DataPoints {
			if dp.Ground != nil && !dp.Ground.Grounded {
				dropped++
				continue
			}
			kept = append(kept, dp)
		}
		x.Theses[i].DataPoints = kept
	}
	return dropped
}

// Grounding budgets: bytes of text scanned by exact and normalised
// searches, and words stepped over by fuzzy ones, per byte of text plus a
// floor for short texts.
const (
	scanPerByte   = 32
	scanFloor     = 64 << 20
	fuzzyPerByte  = 4
	fuzzyFloor    = 16 << 20
	runeCheckStep = 512 // bytes between rune-offset checkpoints
)

// textIndex finds quotes in a text and turns byte offsets into the rune
// offsets a Grounding holds. What only some quotes need (the normalised
// text, the word list) is built on first use.
type textIndex struct {
	text string
	// ascii: byte offsets are rune offsets. Otherwise cpByte[k] is the
	// first rune boundary at or after byte k*runeCheckStep and cpRune[k]
	// the number of runes before it.
	ascii          bool
	cpByte, cpRune []int
	hint           int // byte offset where the last exact match started
	scan, fuzzy    int // budgets left

	normBuilt bool
	norm      string
	normByte  []int32 // for each byte of norm, the byte offset in text it comes from
	normHint  int

	wordsBuilt bool
	words      []word
	vocab      map[string]int32
	need, have []int32 // by word id, for the quote being matched
}

// word is one word of the text: its id in the vocabulary and its byte
// offsets.
type word struct {
	id         int32
	start, end int32
}

func newTextIndex(text string) *textIndex {
	t := &textIndex{text: text, ascii: true,
		scan: scanPerByte*len(text) + scanFloor, fuzzy: fuzzyPerByte*len(text) + fuzzyFloor}
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			t.ascii = false
			break
		}
	}
	if !t.ascii {
		runes, next := 0, 0
		for bi := range text {
			for bi >= next {
				t.cpByte = append(t.cpByte, bi)
				t.cpRune = append(t.cpRune, runes)
				next += runeCheckStep
			}
			runes++
		}
	}
	return t
}

// runeOffset is the rune offset of byte offset b, a rune boundary.
func (t *textIndex) runeOffset(b int) int {
	if t.ascii {
		return b
	}
	// cpByte[0] is 0: a text that is not ASCII has a first rune.
	k := min(b/runeCheckStep, len(t.cpByte)-1)
	for k > 0 && t.cpByte[k] > b {
		k--
	}
	return t.cpRune[k] + utf8.RuneCountInString(t.text[t.cpByte[k]:b])
}

// grounding makes the Grounding of the passage text[start:end].
func (t *textIndex) grounding(start, end int, method string) schema.Grounding {
	return schema.Grounding{Start: t.runeOffset(start), End: t.runeOffset(end), Method: method}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '%' || r == '$' || r == '€' || r == '£' || r == '.'
}

func normalise(s string) string {
	var b strings.Builder
	lastSpace := true
	for _, r := range s {
		if isWordRune(r) {
			b.WriteRune(unicode.ToLower(r))
			lastSpace = false
		} else if !lastSpace {
			b.WriteByte(' ')
			lastSpace = true
		}
	}
	return strings.TrimSpace(b.String())
}

// search finds q in s, from hint onwards first, then before it, charging
// the bytes it scans to the budget; it returns -1 when q is not there or
// the budget is spent.
func (t *textIndex) search(s, q string, hint int) int {
	if t.scan <= 0 {
		return -1
	}
	hint = min(hint, len(s))
	if i := strings.Index(s[hint:], q); i >= 0 {
		t.scan -= i + len(q)
		return hint + i
	}
	t.scan -= len(s) - hint
	if hint == 0 || t.scan <= 0 {
		return -1
	}
	head := s[:min(len(s), hint+len(q)-1)]
	i := strings.Index(head, q)
	if i < 0 {
		t.scan -= len(head)
	} else {
		t.scan -= i + len(q)
	}
	return i
}

// locate finds quote in the text and returns its Grounding and its byte
// offsets; Method is empty when it was not found.
func (t *textIndex) locate(quote string) (g schema.Grounding, start, end int) {
	quote = strings.TrimSpace(quote)
	if quote == "" {
		return g, 0, 0
	}
	if i := t.search(t.text, quote, t.hint); i >= 0 {
		t.hint = i
		return t.grounding(i, i+len(quote), "exact"), i, i + len(quote)
	}
	if t.scan <= 0 || len(t.text) > math.MaxInt32 {
		return g, 0, 0
	}
	nq := strings.Trim(normalise(quote), ". ")
	if nq == "" {
		return g, 0, 0
	}
	t.buildNorm()
	if i := t.search(t.norm, nq, t.normHint); i >= 0 {
		t.normHint = i
		start = int(t.normByte[i])
		last := int(t.normByte[i+len(nq)-1])
		_, sz := utf8.DecodeRuneInString(t.text[last:])
		end = last + sz
		return t.grounding(start, end, "normalized"), start, end
	}
	return t.fuzzyMatch(nq)
}

// buildNorm builds the normalised text: words lower-cased, everything
// else one space; normByte maps it back.
func (t *textIndex) buildNorm() {
	if t.normBuilt {
		return
	}
	t.normBuilt = true
	t.scan -= len(t.text)
	var nb strings.Builder
	nb.Grow(len(t.text))
	t.normByte = make([]int32, 0, len(t.text))
	lastSpace := true
	var buf [utf8.UTFMax]byte
	for bi, r := range t.text {
		if isWordRune(r) {
			n := utf8.EncodeRune(buf[:], unicode.ToLower(r))
			nb.Write(buf[:n])
			for range n {
				t.normByte = append(t.normByte, int32(bi))
			}
			lastSpace = false
		} else if !lastSpace {
			nb.WriteByte(' ')
			t.normByte = append(t.normByte, int32(bi))
			lastSpace = true
		}
	}
	t.norm = nb.String()
}

// buildWords splits the text into words (runs of word runes, lower-cased,
// without leading or trailing full stops: a full stop ends a sentence
// unless it stands between digits) with ids from one vocabulary.
func (t *textIndex) buildWords() {
	if t.wordsBuilt {
		return
	}
	t.wordsBuilt = true
	t.vocab = map[string]int32{}
	var cur []byte
	curStart := 0
	var buf [utf8.UTFMax]byte
	flush := func(end int) {
		w := cur
		for len(w) > 0 && w[len(w)-1] == '.' {
			w, end = w[:len(w)-1], end-1
		}
		start := curStart
		for len(w) > 0 && w[0] == '.' {
			w, start = w[1:], start+1
		}
		if len(w) > 0 {
			id, ok := t.vocab[string(w)]
			if !ok {
				id = int32(len(t.vocab))
				t.vocab[string(w)] = id
			}
			t.words = append(t.words, word{id: id, start: int32(start), end: int32(end)})
		}
		cur = cur[:0]
	}
	for bi, r := range t.text {
		if isWordRune(r) {
			if len(cur) == 0 {
				curStart = bi
			}
			n := utf8.EncodeRune(buf[:], unicode.ToLower(r))
			cur = append(cur, buf[:n]...)
		} else {
			flush(bi)
		}
	}
	flush(len(t.text))
	t.need = make([]int32, len(t.vocab))
	t.have = make([]int32, len(t.vocab))
}

// fuzzyMatch finds the window of len(quote words) text words that shares
// the most words with the quote, counting multiplicity.
func (t *textIndex) fuzzyMatch(nq string) (g schema.Grounding, start, end int) {
	qw := strings.Fields(nq)
	n := len(qw)
	if n < 3 {
		return g, 0, 0
	}
	t.buildWords()
	if len(t.words) < n || t.fuzzy < len(t.words) {
		return g, 0, 0
	}
	t.fuzzy -= len(t.words)
	var ids []int32
	for _, w := range qw {
		if id, ok := t.vocab[strings.Trim(w, ".")]; ok {
			if t.need[id] == 0 {
				ids = append(ids, id)
			}
			t.need[id]++
		}
	}
	defer func() {
		for _, id := range ids {
			t.need[id], t.have[id] = 0, 0
		}
	}()
	matched := 0
	add := func(id int32, d int32) {
		c := t.need[id]
		if c == 0 {
			return
		}
		before := min(t.have[id], c)
		t.have[id] += d
		matched += int(min(t.have[id], c) - before)
	}
	best, bestAt := 0, -1
	for i, w := range t.words {
		add(w.id, 1)
		if i >= n {
			add(t.words[i-n].id, -1)
		}
		if i >= n-1 && matched > best {
			best, bestAt = matched, i-n+1
		}
	}
	if bestAt < 0 || float64(best) < FuzzyThreshold*float64(n) {
		return g, 0, 0
	}
	// Shrink the window to the words the quote shares at its edges.
	first, last := bestAt, bestAt+n-1
	for first < last && t.need[t.words[first].id] == 0 {
		first++
	}
	for last > first && t.need[t.words[last].id] == 0 {
		last--
	}
	start, end = int(t.words[first].start), int(t.words[last].end)
	return t.grounding(start, end, "fuzzy"), start, end
}

var numberRe = regexp.MustCompile(`\d+(?:[.,]\d+)*`)

// numbersAppear reports whether every number written in value also appears
// in passage (thousands separators ignored).
func numbersAppear(value, passage string) bool {
	have := map[string]bool{}
	for _, n := range numberRe.FindAllString(passage, -1) {
		have[canonNumber(n)] = true
	}
	for _, n := range numberRe.FindAllString(value, -1) {
		if !have[canonNumber(n)] {
			return false
		}
	}
	return true
}

func canonNumber(n string) string {
	n = strings.ReplaceAll(n, ",", "")
	if strings.Contains(n, ".") {
		n = strings.TrimRight(strings.TrimRight(n, "0"), ".")
	}
	return n
}
