package pdfdoc

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrLimit means the PDF was refused before parsing: something in it is
// past a limit the reader cannot safely go beyond.
var ErrLimit = errors.New("PDF past a safety limit")

// LimitError is a PDF refused by the pre-scan that runs before the
// library sees the bytes, naming what was out of bounds.
type LimitError struct {
	// What describes the offending structure and the limit.
	What string
}

func (e *LimitError) Error() string { return "PDF refused before parsing: " + e.What }

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// The pre-scan's limits. github.com/ledongthuc/pdf allocates what a file
// declares (an xref table of /Size entries, a buffer and an inflater per
// /Contents element, a whole token in memory) and follows the page tree
// and /Parent links without noticing a loop; these bound each of those
// far above what real documents use.
const (
	// minMaxObjects is the object count allowed to any file; larger files
	// may declare one object per maxObjectBytes bytes.
	minMaxObjects  = 1 << 20
	maxObjectBytes = 4
	// maxToken bounds one string, name, number or keyword.
	maxToken = 16 << 20
	// maxArray bounds the elements of one array.
	maxArray = 1 << 20
	// maxOperands bounds the operands pushed before an operator.
	maxOperands = 1 << 20
	// maxContents bounds a page's /Contents array.
	maxContents = 10000
	// maxStream bounds one stream's decoded size; maxDecoded all of them.
	maxStream  = 256 << 20
	maxDecoded = 1 << 30
	// maxNesting bounds nested arrays and dictionaries.
	maxNesting = 1000
	// maxXrefWidth bounds a field of an xref stream's /W, in bytes.
	maxXrefWidth = 8
	// maxColumns bounds a predictor's /Columns.
	maxColumns = 1 << 24
)

func limitf(format string, args ...any) error {
	return &LimitError{What: fmt.Sprintf(format, args...)}
}

// precheck scans data once, linearly, for the structures the library is
// known to choke on, without allocating anything a declared size asks for.
// It returns a *LimitError, or nil when the library may have the bytes.
// Anything it does not understand it leaves to the library.
func precheck(data []byte) error {
	s := &prescan{
		data:       data,
		maxObjects: max(int64(minMaxObjects), int64(len(data))/maxObjectBytes),
		objs:       map[uint32]*objInfo{},
		content:    map[uint32]bool{},
	}
	if err := s.file(); err != nil {
		return err
	}
	if err := s.pageTree(); err != nil {
		return err
	}
	return s.streams()
}

// objInfo is what the pre-scan keeps of one indirect object.
type objInfo struct {
	d      *dictInfo // nil unless the object is a dictionary or stream
	arr    []uint32  // the references of an array object
	stream bool
	start  int // offset of a stream's data in the file
	end    int // offset of its endstream, or len(data)
}

// dictInfo is what the pre-scan keeps of a dictionary.
type dictInfo struct {
	typ, subtype string
	filters      []string
	kids         []uint32
	kidsRef      uint32 // /Kids given as a reference to an array
	hasKids      bool
	parent       uint32
	root, pages  uint32
	length       int64
	hasLength    bool
	n, first     int64
	size         int64
	hasSize      bool
	index        []int64
	w            []int64
}

// prescan is the state of one precheck.
type prescan struct {
	data       []byte
	maxObjects int64
	objs       map[uint32]*objInfo
	root       uint32
	content    map[uint32]bool // streams the library will lex as content
	decoded    int64
}

// file walks the file's top level: objects, xref tables and trailers.
func (s *prescan) file() error {
	p := &parser{s: s, lx: lexer{buf: s.data}, top: true}
	for {
		// Between objects the library reads nothing: no limit applies.
		p.lx.unlimited = true
		t, err := p.next()
		p.lx.unlimited = false
		if err != nil {
			return err
		}
		switch {
		case t.kind == tEOF:
			return nil
		case t.kind == tInt:
			t2, err := p.next()
			if err != nil {
				return err
			}
			if t2.kind != tInt {
				p.unread(t2)
				continue
			}
			t3, err := p.next()
			if err != nil {
				return err
			}
			if !t3.is("obj") {
				p.unread(t3)
				p.unread(t2)
				continue
			}
			if err := s.object(p, t.i); err != nil {
				return err
			}
		case t.is("xref"):
			if err := s.xrefTable(p); err != nil {
				return err
			}
		case t.is("trailer"):
			t, err := p.next()
			if err != nil {
				return err
			}
			if t.kind != tDictOpen {
				p.unread(t)
				continue
			}
			d := &dictInfo{}
			if err := p.dict(1, d); err != nil {
				return err
			}
			if err := s.checkSize("trailer", d); err != nil {
				return err
			}
			if d.root != 0 {
				s.root = d.root
			}
		}
	}
}

