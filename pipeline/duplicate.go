package pipeline

import (
	"context"
	"errors"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/store"
)

// Stored is what the store holds of some content.
type Stored struct {
	// SHA256 is the content's hash.
	SHA256 string
	// DocumentID is the stored document of that content, 0 when none is.
	DocumentID int64
	// Extracted is set when that document has a successful extraction:
	// Process (without Force) skips the content as a duplicate.
	Extracted bool
	// LastError is the document's latest extraction error otherwise.
	LastError string
}

// Lookup returns what the store holds of content of SHA-256 sha: the
// duplicate check Process makes before decoding a source.
func (p *Pipeline) Lookup(ctx context.Context, sha string) (Stored, error) {
	st := Stored{SHA256: sha}
	id, err := p.Store.DocumentBySHA(ctx, sha)
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.DocumentID = id
	st.Extracted, st.LastError, err = p.Store.ExtractionState(ctx, id)
	return st, err
}

// Check reads an item's content as Process does, without decoding it,
// and returns what the store holds of it (Lookup).
func (p *Pipeline) Check(ctx context.Context, it Item) (Stored, error) {
	raw, err := extract.Read(ctx, it.Source, p.Load)
	if err != nil {
		return Stored{}, err
	}
	return p.Lookup(ctx, raw.SHA256)
}
