// Package pdfdoc extracts the text layer of PDF files, page by page, with
// github.com/ledongthuc/pdf: it rebuilds words and lines from glyph
// positions, keeps the reading order of multi-column pages, joins
// hyphenated line breaks, drops repeated headers, footers and page numbers,
// and reads the Info dictionary.
//
// The library panics on malformed input and can loop on some of it, so
// every call into it runs in a goroutine under recover and a time limit.
// When the time runs out the goroutine is abandoned; it stops at its next
// check of the deadline, or, if it is stuck inside the library's lexer,
// never. At most MaxAbandoned such goroutines may be alive at once; past
// that Extract refuses work with ErrBusy rather than leak without bound.
//
// pdfdoc knows nothing of the rest of thesisdb.
package pdfdoc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/ledongthuc/pdf"
)

// Errors callers can branch on with errors.Is. The typed errors below
// match them too.
var (
	// ErrNotPDF means the bytes are not a PDF at all.
	ErrNotPDF = errors.New("not a PDF file")
	// ErrCorrupt means a truncated or damaged PDF.
	ErrCorrupt = errors.New("corrupt or truncated PDF")
	// ErrEncrypted means the PDF is encrypted and cannot be read.
	ErrEncrypted = errors.New("encrypted PDF")
	// ErrNoText means the PDF has pages but no text layer (see OCR).
	ErrNoText = errors.New("scanned/image-only PDF: no text layer to extract")
	// ErrUnsupported means the PDF uses a filter, font encoding or
	// encryption the reader does not handle.
	ErrUnsupported = errors.New("unsupported PDF feature")
	// ErrTimeout means the time limit or the context ended extraction.
	ErrTimeout = errors.New("PDF extraction timed out")
	// ErrBusy means too many abandoned extractions are still running.
	ErrBusy = errors.New("too many PDF extractions stuck after timing out")
)

// EncryptedError describes a PDF that is encrypted and could not be opened.
type EncryptedError struct {
	// Method is the cipher, e.g. "RC4 40-bit" or "AES-128" ("" if unknown).
	Method string
	// NeedsUserPassword is true when a password is needed to open the
	// file; false when only the owner's permissions restrict it.
	NeedsUserPassword bool
	// Reason is the reader's own message.
	Reason string
}

func (e *EncryptedError) Error() string {
	m := e.Method
	if m == "" {
		m = "unknown cipher"
	}
	if e.NeedsUserPassword {
		return fmt.Sprintf("encrypted PDF (%s): a user password is required to open it", m)
	}
	return fmt.Sprintf("encrypted PDF (%s) with owner restrictions only, but it could not be decrypted: %s", m, e.Reason)
}

// Is makes errors.Is(err, ErrEncrypted) true.
func (e *EncryptedError) Is(target error) bool { return target == ErrEncrypted }

// CorruptError is a damaged PDF, with the reader's reason.
type CorruptError struct{ Reason string }

func (e *CorruptError) Error() string { return "corrupt or truncated PDF: " + e.Reason }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// UnsupportedError names a PDF feature the reader does not handle.
type UnsupportedError struct{ Feature string }

func (e *UnsupportedError) Error() string { return "unsupported PDF feature: " + e.Feature }

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Document is the text and metadata of a PDF.
type Document struct {
	// Pages holds each page's text, lines separated by "\n".
	Pages []string
	// Title, Author and Subject come from the Info dictionary.
	Title, Author, Subject string
	// Created is the CreationDate as YYYY-MM-DD, or "".
	Created string
	// Producer is the Info dictionary's Producer.
	Producer string
	// Warnings are notes on what was read despite trouble.
	Warnings []string
}

// Text returns the pages' text, pages separated by a blank line.
func (d *Document) Text() string {
	var parts []string
	for _, p := range d.Pages {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "\n\n")
}

