package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// TestMaxDataPoints keeps the first N data points of structured and prose
// documents, warns exactly when figures were left out, and grounds what
// it keeps.
func TestMaxDataPoints(t *testing.T) {
	block := func(n int) string {
		var b strings.Builder
		b.WriteString("Rates Research\nBearish\n")
		for i := range n {
			fmt.Fprintf(&b, "indicator: Gauge %d\nvalue: %d.5%%\nsource: Desk\n", i, i)
		}
		return b.String()
	}
	prose := func(n int) string {
		var b strings.Builder
		b.WriteString("Figures\n")
		for i := range n {
			fmt.Fprintf(&b, "Margin %d rose to %d.5%% last year. ", i, i)
		}
		return b.String()
	}
	oneSentence := func(n int) string { return strings.Repeat("1% ", n) }
	for _, tc := range []struct {
		name      string
		text      string
		max, want int
		warned    bool
	}{
		{"structured over", block(10), 3, 3, true},
		{"structured at", block(3), 3, 3, false},
		{"prose over", prose(10), 3, 3, true},
		{"prose at", prose(3), 3, 3, false},
		{"prose at, figureless sentence after", prose(3) + "\nIn 2024 it was flat.", 3, 3, false},
		{"one sentence over", oneSentence(10), 4, 4, true},
		{"default", oneSentence(10_000), 0, DefaultMaxDataPoints, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(WithMaxDataPoints(tc.max))
			res, err := e.Extract(context.Background(), &schema.Document{Text: tc.text})
			if err != nil {
				t.Fatal(err)
			}
			dps := res.Extraction.Theses[0].DataPoints
			if len(dps) != tc.want {
				t.Errorf("%d data points, want %d", len(dps), tc.want)
			}
			warned := strings.Contains(strings.Join(res.Warnings, "\n"), fmt.Sprintf("kept the first %d data points", tc.want))
			if warned != tc.warned {
				t.Errorf("warnings %q, want a data point warning: %v", res.Warnings, tc.warned)
			}
			if len(dps) > 0 && !strings.HasPrefix(dps[0].Value, "0") && !strings.HasPrefix(dps[0].Value, "1") {
				t.Errorf("first data point %+v: want the document's first figure", dps[0])
			}
			if n := extract.Ground(tc.text, res.Extraction); n != 0 {
				t.Errorf("%d data points not grounded", n)
			}
		})
	}
}

func TestMaxDataPointsOption(t *testing.T) {
	if n := New().MaxDataPoints(); n != DefaultMaxDataPoints {
		t.Errorf("default = %d, want %d", n, DefaultMaxDataPoints)
	}
	if n := New(WithMaxDataPoints(0)).MaxDataPoints(); n != DefaultMaxDataPoints {
		t.Errorf("WithMaxDataPoints(0) = %d, want the default", n)
	}
	if n := (&Extractor{}).MaxDataPoints(); n != DefaultMaxDataPoints {
		t.Errorf("zero Extractor = %d, want the default", n)
	}
	if New(WithMaxDataPoints(7)).Info().PromptHash == New().Info().PromptHash {
		t.Error("a different limit must change the configuration hash")
	}
	if New(WithMaxDataPoints(DefaultMaxDataPoints)).Info() != New().Info() {
		t.Error("the default limit given explicitly must not change Info")
	}
}

// TestViewAndFieldLimits caps research perspectives at maxViews and
// shortens a giant value line, keeping its quote a verbatim prefix.
func TestViewAndFieldLimits(t *testing.T) {
	text := strings.Repeat("## Desk\nBullish\n", maxViews+5) +
		"indicator: Giant\nvalue: 5% " + strings.Repeat("x", 3*maxQuoteField) + "\n"
	res, err := New().Extract(context.Background(), &schema.Document{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	th := res.Extraction.Theses[0]
	if len(th.Views) != maxViews {
		t.Errorf("%d views, want %d", len(th.Views), maxViews)
	}
	w := strings.Join(res.Warnings, "\n")
	if !strings.Contains(w, fmt.Sprintf("first %d of %d research perspectives", maxViews, maxViews+5)) || !strings.Contains(w, "shortened") {
		t.Errorf("warnings %q, want the perspective and field limits named", res.Warnings)
	}
	if len(th.DataPoints) != 1 {
		t.Fatalf("data points %d, want 1", len(th.DataPoints))
	}
	dp := th.DataPoints[0]
	if len(dp.Quote) > maxQuoteField || len(dp.Value) > maxField || !strings.Contains(text, dp.Quote) {
		t.Errorf("quote %d bytes, value %d bytes: want at most %d and %d, quote verbatim", len(dp.Quote), len(dp.Value), maxQuoteField, maxField)
	}
}
