package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// Gold is one gold extraction and how to find its document.
type Gold struct {
	// Name identifies the gold in reports: file, and line for JSON Lines.
	Name string
	// SHA256 is the document's hash when the gold says it (export format).
	SHA256 string
	// Base is the base name of the document's source.
	Base       string
	Extraction *schema.Extraction
	// Match is how its data points are matched: Exact for the export
	// format, Loose for hand-written gold files.
	Match Match
}

// ReadGold reads every *.json and *.jsonl file in dir. A file holds one or
// more JSON values, each either an export record ({"document": {...},
// "extraction": {...}}) or a hand-written gold file ({"document": "<file
// name>", "theses": [...]}).
func ReadGold(dir string) ([]Gold, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--gold: %w", err)
	}
	var out []Gold
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".json" && ext != ".jsonl") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("gold: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		for n := 1; ; n++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("gold %s: record %d: %w", e.Name(), n, err)
			}
			name := e.Name()
			if n > 1 || ext == ".jsonl" {
				name = fmt.Sprintf("%s#%d", e.Name(), n)
			}
			g, err := ParseGold(raw)
			if err != nil {
				return nil, fmt.Errorf("gold %s: %w", name, err)
			}
			g.Name = name
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--gold %s: no .json or .jsonl gold files", dir)
	}
	return out, nil
}

// ParseGold reads one gold record: an export record or a hand-written
// gold file (see ReadGold); Name is left for the caller to set.
func ParseGold(raw []byte) (Gold, error) {
	var rec struct {
		Document   json.RawMessage `json:"document"`
		Extraction json.RawMessage `json:"extraction"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Gold{}, err
	}
	var g Gold
	var name string
	if err := json.Unmarshal(rec.Document, &name); err == nil {
		// A hand-written gold file: the extraction's fields at the top.
		g.Base, g.Match = path.Base(filepath.ToSlash(name)), Loose
		g.Extraction = new(schema.Extraction)
		if err := json.Unmarshal(raw, g.Extraction); err != nil {
			return g, err
		}
		return g, nil
	}
	var doc store.ExportDocument
	if err := json.Unmarshal(rec.Document, &doc); err != nil || (doc.SHA256 == "" && doc.Source == "") {
		return g, errors.New(`want an export record {"document": {"sha256", "source", ...}, "extraction": {...}} or {"document": "<file name>", "theses": [...]}`)
	}
	if len(rec.Extraction) == 0 {
		return g, errors.New("export record without an extraction")
	}
	g.SHA256, g.Base, g.Match = doc.SHA256, path.Base(filepath.ToSlash(doc.Source)), Exact
	g.Extraction = new(schema.Extraction)
	if err := json.Unmarshal(rec.Extraction, g.Extraction); err != nil {
		return g, err
	}
	return g, nil
}

// EvalStore is what Evaluate reads: the stored documents' keys and their
// successful extractions (satisfied by *store.DB).
type EvalStore interface {
	DocumentKeys(ctx context.Context) ([]store.DocumentKey, error)
	Extractions(ctx context.Context, runID int64, fn func(store.StoredExtraction) error) error
}

var _ EvalStore = (*store.DB)(nil)

// EvalOptions choose what Evaluate grades and how.
type EvalOptions struct {
	// Run grades that run's extractions; 0 the current ones.
	Run int64
	// Match, when not nil, matches every gold's data points this way
	// instead of the gold's own Match.
	Match *Match
	// Logger receives warnings (default slog.Default()).
	Logger *slog.Logger
}

// EvalDocument is one gold document's grades.
type EvalDocument struct {
	Gold       string `json:"gold"`
	DocumentID int64  `json:"document_id"`
	Source     string `json:"source"`
	Match      string `json:"match"`
	// Extracted is false when the document has no successful extraction
	// (in the run): everything in the gold counts as omitted.
	Extracted  bool               `json:"extracted"`
	Fields     map[string]Counts  `json:"fields"`
	Overall    Counts             `json:"overall"`
	Omissions  []schema.DataPoint `json:"omissions"`
	Unmatched  []schema.DataPoint `json:"unmatched"`
	Ungrounded []schema.DataPoint `json:"ungrounded"`
}

// EvalReport grades stored extractions against gold ones: per document,
// per field over all documents, and overall.
type EvalReport struct {
	Run       int64          `json:"run,omitempty"`
	Documents []EvalDocument `json:"documents"`
	// Missing names the golds whose document is not stored (not scored).
	Missing []string          `json:"missing"`
	Fields  map[string]Counts `json:"fields"`
	Overall Counts            `json:"overall"`
}

// FieldCounts maps each of Fields to its counts in s.
func FieldCounts(s *Scorecard) map[string]Counts {
	m := make(map[string]Counts, len(Fields))
	for _, f := range Fields {
		m[f] = *s.Field(f)
	}
	return m
}

// Evaluate finds each gold's stored document, by SHA-256 and then by the
// base name of its source, and scores that document's extraction against
// it. Golds with no stored document are listed in Missing; the report has
// no Documents when none is stored.
func Evaluate(ctx context.Context, s EvalStore, golds []Gold, opt EvalOptions) (*EvalReport, error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	keys, err := s.DocumentKeys(ctx)
	if err != nil {
		return nil, err
	}
	bySHA, byBase := map[string]int64{}, map[string][]int64{}
	sources := map[int64]string{}
	for _, k := range keys {
		bySHA[k.SHA256] = k.ID
		base := path.Base(filepath.ToSlash(k.Source))
		byBase[base] = append(byBase[base], k.ID)
		sources[k.ID] = k.Source
	}
	extracted := map[int64]*schema.Extraction{}
	if err := s.Extractions(ctx, opt.Run, func(x store.StoredExtraction) error {
		extracted[x.DocumentID] = x.Extraction
		return nil
	}); err != nil {
		return nil, err
	}

	rep := &EvalReport{Run: opt.Run, Documents: []EvalDocument{}, Missing: []string{}}
	var total Scorecard
	for _, g := range golds {
		id, ok := bySHA[g.SHA256]
		if !ok || g.SHA256 == "" {
			ids := byBase[g.Base]
			if len(ids) == 0 {
				rep.Missing = append(rep.Missing, g.Name)
				continue
			}
			if len(ids) > 1 {
				log.Warn("several stored documents have this file name; scoring the first", "gold", g.Name, "name", g.Base, "documents", ids)
			}
			id = ids[0]
		}
		m := g.Match
		if opt.Match != nil {
			m = *opt.Match
		}
		got := extracted[id]
		sc := Score(got, g.Extraction, m)
		total.Add(sc)
		rep.Documents = append(rep.Documents, EvalDocument{
			Gold: g.Name, DocumentID: id, Source: sources[id], Match: m.String(), Extracted: got != nil,
			Fields: FieldCounts(&sc), Overall: sc.Overall(),
			Omissions: nonNil(sc.Omissions), Unmatched: nonNil(sc.Unmatched), Ungrounded: nonNil(sc.Ungrounded),
		})
	}
	rep.Fields, rep.Overall = FieldCounts(&total), total.Overall()
	return rep, nil
}

func nonNil(dps []schema.DataPoint) []schema.DataPoint {
	if dps == nil {
		return []schema.DataPoint{}
	}
	return dps
}
