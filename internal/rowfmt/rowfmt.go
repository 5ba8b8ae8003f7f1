// Package rowfmt writes the rows of a query as an aligned table, CSV, a
// JSON array of objects or JSON Lines, row by row as they stream in: the
// formats of thesisdb query and of the web UI's downloads.
package rowfmt

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// Writer writes a result set row by row as it streams in, so that a
// large result is never held whole.
type Writer struct {
	w      io.Writer
	format string
	cols   []string
	csv    *csv.Writer
	tw     *tabwriter.Writer
	n      int
	// started is true once the header is written.
	started bool
}

// tableBlock is how many table rows are aligned together before they are
// written out.
const tableBlock = 500

// NewWriter returns a Writer of format: "table" (aligned columns for
// people; any unknown format too), "csv" (with a header), "json" (an array
// of objects, keys in column order) or "jsonl" (one object per line).
func NewWriter(w io.Writer, format string) *Writer {
	return &Writer{w: w, format: format}
}

// Header takes the column names; they are written with the first row or
// at close, so that a query failing before its first row prints nothing.
func (rw *Writer) Header(cols []string) error {
	rw.cols = cols
	return nil
}

func (rw *Writer) writeHeader() error {
	if rw.started {
		return nil
	}
	rw.started = true
	switch rw.format {
	case "csv":
		rw.csv = csv.NewWriter(rw.w)
		return rw.csv.Write(rw.cols)
	case "json", "jsonl":
		return nil
	default:
		rw.tw = tabwriter.NewWriter(rw.w, 0, 0, 2, ' ', 0)
		_, err := fmt.Fprintln(rw.tw, strings.ToUpper(strings.Join(rw.cols, "\t")))
		return err
	}
}

// Row writes one row; values are nil, int64, float64, string, []byte
// (base64 in every format) or bool.
func (rw *Writer) Row(r []any) error {
	if err := rw.writeHeader(); err != nil {
		return err
	}
	rw.n++
	switch rw.format {
	case "csv":
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = CellText(v)
		}
		return rw.csv.Write(rec)
	case "jsonl":
		if err := writeJSONObject(rw.w, rw.cols, r, ""); err != nil {
			return err
		}
		_, err := io.WriteString(rw.w, "\n")
		return err
	case "json":
		sep := ",\n  "
		if rw.n == 1 {
			sep = "[\n  "
		}
		if _, err := io.WriteString(rw.w, sep); err != nil {
			return err
		}
		return writeJSONObject(rw.w, rw.cols, r, "  ")
	default:
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = tableCell(v, 60)
		}
		if _, err := fmt.Fprintln(rw.tw, strings.Join(cells, "\t")); err != nil {
			return err
		}
		if rw.n%tableBlock == 0 {
			return rw.tw.Flush()
		}
		return nil
	}
}

// Close ends the result: what was written is complete and well formed.
func (rw *Writer) Close() error {
	if err := rw.writeHeader(); err != nil {
		return err
	}
	switch rw.format {
	case "csv":
		rw.csv.Flush()
		return rw.csv.Error()
	case "json":
		end := "\n]\n"
		if rw.n == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(rw.w, end)
		return err
	case "jsonl":
		return nil
	default:
		return rw.tw.Flush()
	}
}

// writeJSONObject writes a row as a JSON object with keys in column
// order, compact or, with indent, indented one level below it. Values are
// written piece by piece, never copied whole.
func writeJSONObject(w io.Writer, cols []string, r []any, indent string) error {
	ew := &errWriter{w: w}
	if len(cols) == 0 {
		ew.str("{}")
		return ew.err
	}
	ew.str("{")
	for i, c := range cols {
		if i > 0 {
			ew.str(",")
		}
		if indent != "" {
			ew.str("\n" + indent + "  ")
		}
		k, _ := json.Marshal(c)
		ew.bytes(k)
		ew.str(":")
		if indent != "" {
			ew.str(" ")
		}
		writeJSONValue(ew, JSONValue(r[i]))
	}
	if indent != "" {
		ew.str("\n" + indent)
	}
	ew.str("}")
	return ew.err
}

// jsonChunk is how much of a long string is escaped at a time.
const jsonChunk = 64 << 10

// writeJSONValue writes v as encoding/json would: a BLOB as a base64
// string, text escaped in chunks cut between characters.
func writeJSONValue(ew *errWriter, v any) {
	switch x := v.(type) {
	case []byte:
		ew.str(`"`)
		enc := base64.NewEncoder(base64.StdEncoding, ew)
		enc.Write(x)
		enc.Close()
		ew.str(`"`)
	case string:
		ew.str(`"`)
		for len(x) > 0 {
			n := min(len(x), jsonChunk)
			// Cut before a character's first byte, so that a valid
			// UTF-8 sequence is never split (invalid bytes are replaced
			// one by one, wherever the cut).
			for back := 0; n < len(x) && back < utf8.UTFMax && !utf8.RuneStart(x[n]); back++ {
				n--
			}
			b, _ := json.Marshal(x[:n])
			ew.bytes(b[1 : len(b)-1])
			x = x[n:]
		}
		ew.str(`"`)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			ew.fail(err)
			return
		}
		ew.bytes(b)
	}
}

// errWriter keeps the first write error and skips later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	e.bytes(p)
	return len(p), e.err
}

func (e *errWriter) bytes(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *errWriter) str(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

func (e *errWriter) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// JSONValue is v for encoding/json: NaN and infinities become null, and
// a BLOB ([]byte) becomes a base64 string (encoding/json's encoding of
// []byte).
func JSONValue(v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil
	}
	return v
}

// CellText is v as one CSV cell: NULL empty, a BLOB base64, a float in
// its shortest form.
func CellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte: // a BLOB: base64, as in JSON
		return base64.StdEncoding.EncodeToString(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// tableCell is v on one line, at most n characters: only the start of a
// long value is looked at.
func tableCell(v any, n int) string {
	s := CellText(v)
	cut := false
	if limit := 8 * n; len(s) > limit {
		for limit > 0 && !utf8.RuneStart(s[limit]) {
			limit--
		}
		s, cut = s[:limit], true
	}
	s = Shorten(strings.Join(strings.Fields(s), " "), n)
	if cut && !strings.HasSuffix(s, "…") {
		s += "…"
	}
	return s
}

// Shorten cuts s to at most n characters, ending it with … when cut.
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