// object reads the body of object id in the file, after "obj".
func (s *prescan) object(p *parser, id int64) error {
	if id < 0 || id > int64(^uint32(0)) {
		return nil
	}
	v, err := p.value(0, "")
	if err != nil {
		return err
	}
	o := &objInfo{d: v.d, arr: v.refs}
	s.objs[uint32(id)] = o
	if v.kind != tDictOpen {
		return nil
	}
	t, err := p.next()
	if err != nil {
		return err
	}
	if !t.is("stream") {
		p.unread(t)
		return nil
	}
	// Stream data starts after the end of line that follows "stream".
	lx := &p.lx
	if lx.pos < len(lx.buf) && lx.buf[lx.pos] == '\r' {
		lx.pos++
	}
	if lx.pos < len(lx.buf) && lx.buf[lx.pos] == '\n' {
		lx.pos++
	}
	o.stream, o.start = true, lx.pos
	o.end = len(s.data)
	d := v.d
	if d.hasLength && d.length >= 0 && int64(o.start)+d.length <= int64(len(s.data)) {
		at := o.start + int(d.length)
		rest := bytes.TrimLeft(s.data[at:min(at+64, len(s.data))], "\r\n\t\f\x00 ")
		if bytes.HasPrefix(rest, []byte("endstream")) {
			o.end = at
		}
	}
	if o.end == len(s.data) {
		if i := bytes.Index(s.data[o.start:], []byte("endstream")); i >= 0 {
			o.end = o.start + i
		}
	}
	lx.pos = o.end
	switch d.typ {
	case "XRef":
		if err := s.checkSize(fmt.Sprintf("xref stream (object %d)", id), d); err != nil {
			return err
		}
		for _, w := range d.w {
			if w < 0 || w > maxXrefWidth {
				return limitf("xref stream (object %d) has a field %d bytes wide in /W (at most %d)", id, w, maxXrefWidth)
			}
		}
		if d.root != 0 {
			s.root = d.root
		}
	case "ObjStm":
		return s.objectStream(uint32(id), o)
	}
	if d.subtype == "Form" {
		s.content[uint32(id)] = true
	}
	return nil
}

// checkSize refuses an xref /Size or /Index past the object limit.
func (s *prescan) checkSize(where string, d *dictInfo) error {
	if d.hasSize && (d.size < 0 || d.size > s.maxObjects) {
		return limitf("%s declares /Size %d in a file of %d bytes (at most %d objects)", where, d.size, len(s.data), s.maxObjects)
	}
	for i := 0; i+1 < len(d.index); i += 2 {
		if a, n := d.index[i], d.index[i+1]; a < 0 || n < 0 || a > s.maxObjects || n > s.maxObjects-a {
			return limitf("%s has an /Index section of objects %d to %d in a file of %d bytes (at most %d objects)", where, a, a+n, len(s.data), s.maxObjects)
		}
	}
	return nil
}

