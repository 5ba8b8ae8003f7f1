package pdfdoc

import (
	"errors"
	"math"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// glyph is one shown character (or a few, for ligatures) in the page's
// display space: x grows to the right, y grows upwards, (x, y) is the start
// of the glyph on its baseline.
type glyph struct {
	x, y, w, size float64
	dx, dy        float64 // unit advance direction in display space
	s             string
}

// matrix is a PDF affine transform [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m×n: apply m, then n.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

type gstate struct {
	ctm                        matrix
	tc, tw, th, tl, tfs, trise float64
	font                       *fontInfo
}

// errAbort unwinds the interpreter when the caller gave up or a limit hit.
var errAbort = errors.New("pdfdoc: interpretation aborted")

// pageReader interprets one page's content stream into glyphs.
type pageReader struct {
	glyphs    []glyph
	rotate    int
	maxGlyphs int
	stop      func() bool // reports whether to give up (deadline, cancel)
	ops       int
	undecoded int // glyphs whose code had no Unicode mapping
	fontErr   string
	forms     int
	doc       *docCache // shared by the pages of one document
}

const maxFormDepth = 8

// run interprets a content stream (or a /Contents array of them) with its
// resources under the initial CTM.
func (pr *pageReader) run(strm, res pdf.Value, ctm matrix, depth int) {
	if pr.doc == nil {
		pr.doc = newDocCache()
	}
	fonts := map[string]*fontInfo{}
	var fontRes pdf.Value
	fontResSet := false
	g := gstate{ctm: ctm, th: 1}
	var stack []gstate
	var tm, tlm matrix
	for len(pr.doc.interps) <= depth {
		pr.doc.interps = append(pr.doc.interps, &interp{})
	}
	in := pr.doc.interps[depth]
	in.reset()
	data, rerr := in.read(strm)
	in.run(data, func(op []byte, args []operand) {
		pr.ops++
		if pr.ops&1023 == 0 && pr.stop() {
			panic(errAbort)
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].float()
			}
			return 0
		}
		show := func(s operand) {
			if g.font == nil {
				g.font = fallbackFont()
			}
			tm = pr.show(&g, tm, s.str())
		}
		switch string(op) {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, g)
			}
		case "Q":
			if k := len(stack) - 1; k >= 0 {
				g = stack[k]
				stack = stack[:k]
			}
		case "cm":
			if len(args) == 6 {
				g.ctm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}.mul(g.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Td", "TD":
			if len(args) == 2 {
				if op[1] == 'D' {
					g.tl = -num(1)
				}
				tlm = matrix{1, 0, 0, 1, num(0), num(1)}.mul(tlm)
				tm = tlm
			}
		case "Tm":
			if len(args) == 6 {
				tm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}
				tlm = tm
			}
		case "T*":
			tlm = matrix{1, 0, 0, 1, 0, -g.tl}.mul(tlm)
			tm = tlm
		case "Tc":
			g.tc = num(0)
		case "Tw":
			g.tw = num(0)
		case "Tz":
			g.th = num(0) / 100
		case "TL":
			g.tl = num(0)
		case "Ts":
			g.trise = num(0)
		case "Tf":
			if len(args) == 2 {
				name := args[0].name()
				f, ok := fonts[name]
				if !ok {
					if !fontResSet {
						fontRes, fontResSet = res.Key("Font"), true
					}
					f = pr.doc.font(fontRes.Key(name))
					fonts[name] = f
				}
				g.font = f
				g.tfs = num(1)
			}
		case "Tj":
			if len(args) == 1 {
				show(args[0])
			}
		case "'", "\"":
			if len(args) >= 1 {
				if op[0] == '"' && len(args) == 3 {
					g.tw, g.tc = num(0), num(1)
				}
				tlm = matrix{1, 0, 0, 1, 0, -g.tl}.mul(tlm)
				tm = tlm
				show(args[len(args)-1])
			}
		case "TJ":
			if len(args) == 1 {
				for _, x := range args[0].arr {
					if x.kind == kString {
						show(x)
						continue
					}
					tx := -x.float() / 1000 * g.tfs * g.th
					tm = matrix{1, 0, 0, 1, tx, 0}.mul(tm)
				}
			}
		case "Do":
			if len(args) == 1 && depth < maxFormDepth && pr.forms < 1000 {
				x := res.Key("XObject").Key(args[0].name())
				if x.Kind() == pdf.Stream && x.Key("Subtype").Name() == "Form" {
					pr.forms++
					m := identity
					if mv := x.Key("Matrix"); mv.Len() == 6 {
						for i := range m {
							m[i] = mv.Index(i).Float64()
						}
					}
					fres := x.Key("Resources")
					if fres.Kind() != pdf.Dict {
						fres = res
					}
					pr.run(x, fres, m.mul(g.ctm), depth+1)
				}
			}
		}
	})
	if rerr != nil {
		panic(rerr)
	}
}