// Options tune Extract. The zero value is usable.
type Options struct {
	// Timeout bounds one document (default 30s); ctx may end it sooner.
	Timeout time.Duration
	// Password opens an encrypted PDF; the empty password is always tried.
	Password string
	// MaxPages stops after this many pages (default 2000).
	MaxPages int
	// MaxGlyphs bounds the glyphs kept per page (default 500000).
	MaxGlyphs int
}

// MaxAbandoned bounds the goroutines left running after timeouts.
const MaxAbandoned = 8

var abandoned atomic.Int32

// Abandoned returns how many extractions are still running after timing
// out. A process that has any should be replaced: they may never stop.
func Abandoned() int { return int(abandoned.Load()) }

// Extract reads the text and metadata of the PDF in data.
func Extract(ctx context.Context, data []byte, o *Options) (*Document, error) {
	if o == nil {
		o = &Options{}
	}
	if err := sniff(data); err != nil {
		return nil, err
	}
	if err := precheck(data); err != nil {
		return nil, err
	}
	if abandoned.Load() >= MaxAbandoned {
		return nil, ErrBusy
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	type result struct {
		doc *Document
		err error
	}
	done := make(chan result, 1)
	var state atomic.Int32 // 0 running, 1 finished, 2 abandoned
	go func() {
		var res result
		defer func() {
			if r := recover(); r != nil {
				res = result{err: panicError(r)}
			}
			done <- res
			if !state.CompareAndSwap(0, 1) {
				abandoned.Add(-1)
			}
		}()
		stop := func() bool { return ctx.Err() != nil }
		res.doc, res.err = extract(data, o, stop)
	}()
	select {
	case res := <-done:
		return res.doc, res.err
	case <-ctx.Done():
		if !state.CompareAndSwap(0, 2) {
			res := <-done // it finished just now
			return res.doc, res.err
		}
		abandoned.Add(1)
		return nil, fmt.Errorf("%w after %v: %w", ErrTimeout, timeout, context.Cause(ctx))
	}
}

// panicError turns a panic inside the library into a CorruptError.
func panicError(r any) error {
	if r == errAbort {
		return ErrTimeout
	}
	if r == errTooManyGlyphs {
		return &CorruptError{Reason: "more glyphs on a page than the limit allows"}
	}
	msg := fmt.Sprint(r)
	if strings.Contains(msg, "unknown filter") || strings.Contains(msg, "unsupported filter") {
		return &UnsupportedError{Feature: msg}
	}
	return &CorruptError{Reason: msg}
}

// sniff recognises what the bytes are when they are not a PDF.
func sniff(data []byte) error {
	head := data
	if len(head) > 1024 {
		head = head[:1024]
	}
	if i := bytes.Index(head, []byte("%PDF-")); i >= 0 {
		return nil
	}
	what := "no %PDF- header"
	switch {
	case len(data) == 0:
		what = "0 bytes"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		what = "it is a ZIP archive (an Office document?)"
	case bytes.HasPrefix(data, []byte("\x89PNG")), bytes.HasPrefix(data, []byte("\xFF\xD8\xFF")),
		bytes.HasPrefix(data, []byte("GIF8")), bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		what = "it is an image"
	case bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0")):
		what = "it is an OLE file (a legacy Office document?)"
	case bytes.HasPrefix(bytes.TrimSpace(bytes.ToLower(head)), []byte("<!doctype html")), bytes.HasPrefix(bytes.TrimSpace(bytes.ToLower(head)), []byte("<html")):
		what = "it is an HTML page"
	}
	return fmt.Errorf("%w: %s", ErrNotPDF, what)
}

// open parses the file structure and unlocks an encrypted file.
func open(data []byte, o *Options) (r *pdf.Reader, withPassword bool, err error) {
	// The reader expects the header at offset 0; skip leading junk.
	if i := bytes.Index(data, []byte("%PDF-")); i > 0 {
		data = data[i:]
	}
	// The reader tries the empty password first, then asks.
	tried := false
	r, err = pdf.NewReaderEncrypted(bytes.NewReader(data), int64(len(data)), func() string {
		if tried {
			return ""
		}
		tried = true
		return o.Password
	})
	if err == nil {
		return r, tried && o.Password != "", nil
	}
	msg := err.Error()
	enc := encryptInfo(data)
	switch {
	case errors.Is(err, pdf.ErrInvalidPassword):
		return nil, false, &EncryptedError{Method: enc.method, NeedsUserPassword: true, Reason: msg}
	case enc.present && (strings.Contains(msg, "encrypt") || strings.Contains(msg, "unsupported PDF")):
		return nil, false, &EncryptedError{Method: enc.method, Reason: msg}
	case strings.Contains(msg, "not a PDF file: invalid header"):
		// Versions past 1.7 (PDF 2.0) fail the library's header check.
		if bytes.HasPrefix(data, []byte("%PDF-2.")) {
			return nil, false, &UnsupportedError{Feature: "PDF 2.0 header"}
		}
		return nil, false, &CorruptError{Reason: msg}
	}
	if strings.Contains(msg, "missing %%EOF") || strings.Contains(msg, "startxref") {
		msg = fmt.Sprintf("the file is truncated or damaged: %s (%d bytes)", strings.TrimPrefix(msg, "not a PDF file: "), len(data))
	}
	return nil, false, &CorruptError{Reason: msg}
}

// extract is Extract's body; it runs on its own goroutine.
func extract(data []byte, o *Options, stop func() bool) (*Document, error) {
	r, withPassword, err := open(data, o)
	if err != nil {
		return nil, err
	}
	doc := &Document{}
	readInfo(r, doc)
	if enc := encryptInfo(data); enc.present && !withPassword {
		doc.Warnings = append(doc.Warnings, fmt.Sprintf("encrypted (%s) with an empty user password: text extracted despite the owner's restrictions", enc.methodOr()))
	}
	n := r.NumPage()
	if n <= 0 {
		return nil, &CorruptError{Reason: "no pages in the page tree"}
	}
	maxPages := o.MaxPages
	if maxPages <= 0 {
		maxPages = 2000
	}
	if n > maxPages {
		doc.Warnings = append(doc.Warnings, fmt.Sprintf("only the first %d of %d pages were read", maxPages, n))
		n = maxPages
	}
	maxGlyphs := o.MaxGlyphs
	if maxGlyphs <= 0 {
		maxGlyphs = 500000
	}
	cache := newDocCache()
	lastGlyphs := 0
	pool := newLayoutPool(n)
	defer pool.close()
	glyphs, undecoded, failed := 0, 0, 0
	var firstErr error
	for i := 1; i <= n; i++ {
		if stop() {
			return nil, ErrTimeout
		}
		pr := &pageReader{maxGlyphs: maxGlyphs, stop: stop, doc: cache, glyphs: pool.buffer(lastGlyphs)}
		err := pageGlyphs(r, i, pr)
		if err != nil {
			if err == ErrTimeout {
				return nil, err
			}
			failed++
			if firstErr == nil {
				firstErr = err
			}
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("page %d: %v", i, err))
		}
		glyphs += len(pr.glyphs)
		lastGlyphs = min(len(pr.glyphs), 1<<16) // pages of a document are alike
		undecoded += pr.undecoded
		pool.add(i-1, pr.glyphs)
	}
	pages := pool.wait()
	if failed == n && firstErr != nil {
		return nil, firstErr
	}
	removeFurniture(pages)
	for _, p := range pages {
		dehyphenate(p)
		var b strings.Builder
		for _, l := range p {
			if t := strings.TrimSpace(l.text); t != "" {
				b.WriteString(t)
				b.WriteByte('\n')
			}
		}
		doc.Pages = append(doc.Pages, strings.TrimRight(b.String(), "\n"))
	}
	if strings.TrimSpace(doc.Text()) == "" {
		if undecoded > 0 {
			return nil, &UnsupportedError{Feature: fmt.Sprintf("font encoding: none of the %d glyphs map to Unicode", undecoded)}
		}
		return nil, ErrNoText
	}
	if undecoded > glyphs {
		doc.Warnings = append(doc.Warnings, fmt.Sprintf("%d glyphs had no Unicode mapping and were dropped", undecoded))
	}
	return doc, nil
}

