// Package extract turns documents into structured extractions: loaders read
// files and URLs into clean text (schema.Document), and an Extractor draws
// the investment theses out of that text (schema.Extraction).
//
// Format-specific work lives in sub-packages (htmldoc, pdfdoc) that know
// nothing of thesisdb's types; extractors live in rules (offline) and llm
// (any OpenAI-compatible server).
package extract

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/thesisdb/thesisdb/schema"
)

// Extractor draws the investment theses out of one document's text.
// Implementations must be safe for concurrent use.
type Extractor interface {
	// Info describes the extractor for the run it takes part in.
	Info() Info
	// Extract returns a validated extraction of doc.
	Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error)
}

// SelfValidating is implemented by an extractor whose Extract returns only
// extractions that passed schema.Validate exactly as returned, so a caller
// need not validate them again.
type SelfValidating interface {
	ValidatesExtractions() bool
}

// Info identifies what produced an extraction, so runs can be compared and
// cached extractions recognised.
type Info struct {
	Extractor     string // "rules" or "llm"
	Model         string // "" for rules
	PromptVersion string // prompt template version, or the rules version
	// PromptHash is a hash of the rendered system prompt plus schema, or
	// of the rules' configuration.
	PromptHash string
}

// PanicError is a panic recovered at a document boundary.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error (recovered panic): %v", e.Value)
}

// Safely runs fn and turns a panic inside it into a *PanicError, so that one
// hostile document cannot bring down a batch.
func Safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// Sentinel errors loaders wrap, for callers that must branch on the cause.
var (
	// ErrUnsupported means no loader handles the file's type.
	ErrUnsupported = errors.New("unsupported document type")
	// ErrEmpty means the input has no content (0 bytes, or no text).
	ErrEmpty = errors.New("empty document")
	// ErrBinary means the input is binary data, not a document.
	ErrBinary = errors.New("binary content, not a document")
	// ErrTooLarge means the input exceeds the configured size limit.
	ErrTooLarge = errors.New("document too large")
	// ErrAbortRun marks an extractor error that every later document would
	// meet too (no quota left, credentials refused): the run stops and the
	// document is left unstored, to be processed again once it is fixed.
	ErrAbortRun = errors.New("run aborted")
)
