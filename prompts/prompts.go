// Package prompts holds the versioned prompt templates that the LLM
// extractor sends, embedded in the binary so that a run can record exactly
// which prompt produced an extraction.
//
// Each version lives in its own folder (v1/, ...) and is never edited once
// released: a change to the wording is a new version, so that cached
// extractions made with an older prompt can be told apart. The system
// prompt depends only on the version, the schema and whether the schema is
// included in it, never on the document, so providers can cache it across
// documents; the document always comes last, in the user message, between
// fence lines that the document itself cannot forge.
package prompts

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"
)

// Version is the prompt version the extractor uses.
const Version = "v1"

//go:embed v1/*.tmpl
var files embed.FS

var tmpl = template.Must(template.New(Version).ParseFS(files, Version+"/*.tmpl"))

// SystemOptions selects the variant of the system prompt.
type SystemOptions struct {
	// Schema is the extraction JSON Schema; it is written into the prompt
	// when IncludeSchema is set.
	Schema []byte
	// IncludeSchema writes the schema into the prompt, for output modes in
	// which the server does not show the schema to the model (json_object).
	IncludeSchema bool
	// Tool names the function the model must call with the extraction as
	// its arguments (tools mode); empty when the answer is a message.
	Tool string
}

// System renders the system prompt, identical for every document.
func System(o SystemOptions) (string, error) {
	return render("system.tmpl", struct {
		Schema        string
		IncludeSchema bool
		Tool          string
	}{strings.TrimSpace(string(o.Schema)), o.IncludeSchema, o.Tool})
}

// Doc is what a user message says about the document it carries. The
// metadata fields come from the document too (front matter, a PDF's info
// dictionary, a file name) and are as untrusted as its text: each is
// rendered as one line of at most a few hundred characters, without control
// or invisible formatting characters, and with "<<<" broken up, so that it
// can neither add a line of its own nor imitate a fence.
type Doc struct {
	Title, Author, Published, Kind, Source string
	// Text is the document's (or the part's) text, placed between fences.
	Text string
}

// Length caps of the metadata fields, in characters.
const (
	maxTitle     = 300
	maxAuthor    = 200
	maxPublished = 40
	maxKind      = 20
	maxSource    = 300
)

// neutral returns d with every metadata field made safe to write outside
// the fences; the text is untouched.
func (d Doc) neutral() Doc {
	d.Title = OneLine(d.Title, maxTitle)
	d.Author = OneLine(d.Author, maxAuthor)
	d.Published = OneLine(d.Published, maxPublished)
	d.Kind = OneLine(d.Kind, maxKind)
	d.Source = OneLine(d.Source, maxSource)
	return d
}

// OneLine neutralises an untrusted string for a prompt line: every run of
// white space, line or paragraph separators and control characters becomes
// one space; invisible formatting characters (bidirectional overrides,
// zero-width characters) and invalid UTF-8 are dropped; "<<<" loses its
// meaning as a fence opener ("<<<" becomes "< < <"); the result is trimmed
// and cut to limit characters, an ellipsis marking the cut.
func OneLine(s string, limit int) string {
	var b strings.Builder
	space := false
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				continue // an invalid byte
			}
		}
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			space = true
		case unicode.Is(unicode.Cf, r):
			// invisible formatting: dropped
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		}
	}
	out := b.String()
	for strings.Contains(out, "<<<") {
		out = strings.ReplaceAll(out, "<<<", "< < <")
	}
	if r := []rune(out); len(r) > limit {
		out = strings.TrimSpace(string(r[:max(limit-1, 0)])) + "…"
	}
	return out
}

// Document renders the user message that asks for a whole document's
// extraction.
func Document(d Doc) (string, error) {
	return render("document.tmpl", docData{Doc: d.neutral(), Fence: Fence(d.Text)})
}

// Chunk renders the user message for part (1-based) of parts of a long
// document, whose text is d.Text.
func Chunk(d Doc, part, parts int) (string, error) {
	return render("chunk.tmpl", docData{Doc: d.neutral(), Fence: Fence(d.Text), Part: part, Parts: parts})
}

// Synthesis renders the user message of a long document's thesis-level
// pass: d.Text is the document's beginning, headings its section headings
// and findings one summary line (or block) per part.
func Synthesis(d Doc, headings, findings []string) (string, error) {
	fence := Fence(d.Text + "\n" + strings.Join(headings, "\n") + "\n" + strings.Join(findings, "\n"))
	return render("synthesis.tmpl", docData{Doc: d.neutral(), Fence: fence, Headings: headings, Findings: findings})
}

// Reask renders the follow-up user message that quotes an answer's
// validation problems back to the model.
func Reask(problems []string) (string, error) {
	return render("reask.tmpl", struct{ Problems []string }{problems})
}

// Fence returns the line that opens and closes a document's text in a
// user message: "<<<DOCUMENT " followed by a digest of the text, which the
// text cannot contain (it would have to contain its own hash).
func Fence(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "<<<DOCUMENT " + hex.EncodeToString(sum[:6]) + ">>>"
}

type docData struct {
	Doc
	Fence       string
	Part, Parts int
	Headings    []string
	Findings    []string
}

func render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render prompt %s/%s: %w", Version, name, err)
	}
	return b.String(), nil
}