// layoutPool lays pages out on other goroutines while the next pages are
// interpreted: layoutPage is a function of one page's glyphs only, so
// pages can be laid out side by side, and the result does not depend on
// the order they finish in.
type layoutPool struct {
	jobs     chan layoutJob
	free     chan []glyph // glyph buffers of pages laid out, for the next pages
	wg       sync.WaitGroup
	once     sync.Once
	mu       sync.Mutex
	panicked any
	pages    [][]line
}

type layoutJob struct {
	i      int
	glyphs []glyph
}

// maxLayoutWorkers bounds the goroutines laying pages out for one document.
const maxLayoutWorkers = 4

func newLayoutPool(n int) *layoutPool {
	workers := max(1, min(runtime.GOMAXPROCS(0), maxLayoutWorkers))
	p := &layoutPool{jobs: make(chan layoutJob, workers), free: make(chan []glyph, 2*workers+1), pages: make([][]line, n)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			sc := new(layoutScratch)
			for j := range p.jobs {
				p.layout(j, sc)
			}
		}()
	}
	return p
}

// add queues page i (0-based), waiting while the workers are all busy.
func (p *layoutPool) add(i int, glyphs []glyph) { p.jobs <- layoutJob{i, glyphs} }

func (p *layoutPool) layout(j layoutJob, sc *layoutScratch) {
	defer func() {
		if r := recover(); r != nil {
			p.mu.Lock()
			if p.panicked == nil {
				p.panicked = r
			}
			p.mu.Unlock()
		}
	}()
	p.pages[j.i] = sc.layoutPage(j.glyphs)
	// The lines hold nothing of the glyphs: their memory can take the
	// glyphs of a page still to be read.
	select {
	case p.free <- j.glyphs[:0]:
	default:
	}
}