// xrefTable reads a classic cross-reference table the way the library
// does, refusing subsections numbered past the object limit.
func (s *prescan) xrefTable(p *parser) error {
	for {
		a, err := p.next()
		if err != nil {
			return err
		}
		if a.kind != tInt {
			p.unread(a)
			return nil
		}
		n, err := p.next()
		if err != nil {
			return err
		}
		if n.kind != tInt {
			p.unread(n)
			return nil
		}
		if a.i < 0 || n.i < 0 || a.i > s.maxObjects || n.i > s.maxObjects-a.i {
			return limitf("xref table has a subsection of objects %d to %d in a file of %d bytes (at most %d objects)", a.i, a.i+n.i, len(s.data), s.maxObjects)
		}
		for i := int64(0); i < n.i; i++ {
			t1, err := p.next()
			if err != nil {
				return err
			}
			t2, err := p.next()
			if err != nil {
				return err
			}
			t3, err := p.next()
			if err != nil {
				return err
			}
			if t1.kind != tInt || t2.kind != tInt || !(t3.is("n") || t3.is("f")) {
				p.unread(t3)
				p.unread(t2)
				p.unread(t1)
				return nil
			}
		}
	}
}

// objectStream reads the objects packed in an object stream.
func (s *prescan) objectStream(id uint32, o *objInfo) error {
	d := o.d
	if d.n < 0 || d.n > s.maxObjects {
		return limitf("object stream %d declares /N %d in a file of %d bytes (at most %d objects)", id, d.n, len(s.data), s.maxObjects)
	}
	rd, ok := s.decode(o)
	if !ok {
		return nil
	}
	lim := &limitReader{r: rd, left: maxStream, s: s, id: id}
	p := &parser{s: s, lx: lexer{r: lim, buf: make([]byte, 0, 32<<10)}}
	// The header: N pairs of object number and offset.
	ids := map[int64]uint32{}
	for i := int64(0); i < d.n; i++ {
		a, err := p.next()
		if err != nil {
			return err
		}
		b, err := p.next()
		if err != nil {
			return err
		}
		if a.kind != tInt || b.kind != tInt {
			p.unread(b)
			p.unread(a)
			break
		}
		if a.i >= 0 && a.i <= int64(^uint32(0)) {
			ids[b.i] = uint32(a.i)
		}
	}
	first := int64(-1)
	if d.first > 0 {
		first = d.first
	}
	for {
		t, err := p.next()
		if err != nil {
			return lim.wrap(err)
		}
		if t.kind == tEOF {
			return lim.err
		}
		if first < 0 {
			first = t.off
		}
		p.unread(t)
		v, err := p.value(0, "")
		if err != nil {
			return lim.wrap(err)
		}
		if oid, ok := ids[t.off-first]; ok {
			s.objs[oid] = &objInfo{d: v.d, arr: v.refs}
		}
	}
}

// decode returns a reader of the stream's decoded data, or false when its
// filters are ones the pre-scan leaves to the library.
func (s *prescan) decode(o *objInfo) (io.Reader, bool) {
	var r io.Reader = bytes.NewReader(s.data[o.start:o.end])
	for _, f := range o.d.filters {
		switch f {
		case "FlateDecode", "Fl":
			zr, err := zlib.NewReader(r)
			if err != nil {
				return nil, false
			}
			r = zr
		case "ASCII85Decode", "A85":
			r = ascii85.NewDecoder(&a85Clean{r: r})
		default:
			return nil, false
		}
	}
	return r, true
}

