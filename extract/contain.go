package extract

import (
	"context"
	"time"

	"github.com/thesisdb/thesisdb/schema"
)

// Sandbox decodes documents somewhere a hostile one cannot harm the
// calling process: package extract/worker runs the parsers in child
// processes with a deadline and a memory cap. Options.Sandbox selects one;
// Raw.Decode then hands every document to it.
type Sandbox interface {
	Decode(ctx context.Context, r *Request) (*schema.Document, error)
}

// Request is everything decoding a read document needs, in a form that
// can cross a process boundary: no functions, no open files.
type Request struct {
	Kind, Source, SHA256 string
	Data                 []byte
	// ContentType is the Content-Type header a fetched body came with.
	ContentType string
	PDFEngine   string
	// OCR is the loaders' Options.OCR.
	OCR string
	// PDFPassword travels with the request (over a pipe, never on a
	// command line or in the environment).
	PDFPassword string
	// Timeout bounds the decoding (the loaders' Options.Timeout).
	Timeout time.Duration
	// Site is the loaders' Options.Site: the HTML loader's site rules.
	Site SiteRules
}

// Request returns what decoding r needs.
func (r *Raw) Request() *Request {
	q := &Request{Kind: r.Kind, Source: r.Source, SHA256: r.SHA256, Data: r.Data, Timeout: r.opts.timeout()}
	if r.opts != nil {
		q.ContentType, q.PDFEngine, q.PDFPassword = r.opts.contentType, r.opts.PDFEngine, r.opts.PDFPassword
		q.OCR, q.Site = r.opts.OCR, r.opts.Site
	}
	return q
}

// Decode decodes the request in this process, as Raw.Decode does without a
// sandbox. It is what a sandbox's worker runs.
func (q *Request) Decode(ctx context.Context) (*schema.Document, error) {
	ctx, cancel := context.WithTimeout(ctx, q.Timeout)
	defer cancel()
	o := &Options{PDFEngine: q.PDFEngine, OCR: q.OCR, PDFPassword: q.PDFPassword, Timeout: q.Timeout, Site: q.Site, contentType: q.ContentType}
	return decode(ctx, q.Kind, q.Source, q.Data, q.SHA256, o)
}

// Parser names what reads a document kind, for messages such as "PDF
// parser did not finish in 1m0s".
func Parser(kind string) string {
	switch kind {
	case "pdf":
		return "PDF parser"
	case "html":
		return "HTML parser"
	case "markdown":
		return "Markdown reader"
	case "text":
		return "text reader"
	}
	return kind + " parser"
}