// buffer returns an empty glyph buffer for the next page, one a laid out
// page left when there is one, else a new one of capacity n.
func (p *layoutPool) buffer(n int) []glyph {
	select {
	case b := <-p.free:
		return b
	default:
		return make([]glyph, 0, n)
	}
}

// close waits for the queued pages; Extract's goroutine stays alive, and
// counted if abandoned, until no worker runs.
func (p *layoutPool) close() {
	p.once.Do(func() {
		close(p.jobs)
		p.wg.Wait()
	})
}

// wait returns every page's lines, re-raising a layout panic on the
// caller's goroutine, where Extract turns it into an error.
func (p *layoutPool) wait() [][]line {
	p.close()
	if p.panicked != nil {
		panic(p.panicked)
	}
	return p.pages
}

// pageGlyphs interprets page i, turning a panic into an error.
func pageGlyphs(r *pdf.Reader, i int, pr *pageReader) (err error) {
	defer func() {
		if x := recover(); x != nil {
			err = panicError(x)
		}
	}()
	if pr.doc == nil {
		pr.doc = newDocCache()
	}
	p := pr.doc.page(r, i)
	if p.V.IsNull() {
		return &CorruptError{Reason: fmt.Sprintf("page %d missing from the page tree", i)}
	}
	rot := 0
	for v, d := p.V, 0; !v.IsNull() && d < 32; v, d = v.Key("Parent"), d+1 {
		if x := v.Key("Rotate"); !x.IsNull() {
			rot = int(x.Int64())
			break
		}
	}
	pr.rotate = ((rot % 360) + 360) % 360
	c := p.V.Key("Contents")
	if c.IsNull() {
		return nil
	}
	pr.run(c, p.Resources(), identity, 0)
	return nil
}

// readInfo copies the Info dictionary into doc.
func readInfo(r *pdf.Reader, doc *Document) {
	defer func() { _ = recover() }() // metadata is best effort
	info := r.Trailer().Key("Info")
	get := func(k string) string { return cleanInfo(info.Key(k).Text()) }
	doc.Title = get("Title")
	doc.Author = get("Author")
	doc.Subject = get("Subject")
	doc.Producer = get("Producer")
	doc.Created = ParseDate(info.Key("CreationDate").Text())
}