// pageTree refuses a page tree whose /Kids or /Parent links loop, which
// makes the library's page lookup or its inherited-attribute search spin
// forever.
func (s *prescan) pageTree() error {
	var roots []uint32
	if cat, ok := s.objs[s.root]; ok && cat.d != nil && cat.d.pages != 0 {
		roots = []uint32{cat.d.pages}
	} else {
		// No catalog found: check every node that has kids.
		for id, o := range s.objs {
			if o.d != nil && o.d.hasKids {
				roots = append(roots, id)
			}
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := map[uint32]int{}
	kids := func(id uint32) []uint32 {
		o := s.objs[id]
		if o == nil || o.d == nil {
			return nil
		}
		if o.d.kidsRef != 0 {
			if a := s.objs[o.d.kidsRef]; a != nil {
				return a.arr
			}
		}
		return o.d.kids
	}
	var nodes []uint32
	type frame struct {
		id uint32
		i  int
	}
	for _, r := range roots {
		if color[r] != white {
			continue
		}
		stack := []frame{{id: r}}
		color[r] = grey
		nodes = append(nodes, r)
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			ks := kids(f.id)
			if f.i >= len(ks) {
				color[f.id] = black
				stack = stack[:len(stack)-1]
				continue
			}
			k := ks[f.i]
			f.i++
			switch color[k] {
			case grey:
				if k == f.id {
					return limitf("page tree node %d lists itself as its own kid", k)
				}
				return limitf("page tree loops: node %d lists its ancestor %d as a kid", f.id, k)
			case white:
				color[k] = grey
				nodes = append(nodes, k)
				stack = append(stack, frame{id: k})
			}
		}
	}
	// Every node's /Parent chain must end.
	done := map[uint32]bool{}
	on := map[uint32]bool{}
	for _, n := range nodes {
		var path []uint32
		for x := n; x != 0 && !done[x]; {
			if on[x] {
				if x == n && len(path) == 1 {
					return limitf("page tree node %d is its own /Parent", x)
				}
				return limitf("the /Parent chain of page tree node %d loops back to node %d", n, x)
			}
			on[x] = true
			path = append(path, x)
			o := s.objs[x]
			if o == nil || o.d == nil {
				break
			}
			x = o.d.parent
		}
		for _, x := range path {
			done[x], on[x] = true, false
		}
	}
	return nil
}

// streams lexes the decoded content streams, form XObjects and ToUnicode
// CMaps as the library's interpreter would read them, refusing huge
// tokens, arrays and operand runs before it builds them in memory.
func (s *prescan) streams() error {
	for id := range s.content {
		o := s.objs[id]
		if o == nil || !o.stream {
			continue
		}
		rd, ok := s.decode(o)
		if !ok {
			continue
		}
		lim := &limitReader{r: rd, left: maxStream, s: s, id: id}
		p := &parser{s: s, lx: lexer{r: lim, buf: make([]byte, 0, 32<<10)}, content: true}
		if err := p.contentStream(); err != nil {
			err = lim.wrap(err)
			var le *LimitError
			if errors.As(err, &le) && !strings.HasPrefix(le.What, "stream ") {
				err = limitf("stream %d: %s", id, le.What)
			}
			return err
		}
		if lim.err != nil {
			return lim.err
		}
	}
	return nil
}

// limitReader stops a decoded stream at maxStream bytes, and all of them
// at maxDecoded; a decoding error just ends the stream, as in the library.
type limitReader struct {
	r    io.Reader
	left int64
	s    *prescan
	id   uint32
	err  error
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.left <= 0 {
		l.err = limitf("stream %d decodes to more than %d MiB", l.id, maxStream>>20)
		return 0, l.err
	}
	if l.s.decoded >= maxDecoded {
		l.err = limitf("the streams decode to more than %d MiB in all", maxDecoded>>20)
		return 0, l.err
	}
	if int64(len(b)) > l.left {
		b = b[:l.left]
	}
	n, err := l.r.Read(b)
	l.left -= int64(n)
	l.s.decoded += int64(n)
	if err != nil && err != io.EOF {
		err = io.EOF
	}
	return n, err
}

// wrap prefers the limit error to the read error it caused.
func (l *limitReader) wrap(err error) error {
	if l.err != nil {
		return l.err
	}
	return err
}

// a85Clean drops the whitespace the ASCII85 decoder rejects.
type a85Clean struct{ r io.Reader }

func (a *a85Clean) Read(b []byte) (int, error) {
	for {
		n, err := a.r.Read(b)
		k := 0
		for _, c := range b[:n] {
			if !isSpace(c) {
				b[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// Tokens.
const (
	tEOF = iota
	tInt
	tReal
	tName
	tString
	tKeyword
	tArrOpen
	tArrClose
	tDictOpen
	tDictClose
)

// token is one lexed token; only the first bytes of its text are kept.
type token struct {
	kind int
	off  int64 // offset of its first byte in its source
	i    int64 // value of an integer
	n    int   // length of its text
	b    [24]byte
}

func (t *token) text() string { return string(t.b[:min(t.n, len(t.b))]) }

func (t *token) is(kw string) bool {
	return t.kind == tKeyword && t.n == len(kw) && t.text() == kw
}

// lexer reads tokens from buf, refilled from r when r is not nil, with
// the library's rules and without keeping any token's text past 24 bytes.
type lexer struct {
	r    io.Reader
	buf  []byte
	pos  int
	base int64 // source offset of buf[0]
	eof  bool
	// unlimited lifts maxToken, for bytes the library never lexes.
	unlimited bool
}

func (lx *lexer) fill() bool {
	if lx.r == nil || lx.eof {
		return false
	}
	lx.base += int64(len(lx.buf))
	n, err := io.ReadFull(lx.r, lx.buf[:cap(lx.buf)])
	lx.buf, lx.pos = lx.buf[:n], 0
	if err != nil {
		lx.eof = true
	}
	return n > 0
}

// byte returns the next byte, or false at the end.
func (lx *lexer) byte() (byte, bool) {
	if lx.pos >= len(lx.buf) && !lx.fill() {
		return 0, false
	}
	c := lx.buf[lx.pos]
	lx.pos++
	return c, true
}

func (lx *lexer) unbyte() {
	if lx.pos > 0 {
		lx.pos--
	}
}

func (lx *lexer) offset() int64 { return lx.base + int64(lx.pos) }

func isSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isDelim(c byte) bool {
	switch c {
	case '<', '>', '(', ')', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func unhex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// errTokenTooLong is returned for a token past maxToken.
var errTokenTooLong = limitf("a string, name or keyword is longer than %d MiB", maxToken>>20)

// token reads the next token.
func (lx *lexer) token() (token, error) {
	var t token
	c, ok := lx.byte()
	for ok {
		if isSpace(c) {
			c, ok = lx.byte()
		} else if c == '%' {
			for ok && c != '\r' && c != '\n' {
				c, ok = lx.byte()
			}
		} else {
			break
		}
	}
	t.off = lx.offset() - 1
	if !ok {
		t.kind = tEOF
		return t, nil
	}
	add := func(c byte) error {
		if t.n < len(t.b) {
			t.b[t.n] = c
		}
		t.n++
		if t.n > maxToken && !lx.unlimited {
			return errTokenTooLong
		}
		return nil
	}
	switch c {
	case '<':
		if c2, ok := lx.byte(); ok && c2 == '<' {
			t.kind = tDictOpen
			return t, nil
		}
		lx.unbyte()
		t.kind = tString
		for {
			c, ok := lx.byte()
			if !ok || c == '>' {
				return t, nil
			}
			if isSpace(c) {
				continue
			}
			if !unhex(c) {
				return t, nil
			}
			if err := add(c); err != nil {
				return t, err
			}
		}
	case '(':
		t.kind = tString
		depth := 1
		for {
			// Plain bytes are taken in place, as add would take them.
			for lx.pos < len(lx.buf) {
				c := lx.buf[lx.pos]
				if c == '(' || c == ')' || c == '\\' {
					break
				}
				lx.pos++
				if t.n < len(t.b) {
					t.b[t.n] = c
				}
				t.n++
				if t.n > maxToken && !lx.unlimited {
					return t, errTokenTooLong
				}
			}
			c, ok := lx.byte()
			if !ok {
				return t, nil
			}
			switch c {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					return t, nil
				}
			case '\\':
				if _, ok := lx.byte(); !ok {
					return t, nil
				}
			}
			if err := add(c); err != nil {
				return t, err
			}
		}
	case '[':
		t.kind = tArrOpen
		return t, nil
	case ']':
		t.kind = tArrClose
		return t, nil
	case '>':
		if c2, ok := lx.byte(); ok && c2 == '>' {
			t.kind = tDictClose
			return t, nil
		}
		lx.unbyte()
		t.kind = tKeyword
		return t, add('>')
	case '{', '}', ')':
		t.kind = tKeyword
		return t, add(c)
	case '/':
		t.kind = tName
		for {
			c, ok := lx.byte()
			if !ok {
				return t, nil
			}
			if isSpace(c) || isDelim(c) {
				lx.unbyte()
				return t, nil
			}
			if err := add(c); err != nil {
				return t, err
			}
		}
	}
	t.kind = tKeyword
	lx.unbyte()
	digits, sign, dots := 0, 0, 0
	for {
		// The bytes in the buffer are scanned in place (the same steps
		// as byte, unbyte and add, without a call per byte).
		for lx.pos < len(lx.buf) {
			c := lx.buf[lx.pos]
			if byteClass[c] != cRegular { // isSpace(c) || isDelim(c)
				return lx.number(t, digits, sign, dots), nil
			}
			lx.pos++
			switch {
			case c >= '0' && c <= '9':
				digits++
			case (c == '-' || c == '+') && t.n == 0:
				sign++
			case c == '.':
				dots++
			default:
				dots += 2 // not a number
			}
			if t.n < len(t.b) {
				t.b[t.n] = c
			}
			t.n++
			if t.n > maxToken && !lx.unlimited {
				return t, errTokenTooLong
			}
		}
		if !lx.fill() {
			break
		}
	}
	return lx.number(t, digits, sign, dots), nil
}

// number makes a keyword token of digits, signs and dots an integer or a
// real.
func (lx *lexer) number(t token, digits, sign, dots int) token {
	if digits > 0 && digits+sign+dots == t.n {
		switch {
		case dots == 0 && t.n <= len(t.b):
			if x, err := strconv.ParseInt(t.text(), 10, 64); err == nil {
				t.kind, t.i = tInt, x
			}
		case dots == 1:
			t.kind = tReal
		}
	}
	return t
}

// parser reads values from a lexer with a few tokens of lookahead.
type parser struct {
	s       *prescan
	lx      lexer
	back    []token
	top     bool // reading the file itself, where "R" references objects
	content bool // reading a content stream
}

func (p *parser) next() (token, error) {
	if n := len(p.back); n > 0 {
		t := p.back[n-1]
		p.back = p.back[:n-1]
		return t, nil
	}
	return p.lx.token()
}

func (p *parser) unread(t token) { p.back = append(p.back, t) }

// value is what the parser returns of one value.
type value struct {
	kind  int // tInt, tName, tArrOpen, tDictOpen, tKeyword for a reference ("R"), ...
	i     int64
	name  string
	d     *dictInfo
	refs  []uint32 // an array's references
	ints  []int64  // the integers of an /Index or /W array
	names []string // the names of a /Filter array
}

const tRef = -1

// value reads one value; key is the dictionary key it belongs to.
func (p *parser) value(depth int, key string) (value, error) {
	if depth > maxNesting {
		return value{}, limitf("arrays or dictionaries nested more than %d deep", maxNesting)
	}
	t, err := p.next()
	if err != nil {
		return value{}, err
	}
	switch t.kind {
	case tDictOpen:
		d := &dictInfo{}
		return value{kind: tDictOpen, d: d}, p.dict(depth+1, d)
	case tArrOpen:
		return p.array(depth+1, key)
	case tName:
		if key == "Type" || key == "Subtype" || key == "Filter" {
			return value{kind: tName, name: t.text()}, nil
		}
		return value{kind: tName}, nil
	case tInt:
		if p.content {
			return value{kind: tInt, i: t.i}, nil // no references in content
		}
		// "N G R" is a reference.
		t2, err := p.next()
		if err != nil {
			return value{}, err
		}
		if t2.kind == tInt {
			t3, err := p.next()
			if err != nil {
				return value{}, err
			}
			if t3.is("R") && t.i >= 0 && t.i <= int64(^uint32(0)) {
				return value{kind: tRef, i: t.i}, nil
			}
			p.unread(t3)
		}
		p.unread(t2)
		return value{kind: tInt, i: t.i}, nil
	}
	return value{kind: t.kind}, nil
}

// array reads an array's elements after "[", keeping the references, the
// integers of /Index and /W and the names of /Filter.
func (p *parser) array(depth int, key string) (value, error) {
	v := value{kind: tArrOpen}
	n := 0
	for {
		t, err := p.next()
		if err != nil {
			return v, err
		}
		if t.kind == tEOF || t.kind == tArrClose {
			return v, nil
		}
		var e value
		switch {
		case t.kind == tArrOpen || t.kind == tDictOpen || t.kind == tInt && !p.content:
			p.unread(t)
			if e, err = p.value(depth, ""); err != nil {
				return v, err
			}
		case t.kind == tName && key == "Filter":
			e = value{kind: tName, name: t.text()}
		default:
			e = value{kind: t.kind, i: t.i}
		}
		n++
		if key == "Contents" && n > maxContents {
			return v, limitf("a /Contents array has more than %d streams", maxContents)
		}
		if n > maxArray {
			return v, limitf("an array has more than %d elements", maxArray)
		}
		switch {
		case e.kind == tRef:
			v.refs = append(v.refs, uint32(e.i))
		case e.kind == tInt && (key == "Index" || key == "W"):
			v.ints = append(v.ints, e.i)
		case e.kind == tName && key == "Filter":
			v.names = append(v.names, e.name)
		}
	}
}

// dict reads a dictionary's entries after "<<" into d.
func (p *parser) dict(depth int, d *dictInfo) error {
	for {
		t, err := p.next()
		if err != nil {
			return err
		}
		if t.kind == tEOF || t.kind == tDictClose {
			return nil
		}
		if t.kind != tName {
			continue // the library gives up on this dictionary; so may we
		}
		key := knownKey(&t)
		v, err := p.value(depth, key)
		if err != nil {
			return err
		}
		if err := p.entry(d, key, v); err != nil {
			return err
		}
	}
}

// knownKey returns the name of t if entry needs it, else "", without
// allocating.
func knownKey(t *token) string {
	if t.n > len(t.b) {
		return ""
	}
	switch k := string(t.b[:t.n]); k {
	case "Contents", "ToUnicode", "Columns", "Type", "Subtype", "Filter", "Kids", "Parent",
		"Root", "Pages", "Length", "N", "First", "Size", "Index", "W":
		return k
	}
	return ""
}

// entry records one dictionary entry the checks need.
func (p *parser) entry(d *dictInfo, key string, v value) error {
	switch key {
	case "Contents", "ToUnicode":
		if v.kind == tRef {
			p.s.content[uint32(v.i)] = true
		}
		for _, r := range v.refs {
			p.s.content[r] = true
		}
	case "Columns":
		if v.kind == tInt && (v.i < 0 || v.i > maxColumns) {
			return limitf("a predictor has /Columns %d (at most %d)", v.i, maxColumns)
		}
	case "Type":
		d.typ = v.name
	case "Subtype":
		d.subtype = v.name
	case "Filter":
		switch v.kind {
		case tName:
			d.filters = []string{v.name}
		case tArrOpen:
			d.filters = v.names
		}
	case "Kids":
		d.hasKids = true
		if v.kind == tRef {
			d.kidsRef = uint32(v.i)
		}
		d.kids = v.refs
	case "Parent":
		if v.kind == tRef {
			d.parent = uint32(v.i)
		}
	case "Root":
		if v.kind == tRef {
			d.root = uint32(v.i)
		}
	case "Pages":
		if v.kind == tRef {
			d.pages = uint32(v.i)
		}
	case "Length":
		if v.kind == tInt {
			d.length, d.hasLength = v.i, true
		}
	case "N":
		if v.kind == tInt {
			d.n = v.i
		}
	case "First":
		if v.kind == tInt {
			d.first = v.i
		}
	case "Size":
		if v.kind == tInt {
			d.size, d.hasSize = v.i, true
		}
	case "Index":
		d.index = v.ints
	case "W":
		d.w = v.ints
	}
	return nil
}

// contentStream lexes a content stream as the library's interpreter
// does: operands pile up until an operator takes them.
func (p *parser) contentStream() error {
	operands := 0
	for {
		t, err := p.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tEOF:
			return nil
		case tKeyword:
			operands = 0
			continue
		case tArrOpen, tDictOpen:
			p.unread(t)
			if _, err := p.value(0, ""); err != nil {
				return err
			}
		}
		if operands++; operands > maxOperands {
			return limitf("more than %d operands pile up without an operator", maxOperands)
		}
	}
}
