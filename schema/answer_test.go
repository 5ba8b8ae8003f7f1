package schema

import (
	"strings"
	"testing"
)

func sp(s string) *string { return &s }

func TestCheckAnswer(t *testing.T) {
	x := &Extraction{
		Title: sp(","), Author: sp("null null null"), Published: sp("March 2, 2026"),
		Theses: []Thesis{{Title: "t", Statement: "s", Stance: Bullish, Views: []View{
			{Perspective: "rates", Stance: Bullish, AsOf: sp("2026-02-30")},
			{Perspective: "credit", Stance: Bullish, AsOf: sp(" 2026-01-31 ")},
		}, DataPoints: []DataPoint{}}},
	}
	warns := CheckAnswer(x)
	if x.Title != nil || x.Author != nil || x.Published != nil {
		t.Errorf("title %v author %v published %v; want all dropped", x.Title, x.Author, x.Published)
	}
	if v := x.Theses[0].Views; v[0].AsOf != nil || v[1].AsOf == nil || *v[1].AsOf != "2026-01-31" {
		t.Errorf("as_of = %v, %v; want the impossible date dropped and the good one kept", v[0].AsOf, v[1].AsOf)
	}
	if len(warns) != 4 {
		t.Fatalf("warnings %q, want 4", warns)
	}
	for _, want := range []string{`published "March 2, 2026" is not a YYYY-MM-DD date`, `title ","`, `author "null null null"`, `as_of "2026-02-30"`} {
		if !strings.Contains(strings.Join(warns, "\n"), want) {
			t.Errorf("no warning %q in %q", want, warns)
		}
	}

	good := &Extraction{Title: sp("Rates: 2026 outlook"), Author: sp("J. Doe"), Published: sp("2026-03-02")}
	warns = CheckAnswer(good)
	if good.Title == nil || good.Author == nil || good.Published == nil {
		t.Error("good metadata dropped")
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "no thesis") {
		t.Errorf("warnings %q; want only the zero-thesis one", warns)
	}
}

func TestPlaceholder(t *testing.T) {
	for s, want := range map[string]bool{
		",": true, "": true, " - ": true, "null": true, "N/A": true, "null null null…": true, "“”": true,
		"Q3": false, "J. Doe": false, "3M": false, "Unknown Capital LLC": false, "日本": false,
	} {
		if got := Placeholder(s); got != want {
			t.Errorf("Placeholder(%q) = %v, want %v", s, got, want)
		}
	}
}