func cleanInfo(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\uFFFD' || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "untitled") {
		return ""
	}
	return s
}

var dateRe = regexp.MustCompile(`^(?:D:)?(\d{4})(\d{2})?(\d{2})?`)

// ParseDate turns a PDF date ("D:20230505120000+02'00'") into YYYY-MM-DD,
// or "" when it is not one.
func ParseDate(s string) string {
	m := dateRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return ""
	}
	y, _ := strconv.Atoi(m[1])
	mo, d := 1, 1
	if m[2] != "" {
		mo, _ = strconv.Atoi(m[2])
	}
	if m[3] != "" {
		d, _ = strconv.Atoi(m[3])
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if y < 1900 || t.Month() != time.Month(mo) || t.Day() != d {
		return ""
	}
	return t.Format("2006-01-02")
}

// findObj returns the offset just after the first "id gen obj" in data
// (white space between, no digit before id), or -1: what the regular
// expression `(?:^|[^0-9])id\s+gen\s+obj` finds, without its slow scan of
// the whole file.
func findObj(data, id, gen []byte) int {
	space := func(j int) int {
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\f' || data[j] == '\r') {
			j++
		}
		return j
	}
	for pos := 0; ; {
		k := bytes.Index(data[pos:], id)
		if k < 0 {
			return -1
		}
		k += pos
		pos = k + 1
		if k > 0 && data[k-1] >= '0' && data[k-1] <= '9' {
			continue
		}
		j := k + len(id)
		if s := space(j); s > j && bytes.HasPrefix(data[s:], gen) {
			j = s + len(gen)
			if s := space(j); s > j && bytes.HasPrefix(data[s:], []byte("obj")) {
				return s + 3
			}
		}
	}
}

type encInfo struct {
	present bool
	method  string
}

func (e encInfo) methodOr() string {
	if e.method == "" {
		return "unknown cipher"
	}
	return e.method
}

var (
	encRefRe = regexp.MustCompile(`/Encrypt\s*(\d+)\s+(\d+)\s+R`)
	encNumRe = regexp.MustCompile(`/(V|R|Length)\s+(\d+)`)
)

// encryptInfo reads the /Encrypt dictionary straight from the bytes, to
// say which cipher a file uses even when the library cannot open it.
func encryptInfo(data []byte) encInfo {
	// Most files have no /Encrypt: a byte search says so far faster than
	// the regular expression can scan the whole file.
	at := bytes.Index(data, []byte("/Encrypt"))
	if at < 0 {
		return encInfo{}
	}
	m := encRefRe.FindSubmatch(data[at:])
	if m == nil {
		return encInfo{present: true}
	}
	var dict []byte
	if end := findObj(data, m[1], m[2]); end >= 0 {
		dict = data[end:]
		if end := bytes.Index(dict, []byte("endobj")); end >= 0 {
			dict = dict[:end]
		}
	}
	e := encInfo{present: true}
	vals := map[string]int{}
	for _, n := range encNumRe.FindAllSubmatch(dict, -1) {
		if _, ok := vals[string(n[1])]; !ok {
			vals[string(n[1])], _ = strconv.Atoi(string(n[2]))
		}
	}
	switch {
	case bytes.Contains(dict, []byte("/AESV3")):
		e.method = "AES-256"
	case bytes.Contains(dict, []byte("/AESV2")):
		e.method = "AES-128"
	case vals["V"] == 1 || (vals["V"] == 0 && vals["R"] == 2):
		e.method = "RC4 40-bit"
	case vals["V"] == 2 || vals["V"] == 4:
		bits := vals["Length"]
		if bits == 0 {
			bits = 40
		}
		if bits < 40 { // some writers give bytes
			bits *= 8
		}
		e.method = fmt.Sprintf("RC4 %d-bit", bits)
	case vals["V"] == 5:
		e.method = "AES-256"
	}
	return e
}
