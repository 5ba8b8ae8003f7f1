package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// goldRecord is one gold extraction and how to find its document.
type goldRecord struct {
	// Name identifies the gold in reports: file, and line for JSON Lines.
	Name string
	// SHA256 is the document's hash when the gold says it (export format).
	SHA256 string
	// Base is the base name of the document's source.
	Base       string
	Extraction *schema.Extraction
	// Match is how its data points are matched: exact for the export
	// format, loose for hand-written gold files.
	Match compare.Match
}

// readGold reads every *.json and *.jsonl file in dir. A file holds one or
// more JSON values, each either an export record ({"document": {...},
// "extraction": {...}}) or a hand-written gold file ({"document": "<file
// name>", "theses": [...]}).
func readGold(dir string) ([]goldRecord, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--gold: %w", err)
	}
	var out []goldRecord
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
			g, err := parseGold(raw)
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

func parseGold(raw json.RawMessage) (goldRecord, error) {
	var rec struct {
		Document   json.RawMessage `json:"document"`
		Extraction json.RawMessage `json:"extraction"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return goldRecord{}, err
	}
	var g goldRecord
	var name string
	if err := json.Unmarshal(rec.Document, &name); err == nil {
		// A hand-written gold file: the extraction's fields at the top.
		g.Base, g.Match = path.Base(filepath.ToSlash(name)), compare.Loose
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
	g.SHA256, g.Base, g.Match = doc.SHA256, path.Base(filepath.ToSlash(doc.Source)), compare.Exact
	g.Extraction = new(schema.Extraction)
	if err := json.Unmarshal(rec.Extraction, g.Extraction); err != nil {
		return g, err
	}
	return g, nil
}

// evalDocument is one gold document's grades.
type evalDocument struct {
	Gold       string `json:"gold"`
	DocumentID int64  `json:"document_id"`
	Source     string `json:"source"`
	Match      string `json:"match"`
	// Extracted is false when the document has no successful extraction
	// (in the run): everything in the gold counts as omitted.
	Extracted  bool                      `json:"extracted"`
	Fields     map[string]compare.Counts `json:"fields"`
	Overall    compare.Counts            `json:"overall"`
	Omissions  []schema.DataPoint        `json:"omissions"`
	Unmatched  []schema.DataPoint        `json:"unmatched"`
	Ungrounded []schema.DataPoint        `json:"ungrounded"`
}

// evalReport is the --format json output of thesisdb eval.
type evalReport struct {
	Run       int64                     `json:"run,omitempty"`
	Documents []evalDocument            `json:"documents"`
	Missing   []string                  `json:"missing"`
	Fields    map[string]compare.Counts `json:"fields"`
	Overall   compare.Counts            `json:"overall"`
}

func fieldMap(s *compare.Scorecard) map[string]compare.Counts {
	m := make(map[string]compare.Counts, len(compare.Fields))
	for _, f := range compare.Fields {
		m[f] = *s.Field(f)
	}
	return m
}

func (a *app) evalCommand() *cobra.Command {
	var goldDir, format, match string
	var runID int64
	cmd := &cobra.Command{
		Use:   "eval --gold DIR [--run N]",
		Short: "Score extractions against gold extractions",
		Long: `Eval grades the current extractions (or run N's) against gold files in DIR:
*.jsonl or *.json in the export format (thesisdb export), matched to stored
documents by document.sha256 and then by the base name of document.source,
or hand-written gold files {"document": "<file name>", "theses": [...]}
matched by the base name of the source.

Stances and views (by perspective) must match exactly, confidence and
conviction within 0.05, horizons up to case and spacing. Data points are
matched by normalised indicator and value (--match exact), and for
hand-written gold also by the same numbers with overlapping indicator words
(--match loose; auto picks per file). It prints precision, recall and F1 per
field and overall, the omissions (gold data points not extracted) and the
fabrications: extracted data points matching no gold one, and those whose
quote or figures are not in the document (data_points.grounded = 0).`,
		Example: `  thesisdb export > gold.jsonl   # then correct it by hand
  thesisdb eval --gold gold/
  thesisdb eval --gold gold/ --run 7 --format json | jq .overall`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if goldDir == "" {
				return errors.New("--gold DIR is required")
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			var force *compare.Match
			switch match {
			case "auto":
			case "exact", "loose":
				m := map[string]compare.Match{"exact": compare.Exact, "loose": compare.Loose}[match]
				force = &m
			default:
				return fmt.Errorf("--match %q: want auto, exact or loose", match)
			}
			golds, err := readGold(goldDir)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := store.Open(ctx, a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			// Every stored document, then its extraction if it has one.
			r, err := db.Reader()
			if err != nil {
				return err
			}
			defer r.Close()
			res, err := r.Query(ctx, "SELECT id, sha256, source FROM documents ORDER BY id", 0)
			if err != nil {
				return err
			}
			bySHA, byBase := map[string]int64{}, map[string][]int64{}
			sources := map[int64]string{}
			for _, row := range res.Rows {
				id, sha, src := row[0].(int64), row[1].(string), row[2].(string)
				bySHA[sha] = id
				base := path.Base(filepath.ToSlash(src))
				byBase[base] = append(byBase[base], id)
				sources[id] = src
			}
			extracted := map[int64]*schema.Extraction{}
			if err := db.Extractions(ctx, runID, func(s store.StoredExtraction) error {
				extracted[s.DocumentID] = s.Extraction
				return nil
			}); err != nil {
				return err
			}

			rep := evalReport{Run: runID, Documents: []evalDocument{}, Missing: []string{}}
			var total compare.Scorecard
			for _, g := range golds {
				id, ok := bySHA[g.SHA256]
				if !ok || g.SHA256 == "" {
					ids := byBase[g.Base]
					if len(ids) == 0 {
						rep.Missing = append(rep.Missing, g.Name)
						continue
					}
					if len(ids) > 1 {
						a.log.Warn("several stored documents have this file name; scoring the first", "gold", g.Name, "name", g.Base, "documents", ids)
					}
					id = ids[0]
				}
				m := g.Match
				if force != nil {
					m = *force
				}
				got := extracted[id]
				s := compare.Score(got, g.Extraction, m)
				total.Add(s)
				rep.Documents = append(rep.Documents, evalDocument{
					Gold: g.Name, DocumentID: id, Source: sources[id], Match: m.String(), Extracted: got != nil,
					Fields: fieldMap(&s), Overall: s.Overall(),
					Omissions: nonNil(s.Omissions), Unmatched: nonNil(s.Unmatched), Ungrounded: nonNil(s.Ungrounded),
				})
			}
			if len(rep.Documents) == 0 {
				return fmt.Errorf("none of the %s in %s matches a stored document (by sha256 or file name)", plural(len(golds), "gold record"), goldDir)
			}
			for _, name := range rep.Missing {
				a.log.Warn("gold document not stored: not scored", "gold", name)
			}
			rep.Fields, rep.Overall = fieldMap(&total), total.Overall()
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return writeEvalTable(a.stdout, &rep)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&goldDir, "gold", "", "folder of gold files (*.json, *.jsonl)")
	fs.Int64Var(&runID, "run", 0, "score this run's extractions instead of the current ones")
	fs.StringVar(&format, "format", "table", "table or json")
	fs.StringVar(&match, "match", "auto", "data-point matching: exact, loose, or auto (exact for export records, loose for hand-written gold)")
	return cmd
}

func nonNil(dps []schema.DataPoint) []schema.DataPoint {
	if dps == nil {
		return []schema.DataPoint{}
	}
	return dps
}

// writeEvalTable prints one line per document, the per-field table and
// the data points behind the data-point errors.
func writeEvalTable(w io.Writer, rep *evalReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GOLD\tDOCUMENT\tMATCH\tDATA_POINTS_F1\tOVERALL_F1\tOMITTED\tUNMATCHED\tUNGROUNDED")
	for _, d := range rep.Documents {
		doc := fmt.Sprintf("%d", d.DocumentID)
		if !d.Extracted {
			doc += " (no extraction)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%.3f\t%d\t%d\t%d\n", d.Gold, doc, d.Match, d.Fields["data_points"].F1(), d.Overall.F1(),
			len(d.Omissions), len(d.Unmatched), len(d.Ungrounded))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "FIELD\tTP\tFP\tFN\tPRECISION\tRECALL\tF1")
	rows := append(append([]string{}, compare.Fields...), "overall")
	for _, f := range rows {
		c, ok := rep.Fields[f]
		if !ok {
			c = rep.Overall
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\n", f, c.TP, c.FP, c.FN, c.Precision(), c.Recall(), c.F1())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range rep.Documents {
		lists := []struct {
			what string
			dps  []schema.DataPoint
		}{{"omitted (in the gold, not extracted)", d.Omissions}, {"fabricated: matches no gold data point", d.Unmatched},
			{"fabricated: quote or figures not in the document", d.Ungrounded}}
		for _, l := range lists {
			if len(l.dps) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s — %s:\n", d.Gold, l.what)
			sorted := append([]schema.DataPoint(nil), l.dps...)
			sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Indicator < sorted[j].Indicator })
			for _, dp := range sorted {
				fmt.Fprintf(w, "  %s: %s\n", shorten(dp.Indicator, 80), shorten(dp.Value, 60))
			}
		}
	}
	if len(rep.Missing) > 0 {
		fmt.Fprintf(w, "\nnot scored, no stored document: %s\n", strings.Join(rep.Missing, ", "))
	}
	return nil
}
