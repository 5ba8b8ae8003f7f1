package extract

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/schema"
)

// Options configure loading. The zero value is usable: every field has a
// default.
type Options struct {
	// MaxBytes caps the size of a file or download (default 64 MiB for
	// files, 25 MB for URLs when MaxFetchBytes is 0).
	MaxBytes int64
	// MaxFetchBytes caps a URL's body (default 25 MB).
	MaxFetchBytes int64
	// PDFEngine selects the PDF text engine: "auto" (default), "builtin"
	// or "pdftotext".
	PDFEngine string
	// OCR says which PDF pages to read with OCR: "auto" (default: pages
	// with no text that draw images, when the engine is installed), "off"
	// or "force" (every page).
	OCR string
	// PDFPassword opens PDFs encrypted with a user password (the empty
	// password is always tried).
	PDFPassword string
	// Timeout bounds the loading of one document, fetch included
	// (default 60s).
	Timeout time.Duration
	// HTTPClient fetches URLs (default: a client with connect and total
	// timeouts and at most 5 redirects).
	HTTPClient *http.Client
	// UserAgent is sent with every fetch.
	UserAgent string
	// Sandbox, when set, decodes every document instead of this process
	// (see package extract/worker).
	Sandbox Sandbox
	// Site overrides main-content detection and metadata of HTML pages
	// for the site they come from (a scrape source's rules).
	Site SiteRules

	contentType string // Content-Type of a fetched body, for charset detection
}

// ContentType is the Content-Type header a fetched body came with, or "".
func (o *Options) ContentType() string {
	if o == nil {
		return ""
	}
	return o.contentType
}

func (o *Options) maxBytes() int64 {
	if o == nil || o.MaxBytes <= 0 {
		return 64 << 20
	}
	return o.MaxBytes
}

func (o *Options) timeout() time.Duration {
	if o == nil || o.Timeout <= 0 {
		return 60 * time.Second
	}
	return o.Timeout
}

// decoder turns a document's raw bytes into text and metadata, filling doc.
type decoder func(ctx context.Context, data []byte, doc *schema.Document, o *Options) error

var (
	decoders   = map[string]decoder{} // by kind
	extensions = map[string]string{}  // ".md" -> "markdown"
)

// register makes a decoder available for a kind and its file extensions.
// Format files call it from init.
func register(kind string, d decoder, exts ...string) {
	decoders[kind] = d
	for _, e := range exts {
		extensions[e] = kind
	}
}

// KindOf returns the document kind a file name's extension maps to, or ""
// when no loader handles it.
func KindOf(name string) string {
	return extensions[strings.ToLower(filepath.Ext(name))]
}

// Extensions lists the file extensions the loaders accept, sorted.
func Extensions() []string {
	var out []string
	for e := range extensions {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// IsURL reports whether src names an http or https URL rather than a file.
func IsURL(src string) bool {
	l := strings.ToLower(src)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// Load reads a file or URL into a Document: Read, then Decode. Panics
// inside format decoders are recovered and returned as *PanicError; a
// document never loads empty.
func Load(ctx context.Context, src string, o *Options) (*schema.Document, error) {
	raw, err := Read(ctx, src, o)
	if err != nil {
		return nil, err
	}
	return raw.Decode(ctx)
}

// Raw is a document as read, before decoding: enough to know its identity
// (the SHA-256 of its bytes) without the cost of parsing it.
type Raw struct {
	Kind   string
	Source string // the path, or the final URL after redirects
	Data   []byte
	SHA256 string
	opts   *Options // with the Content-Type of a fetched body
}

// Read reads a file or fetches a URL, without decoding it.
func Read(ctx context.Context, src string, o *Options) (*Raw, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	var raw *Raw
	err := Safely(func() error {
		var err error
		if IsURL(src) {
			raw, err = fetch(ctx, src, o)
		} else {
			raw, err = readFile(src, o)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", RedactURL(src), err)
	}
	sum := sha256.Sum256(raw.Data)
	raw.SHA256 = hex.EncodeToString(sum[:])
	return raw, nil
}

// Decode turns the bytes into a Document.
func (r *Raw) Decode(ctx context.Context) (*schema.Document, error) {
	var (
		doc *schema.Document
		err error
	)
	if r.opts != nil && r.opts.Sandbox != nil {
		doc, err = r.opts.Sandbox.Decode(ctx, r.Request())
	} else {
		doc, err = r.Request().Decode(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", r.Source, err)
	}
	return doc, nil
}

func readFile(path string, o *Options) (*Raw, error) {
	kind := KindOf(path)
	if kind == "" {
		return nil, fmt.Errorf("%w: %q (supported: %s)", ErrUnsupported, filepath.Ext(path), strings.Join(Extensions(), " "))
	}
	f, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > o.maxBytes() {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, st.Size(), o.maxBytes())
	}
	data, err := readLimited(f, o.maxBytes())
	if err != nil {
		return nil, err
	}
	return &Raw{Kind: kind, Source: path, Data: data, opts: o}, nil
}

// readLimited reads r to the end, failing with ErrTooLarge past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return data, nil
}

// Decode turns raw bytes of a known kind into a Document whose Source is
// source. It is what Load does after reading.
func Decode(ctx context.Context, kind, source string, data []byte, o *Options) (*schema.Document, error) {
	sum := sha256.Sum256(data)
	return decode(ctx, kind, source, data, hex.EncodeToString(sum[:]), o)
}

func decode(ctx context.Context, kind, source string, data []byte, sha string, o *Options) (*schema.Document, error) {
	d, ok := decoders[kind]
	if !ok {
		return nil, fmt.Errorf("%w: kind %q", ErrUnsupported, kind)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file has 0 bytes", ErrEmpty)
	}
	doc := &schema.Document{
		Kind:   kind,
		Source: source,
		SHA256: sha,
		Bytes:  int64(len(data)),
	}
	err := Safely(func() error { return d(ctx, data, doc, o) })
	if err != nil {
		return nil, err
	}
	doc.Text = strings.TrimSpace(doc.Text)
	if doc.Text == "" {
		return nil, fmt.Errorf("%w: no text after cleaning", ErrEmpty)
	}
	return doc, nil
}

// TitleLine guesses a document's title from its text, for documents whose
// format and extractor gave none: the first of the opening five non-empty
// lines that has two words or more and reads like a heading (at most 150
// characters), passing over one-word labels such as a research platform's
// stance and status badges ("Bearish", "sector", "active"); else FirstLine.
func TitleLine(text string) string {
	seen := 0
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if len(strings.Fields(l)) >= 2 && utf8.RuneCountInString(l) <= 150 {
			return l
		}
		if seen++; seen == 5 {
			break
		}
	}
	return FirstLine(text)
}

// FirstLine returns the first non-empty line of text, shortened to 200
// characters: the title of last resort.
func FirstLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if r := []rune(l); len(r) > 200 {
				l = string(r[:200]) + "…"
			}
			return l
		}
	}
	return ""
}
