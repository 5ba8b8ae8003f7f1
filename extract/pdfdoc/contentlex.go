package pdfdoc

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/ledongthuc/pdf"
)

// The content-stream interpreter. The library's pdf.Interpret is a general
// PostScript-subset reader: it boxes every token in an interface, every
// operand in a pdf.Value and re-slices the stack per operator, which made it
// most of the time spent on text-heavy pages. Content streams need far
// less: numbers, names, strings, arrays (for TJ), dictionaries (skipped)
// and operators; inline images are skipped whole.

// opKind is the type of a content-stream operand.
type opKind uint8

const (
	kNull   opKind = iota // null, booleans, dictionaries, keywords in arrays
	kNum                  // integers and reals
	kName                 // /Name, without the slash
	kString               // (literal) or <hex>, decoded
	kArray                // [ ... ]
)

// operand is one operand of a content-stream operator. b aliases the
// decoded stream or the interpreter's scratch space and is valid only
// while the operator runs.
type operand struct {
	kind opKind
	num  float64
	b    []byte
	arr  []operand
}

// float returns a number operand's value, or 0.
func (o operand) float() float64 {
	if o.kind == kNum {
		return o.num
	}
	return 0
}

// name returns a name operand as a string, or "".
func (o operand) name() string {
	if o.kind == kName {
		return string(o.b)
	}
	return ""
}

// str returns a string operand's bytes, or nil.
func (o operand) str() []byte {
	if o.kind == kString {
		return o.b
	}
	return nil
}

// mark is an open array or dictionary: where its elements start on the
// operand stack.
type mark struct {
	at   int
	dict bool
}

// interp interprets content streams. It is reused for every stream run at
// one form-nesting depth, so its buffers are allocated once per document.
type interp struct {
	stack   []operand
	marks   []mark
	arena   []operand // elements of the current operator's arrays
	scratch []byte    // strings and names that needed decoding
	buf     []byte    // the decoded stream
}

// reset forgets everything from a previous stream.
func (in *interp) reset() {
	in.clear()
}

// clear drops the operands after an operator ran.
func (in *interp) clear() {
	in.stack = in.stack[:0]
	in.marks = in.marks[:0]
	in.arena = in.arena[:0]
	in.scratch = in.scratch[:0]
}

// read decodes a content stream, or the streams of a /Contents array
// joined by newlines (they may split only between tokens). On a read error
// it returns what was decoded before it with the error, so the caller can
// keep that text, as the library's interpreter did.
func (in *interp) read(strm pdf.Value) ([]byte, error) {
	buf := in.buf[:0]
	var err error
	if strm.Kind() == pdf.Array {
		n := strm.Len()
		readers := make([]io.Reader, 0, n)
		for i := 0; i < n; i++ {
			readers = append(readers, strm.Index(i).Reader())
		}
		for _, r := range readers {
			if buf, err = appendAll(buf, r); err != nil {
				break
			}
			buf = append(buf, '\n')
		}
	} else {
		buf, err = appendAll(buf, strm.Reader())
	}
	in.buf = buf
	if err != nil {
		return buf, fmt.Errorf("malformed PDF: reading a content stream after %d bytes: %w", len(buf), err)
	}
	return buf, nil
}

// appendAll appends everything r yields to buf.
func appendAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Byte classes of the PDF lexer.
const (
	cRegular = iota
	cSpace
	cDelim
)

var byteClass = func() (t [256]uint8) {
	for _, c := range []byte{0, '\t', '\n', '\f', '\r', ' '} {
		t[c] = cSpace
	}
	for _, c := range []byte("()<>[]{}/%") {
		t[c] = cDelim
	}
	return t
}()

// push adds an operand, refusing more than the pre-scan allows.
func (in *interp) push(o operand) {
	if len(in.stack) >= maxOperands {
		panic(fmt.Errorf("more than %d operands without an operator", maxOperands))
	}
	in.stack = append(in.stack, o)
}

// run lexes data and calls do for each operator with its operands.
func (in *interp) run(data []byte, do func(op []byte, args []operand)) {
	n := len(data)
	i := 0
	for i < n {
		c := data[i]
		if byteClass[c] == cSpace {
			i++
			continue
		}
		switch c {
		case '%':
			for i < n && data[i] != '\r' && data[i] != '\n' {
				i++
			}
		case '/':
			j := i + 1
			for j < n && byteClass[data[j]] == cRegular {
				j++
			}
			in.push(operand{kind: kName, b: in.name(data[i+1 : j])})
			i = j
		case '(':
			var s []byte
			s, i = in.literal(data, i+1)
			in.push(operand{kind: kString, b: s})
		case '<':
			if i+1 < n && data[i+1] == '<' {
				in.open(true)
				i += 2
				continue
			}
			var s []byte
			s, i = in.hex(data, i+1)
			in.push(operand{kind: kString, b: s})
		case '>':
			if i+1 < n && data[i+1] == '>' {
				i += 2
				if k := len(in.marks) - 1; k >= 0 && in.marks[k].dict {
					in.stack = in.stack[:in.marks[k].at]
					in.marks = in.marks[:k]
					in.push(operand{kind: kNull})
				}
				continue
			}
			i++
		case '[':
			in.open(false)
			i++
		case ']':
			i++
			if k := len(in.marks) - 1; k >= 0 && !in.marks[k].dict {
				at := in.marks[k].at
				in.marks = in.marks[:k]
				start := len(in.arena)
				in.arena = append(in.arena, in.stack[at:]...)
				in.stack = in.stack[:at]
				in.push(operand{kind: kArray, arr: in.arena[start:len(in.arena):len(in.arena)]})
			}
		case '{', '}', ')':
			i++
		default:
			j := i + 1
			for j < n && byteClass[data[j]] == cRegular {
				j++
			}
			tok := data[i:j]
			i = j
			if v, ok := parseNumber(tok); ok {
				in.push(operand{kind: kNum, num: v})
				continue
			}
			if len(in.marks) > 0 {
				// true, false, null or junk inside an array or dictionary
				in.push(operand{kind: kNull})
				continue
			}
			switch string(tok) {
			case "true", "false", "null":
				in.push(operand{kind: kNull})
				continue
			case "BI":
				i = skipInlineImage(data, i)
				in.clear()
				continue
			}
			do(tok, in.stack)
			in.clear()
		}
	}
}

