package rowfmt

import (
	"math"
	"strings"
	"testing"
)

func write(t *testing.T, format string, rows ...[]any) string {
	t.Helper()
	var b strings.Builder
	w := NewWriter(&b, format)
	if err := w.Header([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestFormats(t *testing.T) {
	rows := [][]any{{int64(1), "x,\"y\""}, {[]byte{0, 0xff}, math.NaN()}, {nil, 2.5}}
	for format, want := range map[string]string{
		"csv":   "a,b\n1,\"x,\"\"y\"\"\"\nAP8=,NaN\n,2.5\n",
		"json":  "[\n  {\n    \"a\": 1,\n    \"b\": \"x,\\\"y\\\"\"\n  },\n  {\n    \"a\": \"AP8=\",\n    \"b\": null\n  },\n  {\n    \"a\": null,\n    \"b\": 2.5\n  }\n]\n",
		"jsonl": "{\"a\":1,\"b\":\"x,\\\"y\\\"\"}\n{\"a\":\"AP8=\",\"b\":null}\n{\"a\":null,\"b\":2.5}\n",
		"table": "A     B\n1     x,\"y\"\nAP8=  NaN\n      2.5\n",
	} {
		if got := write(t, format, rows...); got != want {
			t.Errorf("%s:\n%q\nwant\n%q", format, got, want)
		}
	}
	// An empty result is still well formed.
	for format, want := range map[string]string{"csv": "a,b\n", "json": "[]\n", "jsonl": ""} {
		if got := write(t, format); got != want {
			t.Errorf("empty %s: %q, want %q", format, got, want)
		}
	}
}

func TestShorten(t *testing.T) {
	if got := Shorten("αβγδε", 3); got != "αβ…" {
		t.Errorf("Shorten: %q", got)
	}
	if got := Shorten("abc", 3); got != "abc" {
		t.Errorf("Shorten: %q", got)
	}
}