// show places the glyphs of one string and returns the advanced text matrix.
func (pr *pageReader) show(g *gstate, tm matrix, raw []byte) matrix {
	f := g.font
	a, d, e := g.tfs*g.th, g.tfs, g.trise
	// The glyphs' size: what a glyph advances changes only the text
	// matrix's translation, which the size does not read.
	size := -1.0
	for len(raw) > 0 {
		n := f.codeLen(raw)
		code := raw[:n]
		raw = raw[n:]
		ci := f.info(code)
		if !ci.ok {
			pr.undecoded++
		}
		s, w0 := ci.s, ci.w
		// The text rendering matrix is [tfs·th 0 0 tfs 0 rise] × tm × ctm.
		// The products by the sparse matrices are written out (the same
		// operations, so the same results, as matrix.mul's).
		trm := matrix{a * tm[0], a * tm[1], d * tm[2], d * tm[3], e*tm[2] + tm[4], e*tm[3] + tm[5]}.mul(g.ctm)
		tx := (w0*g.tfs + g.tc) * g.th
		if n == 1 && code[0] == ' ' {
			tx += g.tw * g.th
		}
		// The next glyph's text matrix, [1 0 0 1 tx 0] × tm; its origin in
		// display space is where this glyph's advance ends.
		tm[4], tm[5] = tx*tm[0]+tm[4], tx*tm[1]+tm[5]
		ox, oy := pr.rot(trm[4], trm[5])
		c := &g.ctm
		ex, ey := pr.rot(tm[4]*c[0]+tm[5]*c[2]+c[4], tm[4]*c[1]+tm[5]*c[3]+c[5])
		wx, wy := ex-ox, ey-oy
		w := math.Hypot(wx, wy)
		dx, dy := 1.0, 0.0
		if w > 1e-6 {
			dx, dy = wx/w, wy/w
		} else {
			// No width known: take the direction from the text matrix.
			bx, by := pr.rot(trm[0]+trm[4], trm[1]+trm[5])
			if l := math.Hypot(bx-ox, by-oy); l > 1e-6 {
				dx, dy = (bx-ox)/l, (by-oy)/l
			}
		}
		if size < 0 {
			size = math.Hypot(trm[2], trm[3])
		}
		if s != "" && len(pr.glyphs) < pr.maxGlyphs {
			pr.glyphs = append(pr.glyphs, glyph{x: ox, y: oy, w: w, size: size, dx: dx, dy: dy, s: s})
		} else if len(pr.glyphs) >= pr.maxGlyphs {
			panic(errTooManyGlyphs)
		}
	}
	return tm
}

var errTooManyGlyphs = errors.New("too many glyphs on one page")

// rot maps user space to display space for the page's /Rotate.
func (pr *pageReader) rot(x, y float64) (float64, float64) {
	switch pr.rotate {
	case 90:
		return y, -x
	case 180:
		return -x, -y
	case 270:
		return -y, x
	}
	return x, y
}

// fontInfo is what the text layer needs of a font: how to split strings
// into codes, each code's Unicode text and its advance width.
type fontInfo struct {
	twoByte  bool
	toUni    *cmap
	enc      pdf.TextEncoding
	widths   map[int]float64 // glyph-space width by code (simple fonts: byte)
	cid      []cidRange
	dw       float64 // default width, glyph space units
	scale    float64 // glyph space to text space (0.001, or Type3's FontMatrix)
	missingW bool    // no width information at all: estimate

	one   [256]codeInfo       // decoded one-byte codes
	multi map[uint64]codeInfo // decoded longer codes, by length and value
}

// codeInfo is what show needs of one code, decoded once per font.
type codeInfo struct {
	s    string  // its text
	w    float64 // its advance, as width returns
	ok   bool    // the font maps it to Unicode
	done bool    // filled in
}

// maxCodeCache bounds the multi-byte codes a font remembers.
const maxCodeCache = 1 << 16

// info returns code's text and width, decoding it on first use.
func (f *fontInfo) info(code []byte) codeInfo {
	if len(code) == 1 {
		ci := &f.one[code[0]]
		if !ci.done {
			*ci = f.compute(string(code))
		}
		return *ci
	}
	if len(code) > 4 {
		return f.compute(string(code))
	}
	var v uint32
	for _, c := range code {
		v = v<<8 | uint32(c)
	}
	key := uint64(len(code))<<32 | uint64(v)
	if ci, ok := f.multi[key]; ok {
		return ci
	}
	ci := f.compute(string(code))
	if f.multi == nil {
		f.multi = map[uint64]codeInfo{}
	}
	if len(f.multi) < maxCodeCache {
		f.multi[key] = ci
	}
	return ci
}

