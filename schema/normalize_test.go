package schema

import (
	"math"
	"testing"
)

func TestParseStance(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Stance
		ok   bool
	}{
		{"Bullish", Bullish, true},
		{" bearish ", Bearish, true},
		{"Overweight", Bullish, true},
		{"underweight", Bearish, true},
		{"Neutral", Neutral, true},
		{"hold", Neutral, true},
		{"Mixed", Mixed, true},
		{"bull.", Bullish, true},
		{"general", "", false},
		{"", "", false},
	} {
		got, ok := ParseStance(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseStance(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseScore(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"7/10", 0.7, true},
		{"7 / 10", 0.7, true},
		{"5/10", 0.5, true},
		{"7 out of 10", 0.7, true},
		{"70%", 0.7, true},
		{"0.7", 0.7, true},
		{".65", 0.65, true},
		{"1", 1, true},
		{"7", 0, false},     // ambiguous scale
		{"11/10", 0, false}, // outside 0..1
		{"3/0", 0, false},
		{"high", 0, false},
		{"", 0, false},
	} {
		got, ok := ParseScore(tc.in)
		if ok != tc.ok || (ok && math.Abs(got-tc.want) > 1e-12) {
			t.Errorf("ParseScore(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if v, _ := ParseScore("7/10"); v != 0.7 {
		t.Errorf("7/10 must be exactly 0.7 so that it compares equal in SQL, got %v", v)
	}
}

func TestParseQuantity(t *testing.T) {
	const none = math.MaxFloat64
	for _, tc := range []struct {
		in          string
		num, lo, hi float64 // none: nil
		unit        string
		ok          bool
	}{
		{"~$700 billion", 7e11, 7e11, 7e11, "USD", true},
		{"94%", 94, 94, 94, "%", true},
		{"284 bps", 284, 284, 284, "bp", true},
		{"284 bps (January 31, 2026)", 284, 284, 284, "bp", true},
		{"13.7X", 13.7, 13.7, 13.7, "x", true},
		{"31.89x", 31.89, 31.89, 31.89, "x", true},
		{"4.14%-4.26%", none, 4.14, 4.26, "%", true},
		{"$660-690 billion (36% YoY increase)", none, 6.6e11, 6.9e11, "USD", true},
		{"12 to 24 months", none, 12, 24, "month", true},
		{"Negative $17B-$28B (vs. positive in prior years)", none, -28e9, -17e9, "USD", true},
		{"$450 bn", 4.5e11, 4.5e11, 4.5e11, "USD", true},
		{"$1,250.5 million", 1.2505e9, 1.2505e9, 1.2505e9, "USD", true},
		{"-0.40%", -0.4, -0.4, -0.4, "%", true},
		{"+11%", 11, 11, 11, "%", true},
		{"1.7% (November 2025, par-weighted global)", 1.7, 1.7, 1.7, "%", true},
		{"$1.3 trillion by 2030", 1.3e12, 1.3e12, 1.3e12, "USD", true},
		{"30pp", 30, 30, 30, "pp", true},
		{"21.5", 21.5, 21.5, 21.5, "", true},
		{"€3bn", 3e9, 3e9, 3e9, "EUR", true},
		// More than one figure, or none: never guess.
		{"94% in 2025-2026 vs. 76% in 2024", none, none, none, "", false},
		{"18.0% vs. 10.8%", none, none, none, "", false},
		{"~90% drop to $8.2B from $73.3B in 2025", none, none, none, "", false},
		{"Tripled since September 2025", none, none, none, "", false},
		{"widest in decades", none, none, none, "", false},
		{"as much as 5%, falling to perhaps 3% or 4%", none, none, none, "", false},
		{"Russell 2000 Golden Cross formation in late 2025", none, none, none, "", false},
		{"Q2 2026", none, none, none, "", false},
		{"$5% odd", none, none, none, "", false},
		{"4.5% - 3 bp", none, none, none, "", false},
	} {
		q, ok := ParseQuantity(tc.in)
		if ok != tc.ok {
			t.Errorf("ParseQuantity(%q) ok = %v, want %v (got %+v)", tc.in, ok, tc.ok, q)
			continue
		}
		if !ok {
			continue
		}
		check := func(name string, got *float64, want float64) {
			switch {
			case want == none && got != nil:
				t.Errorf("ParseQuantity(%q).%s = %v, want nil", tc.in, name, *got)
			case want != none && got == nil:
				t.Errorf("ParseQuantity(%q).%s = nil, want %v", tc.in, name, want)
			case want != none && math.Abs(*got-want) > 1e-6*math.Max(1, math.Abs(want)):
				t.Errorf("ParseQuantity(%q).%s = %v, want %v", tc.in, name, *got, want)
			}
		}
		check("Num", q.Num, tc.num)
		check("Low", q.Low, tc.lo)
		check("High", q.High, tc.hi)
		if q.Unit != tc.unit {
			t.Errorf("ParseQuantity(%q).Unit = %q, want %q", tc.in, q.Unit, tc.unit)
		}
	}
}