// open starts an array or dictionary.
func (in *interp) open(dict bool) {
	if len(in.marks) >= maxNesting {
		panic(fmt.Errorf("arrays and dictionaries nested deeper than %d", maxNesting))
	}
	in.marks = append(in.marks, mark{at: len(in.stack), dict: dict})
}

// name decodes #xx escapes in a name.
func (in *interp) name(b []byte) []byte {
	if bytes.IndexByte(b, '#') < 0 {
		return b
	}
	start := len(in.scratch)
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			if h, l := unhexByte(b[i+1]), unhexByte(b[i+2]); h >= 0 && l >= 0 {
				in.scratch = append(in.scratch, byte(h<<4|l))
				i += 2
				continue
			}
		}
		in.scratch = append(in.scratch, b[i])
	}
	return in.scratch[start:len(in.scratch):len(in.scratch)]
}

// literal reads a (string) from just after its opening parenthesis and
// returns its bytes and the offset after it. An unterminated string runs
// to the end of the stream.
func (in *interp) literal(data []byte, i int) ([]byte, int) {
	depth := 1
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '\\':
			return in.literalEscaped(data, i)
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return data[i:j:j], j + 1
			}
		}
	}
	return data[i:len(data):len(data)], len(data)
}

// literalEscaped is literal for strings with backslash escapes.
func (in *interp) literalEscaped(data []byte, i int) ([]byte, int) {
	start := len(in.scratch)
	out := in.scratch
	depth := 1
	n := len(data)
Loop:
	for i < n {
		c := data[i]
		i++
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				break Loop
			}
		case '\\':
			if i >= n {
				break Loop
			}
			c = data[i]
			i++
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if i < n && data[i] == '\n' {
					i++
				}
				continue
			case '\n':
				continue
			case '0', '1', '2', '3', '4', '5', '6', '7':
				x := int(c - '0')
				for k := 0; k < 2 && i < n && data[i] >= '0' && data[i] <= '7'; k++ {
					x = x*8 + int(data[i]-'0')
					i++
				}
				c = byte(x)
			}
			// any other escaped byte stands for itself
		}
		out = append(out, c)
	}
	in.scratch = out
	return out[start:len(out):len(out)], i
}

// hex reads a <hex string> from just after its '<'.
func (in *interp) hex(data []byte, i int) ([]byte, int) {
	start := len(in.scratch)
	out := in.scratch
	hi := -1
	for i < len(data) {
		c := data[i]
		i++
		if c == '>' {
			break
		}
		v := unhexByte(c)
		if v < 0 {
			continue
		}
		if hi < 0 {
			hi = v
			continue
		}
		out = append(out, byte(hi<<4|v))
		hi = -1
	}
	if hi >= 0 { // an odd digit count: the last digit is followed by 0
		out = append(out, byte(hi<<4))
	}
	in.scratch = out
	return out[start:len(out):len(out)], i
}

func unhexByte(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses an integer or a real ("12", "-3.5", ".5", "4.")
// exactly as strconv would; ok is false for anything else.
func parseNumber(t []byte) (v float64, ok bool) {
	i := 0
	neg := false
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		i = 1
	}
	if i == len(t) {
		return 0, false
	}
	var mant uint64
	digits, frac := 0, 0
	dot := false
	for ; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 { // "." or "-.": a malformed number, read as 0
		return 0, true
	}
	if digits > 15 { // past float64's exact integers: let strconv round
		v, err := strconv.ParseFloat(string(t), 64)
		return v, err == nil
	}
	// Both are exact, so the quotient is correctly rounded, as strconv's.
	v = float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

var (
	kwID = []byte("ID")
	kwEI = []byte("EI")
)

// skipInlineImage returns the offset after the inline image whose BI
// operator ends at i: its parameters run to an ID operator, its data to an
// EI between white space.
func skipInlineImage(data []byte, i int) int {
	n := len(data)
	for {
		k := bytes.Index(data[i:], kwID)
		if k < 0 {
			return n
		}
		k += i
		if byteClass[data[k-1]] != cRegular && (k+2 >= n || isSpace(data[k+2])) {
			i = k + 3
			break
		}
		i = k + 2
	}
	for i < n {
		k := bytes.Index(data[i:], kwEI)
		if k < 0 {
			return n
		}
		k += i
		if k > 0 && isSpace(data[k-1]) && (k+2 >= n || byteClass[data[k+2]] != cRegular) {
			return k + 2
		}
		i = k + 2
	}
	return n
}