func (f *fontInfo) compute(code string) codeInfo {
	s, ok := f.decode(code)
	return codeInfo{s: s, w: f.width(code), ok: ok, done: true}
}

type cidRange struct {
	lo, hi int
	w      float64 // constant width over the range, or
	ws     []float64
}

func fallbackFont() *fontInfo {
	return &fontInfo{scale: 0.001, missingW: true, widths: map[int]float64{}}
}

// loadFont reads a font dictionary.
func loadFont(v pdf.Value) *fontInfo {
	f := &fontInfo{scale: 0.001, widths: map[int]float64{}}
	if v.Kind() != pdf.Dict {
		f.missingW = true
		return f
	}
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream {
		f.toUni = readCMap(tu, v)
	}
	switch v.Key("Subtype").Name() {
	case "Type0":
		f.twoByte = true
		d := v.Key("DescendantFonts").Index(0)
		f.dw = 1000
		if dw := d.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			f.dw = dw.Float64()
		}
		f.cid = readW(d.Key("W"))
		if f.toUni == nil {
			fv := pdf.Font{V: v}
			f.enc = fv.Encoder()
		}
		return f
	case "Type3":
		if fm := v.Key("FontMatrix"); fm.Len() == 6 {
			f.scale = math.Abs(fm.Index(0).Float64())
		}
	}
	fv := pdf.Font{V: v}
	f.enc = fv.Encoder()
	first := int(v.Key("FirstChar").Int64())
	ws := v.Key("Widths")
	for i := 0; i < ws.Len() && i < 256; i++ {
		f.widths[first+i] = ws.Index(i).Float64()
	}
	if len(f.widths) == 0 {
		f.missingW = true
		f.dw = v.Key("FontDescriptor").Key("MissingWidth").Float64()
	}
	return f
}

// readW parses a CIDFont's W array: c [w1 w2 ...] or cfirst clast w.
func readW(w pdf.Value) []cidRange {
	var out []cidRange
	n := w.Len()
	for i := 0; i < n && len(out) < 100000; {
		c := int(w.Index(i).Int64())
		if i+1 >= n {
			break
		}
		next := w.Index(i + 1)
		if next.Kind() == pdf.Array {
			r := cidRange{lo: c}
			for j := 0; j < next.Len() && j < 65536; j++ {
				r.ws = append(r.ws, next.Index(j).Float64())
			}
			r.hi = c + len(r.ws) - 1
			out = append(out, r)
			i += 2
			continue
		}
		if i+2 >= n {
			break
		}
		out = append(out, cidRange{lo: c, hi: int(next.Int64()), w: w.Index(i + 2).Float64()})
		i += 3
	}
	return out
}

// codeLen returns the byte length of the code at the start of s.
func (f *fontInfo) codeLen(s []byte) int {
	if f.toUni != nil {
		if n := f.toUni.codeLen(s); n > 0 {
			return n
		}
	}
	if f.twoByte && len(s) >= 2 {
		return 2
	}
	return 1
}

// decode returns a code's text; ok is false when the font gives no mapping.
func (f *fontInfo) decode(code string) (string, bool) {
	if f.toUni != nil {
		if s, ok := f.toUni.lookup(code); ok {
			return expandLigature(s), true
		}
	}
	if f.enc == nil {
		return "", false
	}
	s := f.enc.Decode(code)
	if f.twoByte && s == code {
		return "", false // nop encoder: raw bytes are not text
	}
	s = strings.Map(func(r rune) rune {
		if r == 0 || r == '\uFFFD' {
			return -1
		}
		return r
	}, s)
	return expandLigature(s), s != ""
}

// width returns a code's advance in text space units per unit font size.
func (f *fontInfo) width(code string) float64 {
	c := 0
	for i := 0; i < len(code); i++ {
		c = c<<8 | int(code[i])
	}
	if f.twoByte {
		for _, r := range f.cid {
			if c >= r.lo && c <= r.hi {
				if r.ws != nil {
					return r.ws[c-r.lo] * f.scale
				}
				return r.w * f.scale
			}
		}
		return f.dw * f.scale
	}
	if w, ok := f.widths[c]; ok {
		return w * f.scale
	}
	if f.missingW {
		if f.dw > 0 {
			return f.dw * f.scale
		}
		if c == ' ' {
			return 0.25
		}
		return 0.5 // no metrics: an average Latin glyph
	}
	return f.dw * f.scale
}

// isPrivate reports private-use code points: icon fonts' glyphs, not text.
func isPrivate(r rune) bool { return unicode.Is(unicode.Co, r) }

var ligatures = strings.NewReplacer("ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st")

