package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// formatFlag resolves --format: table on a terminal, csv otherwise.
func formatFor(w io.Writer, format string) (string, error) {
	switch format {
	case "":
		if isTerminal(w) {
			return "table", nil
		}
		return "csv", nil
	case "table", "csv", "json", "jsonl":
		return format, nil
	}
	return "", fmt.Errorf("--format %q: want table, csv, json or jsonl", format)
}

// writeRows writes a result set in format: an aligned table for people,
// CSV with a header, a JSON array of objects, or one JSON object per line.
func writeRows(w io.Writer, format string, cols []string, rows [][]any) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(cols)
		for _, r := range rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = cellText(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json", "jsonl":
		objs := make([]map[string]any, len(rows))
		for i, r := range rows {
			o := make(map[string]any, len(cols))
			for j, c := range cols {
				o[c] = jsonValue(r[j])
			}
			objs[i] = o
		}
		if format == "jsonl" {
			enc := json.NewEncoder(w)
			for _, o := range objs {
				if err := enc.Encode(orderedObject{cols, o}); err != nil {
					return err
				}
			}
			return nil
		}
		ordered := make([]orderedObject, len(objs))
		for i, o := range objs {
			ordered[i] = orderedObject{cols, o}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if ordered == nil {
			ordered = []orderedObject{}
		}
		return enc.Encode(ordered)
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
		for _, r := range rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = shorten(strings.Join(strings.Fields(cellText(v)), " "), 60)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	}
}

// orderedObject marshals a row as a JSON object with keys in column order.
type orderedObject struct {
	cols []string
	m    map[string]any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range o.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(o.m[c])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func jsonValue(v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil
	}
	return v
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
