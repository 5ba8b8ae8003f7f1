package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/thesisdb/thesisdb/internal/rowfmt"
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
	rw := rowfmt.NewWriter(w, format)
	if err := rw.Header(cols); err != nil {
		return err
	}
	for _, r := range rows {
		if err := rw.Row(r); err != nil {
			return err
		}
	}
	return rw.Close()
}

// shorten cuts s to at most n characters.
func shorten(s string, n int) string { return rowfmt.Shorten(s, n) }
