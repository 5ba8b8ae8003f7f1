package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

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
			golds, err := compare.ReadGold(goldDir)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := store.Open(ctx, a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := compare.Evaluate(ctx, db, golds, compare.EvalOptions{Run: runID, Match: force, Logger: a.log})
			if err != nil {
				return err
			}
			if len(rep.Documents) == 0 {
				return fmt.Errorf("none of the %s in %s matches a stored document (by sha256 or file name)", plural(len(golds), "gold record"), goldDir)
			}
			for _, name := range rep.Missing {
				a.log.Warn("gold document not stored: not scored", "gold", name)
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return writeEvalTable(a.stdout, rep)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&goldDir, "gold", "", "folder of gold files (*.json, *.jsonl)")
	fs.Int64Var(&runID, "run", 0, "score this run's extractions instead of the current ones")
	fs.StringVar(&format, "format", "table", "table or json")
	fs.StringVar(&match, "match", "auto", "data-point matching: exact, loose, or auto (exact for export records, loose for hand-written gold)")
	return cmd
}

// writeEvalTable prints one line per document, the per-field table and
// the data points behind the data-point errors.
func writeEvalTable(w io.Writer, rep *compare.EvalReport) error {
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
