package schema

import "testing"

func TestIndicatorKey(t *testing.T) {
	same := [][2]string{
		{"HY OAS (bps)", "hy oas bps"},
		{"Small-cap P/E", "small cap p e"},
		// Extraction merging (which dropped €, £ and ¥) and comparison
		// (which left a space before a trailing period) used to disagree
		// on these.
		{"Price (€)", "price €"},
		{"EPS .", "eps"},
		{". Net debt", "net debt"},
		{"  Revenue, ¥bn  ", "revenue ¥bn"},
	}
	for _, c := range same {
		if a, b := IndicatorKey(c[0]), IndicatorKey(c[1]); a != b {
			t.Errorf("%q → %q, %q → %q: want the same key", c[0], a, c[1], b)
		}
	}
	differ := [][2]string{{"Price (€)", "Price ($)"}, {"Price (€)", "Price"}, {"GDP 3.5%", "GDP 35%"}, {"Capex 2025", "Capex 2026"}}
	for _, c := range differ {
		if IndicatorKey(c[0]) == IndicatorKey(c[1]) {
			t.Errorf("%q and %q have the same key %q", c[0], c[1], IndicatorKey(c[0]))
		}
	}
	if k := IndicatorKey("HY OAS (bps)."); k != "hy oas bps" {
		t.Errorf("key %q", k)
	}
}
