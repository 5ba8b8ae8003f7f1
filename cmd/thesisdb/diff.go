package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/store"
)

func (a *app) diffCommand() *cobra.Command {
	var format string
	var all bool
	cmd := &cobra.Command{
		Use:   "diff RUN_A RUN_B",
		Short: "Show what changed in each document's extraction between two runs",
		Long: `Diff compares, per document with a successful extraction in both runs, what
run B extracted against run A: per thesis the stance, confidence,
conviction and horizon, the views by perspective, and the data points
added, removed or changed (matched by indicator, ignoring case and
punctuation; changed means another value). A summary line counts the
documents compared, changed and unchanged, and those only in one run.
This is how to decide whether a new prompt or model is better.`,
		Example: `  thesisdb diff 3 4
  thesisdb diff --format json 3 4 | jq '.documents[] | select(.status == "changed")'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ids [2]int64
			for i, s := range args {
				id, err := strconv.ParseInt(s, 10, 64)
				if err != nil || id <= 0 {
					return fmt.Errorf("%q is not a run id (see thesisdb runs)", s)
				}
				ids[i] = id
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			db, err := store.Open(cmd.Context(), a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := compare.DiffRuns(cmd.Context(), db, ids[0], ids[1])
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			writeDiffTable(a.stdout, rep, all)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.Flags().BoolVar(&all, "all", false, "also list unchanged documents and those in one run only")
	return cmd
}

// writeDiffTable prints the changes document by document, one line per
// change, then the summary line.
func writeDiffTable(w io.Writer, rep *compare.DiffReport, all bool) {
	for _, d := range rep.Documents {
		name := fmt.Sprintf("document %d  %s", d.DocumentID, d.Source)
		if d.Title != "" {
			name += fmt.Sprintf("  %q", shorten(d.Title, 60))
		}
		switch d.Status {
		case compare.DocChanged:
		case compare.DocUnchanged:
			if all {
				fmt.Fprintf(w, "%s: unchanged\n", name)
			}
			continue
		default:
			if all {
				fmt.Fprintf(w, "%s: only in run %d\n", name, map[string]int64{compare.DocOnlyA: rep.RunA, compare.DocOnlyB: rep.RunB}[d.Status])
			}
			continue
		}
		fmt.Fprintf(w, "%s\n", name)
		for _, t := range d.Diff.Theses {
			thesis := fmt.Sprintf("thesis %q", shorten(t.Title, 50))
			switch t.Status {
			case compare.Added, compare.Removed:
				fmt.Fprintf(w, "  %s %s\n", sign(t.Status), thesis)
				continue
			}
			for _, c := range t.Changes {
				fmt.Fprintf(w, "  ~ %s %s: %s → %s\n", thesis, c.Field, orNull(c.From), orNull(c.To))
			}
			for _, v := range t.Views {
				if v.Status != compare.Changed {
					fmt.Fprintf(w, "  %s %s view %s\n", sign(v.Status), thesis, v.Perspective)
					continue
				}
				for _, c := range v.Changes {
					fmt.Fprintf(w, "  ~ %s view %s %s: %s → %s\n", thesis, v.Perspective, c.Field, orNull(c.From), orNull(c.To))
				}
			}
		}
		for _, c := range d.Diff.DataPoints {
			switch c.Status {
			case compare.Added:
				fmt.Fprintf(w, "  + data point %s: %s\n", c.Indicator, c.To)
			case compare.Removed:
				fmt.Fprintf(w, "  - data point %s: %s\n", c.Indicator, c.From)
			default:
				fmt.Fprintf(w, "  ~ data point %s: %s → %s\n", c.Indicator, c.From, c.To)
			}
		}
	}
	s := rep.Summary
	fmt.Fprintf(w, "run %d → run %d: %s compared, %d changed, %d unchanged; %d only in run %d, %d only in run %d\n",
		rep.RunA, rep.RunB, plural(s.Compared, "document"), s.Changed, s.Unchanged, s.OnlyA, rep.RunA, s.OnlyB, rep.RunB)
}

func sign(status string) string {
	switch status {
	case compare.Added:
		return "+"
	case compare.Removed:
		return "-"
	}
	return "~"
}

func orNull(s string) string {
	if strings.TrimSpace(s) == "" {
		return "null"
	}
	return s
}