func expandLigature(s string) string {
	if strings.IndexFunc(s, isPrivate) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isPrivate(r) {
				return -1
			}
			return r
		}, s)
	}
	if len(s) >= 3 && strings.ContainsAny(s, "ﬀﬁﬂﬃﬄﬅﬆ") {
		return ligatures.Replace(s)
	}
	return s
}

// cmap is a parsed ToUnicode CMap.
type cmap struct {
	space [5][][2]string // codespace ranges by byte length 1..4
	// spaceNum holds space's ranges as big-endian numbers.
	spaceNum [5][][2]uint32
	chars    map[string]string
	ranges   []cmapRange
	one      [256]bool // the bytes a one-byte codespace range holds
}

type cmapRange struct {
	lo, hi string
	dst    string   // UTF-16BE of lo's text; the last unit increments
	arr    []string // or one UTF-16BE string per code
}

func (m *cmap) codeLen(s []byte) int {
	if len(s) > 0 && m.one[s[0]] { // what the loop below finds first
		return 1
	}
	var c uint32
	for n := 1; n <= 4 && n <= len(s); n++ {
		// A range's ends are n bytes long as the code is: as big-endian
		// numbers they compare as the byte strings do.
		c = c<<8 | uint32(s[n-1])
		for _, r := range m.spaceNum[n] {
			if r[0] <= c && c <= r[1] {
				return n
			}
		}
	}
	return 0
}

// bigEndian returns the value of the (at most 4) bytes of s, first byte
// most significant.
func bigEndian(s string) uint32 {
	var v uint32
	for i := 0; i < len(s); i++ {
		v = v<<8 | uint32(s[i])
	}
	return v
}

func (m *cmap) lookup(code string) (string, bool) {
	if s, ok := m.chars[code]; ok {
		return utf16BE(s), true
	}
	for _, r := range m.ranges {
		if len(r.lo) != len(code) || code < r.lo || code > r.hi {
			continue
		}
		off := 0
		for i := 0; i < len(code); i++ {
			off = off<<8 | (int(code[i]) - int(r.lo[i]))
		}
		if r.arr != nil {
			if off < len(r.arr) {
				return utf16BE(r.arr[off]), true
			}
			return "", false
		}
		u := utf16Units(r.dst)
		if len(u) == 0 {
			return "", false
		}
		u[len(u)-1] += uint16(off)
		return string(utf16.Decode(u)), true
	}
	return "", false
}

func utf16Units(s string) []uint16 {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	if len(s)%2 == 1 { // a one-byte destination: take it as a code point
		u = append(u, uint16(s[len(s)-1]))
	}
	return u
}

func utf16BE(s string) string {
	r := utf16.Decode(utf16Units(s))
	return strings.Map(func(c rune) rune {
		if c == 0 || c == '\uFFFD' {
			return -1
		}
		return c
	}, string(r))
}

// readCMap parses a ToUnicode stream with the library's PostScript
// interpreter. Broken CMaps yield what could be read. scratch is any
// dictionary: the interpreter needs one for "findresource ... begin", and
// the library offers no way to make a fresh one.
func readCMap(v, scratch pdf.Value) (m *cmap) {
	m = &cmap{chars: map[string]string{}}
	defer func() {
		if r := recover(); r != nil && r == errAbort {
			panic(r)
		}
	}()
	pdf.Interpret(v, func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "endcodespacerange":
			for i := 0; i+1 < len(args); i += 2 {
				lo, hi := args[i].RawString(), args[i+1].RawString()
				if len(lo) >= 1 && len(lo) <= 4 && len(lo) == len(hi) {
					m.space[len(lo)] = append(m.space[len(lo)], [2]string{lo, hi})
					m.spaceNum[len(lo)] = append(m.spaceNum[len(lo)], [2]uint32{bigEndian(lo), bigEndian(hi)})
				}
			}
		case "endbfchar":
			for i := 0; i+1 < len(args); i += 2 {
				if len(m.chars) < 1<<20 {
					m.chars[args[i].RawString()] = args[i+1].RawString()
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(args); i += 3 {
				r := cmapRange{lo: args[i].RawString(), hi: args[i+1].RawString()}
				if len(r.lo) != len(r.hi) || len(m.ranges) > 1<<16 {
					continue
				}
				if d := args[i+2]; d.Kind() == pdf.Array {
					for j := 0; j < d.Len() && j < 65536; j++ {
						r.arr = append(r.arr, d.Index(j).RawString())
					}
					r.arr = append([]string{}, r.arr...)
				} else {
					r.dst = d.RawString()
				}
				m.ranges = append(m.ranges, r)
			}
		case "findresource", "begincmap":
			stk.Push(scratch) // keep the stack shape of "dict begin"
		}
	})
	for _, r := range m.space[1] {
		for c := int(r[0][0]); c <= int(r[1][0]); c++ {
			m.one[c] = true
		}
	}
	return m
}
