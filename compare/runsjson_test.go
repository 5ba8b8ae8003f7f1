package compare

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

func randExtraction(r *rand.Rand) *schema.Extraction {
	x := &schema.Extraction{Theses: make([]schema.Thesis, 1+r.IntN(3))}
	for i := range x.Theses {
		th := &x.Theses[i]
		th.Title = []string{"Banks rerate", "Banks rerate", "Refiners lag", ""}[r.IntN(4)]
		th.Statement = "as deposit costs peak"
		th.Stance = testStances[r.IntN(len(testStances))]
		if r.IntN(2) == 0 {
			c := float64(r.IntN(10)) / 10
			th.Confidence = &c
		}
		for range r.IntN(4) {
			th.Views = append(th.Views, schema.View{Perspective: testPerspectives[r.IntN(len(testPerspectives))], Stance: testStances[r.IntN(4)]})
		}
		th.DataPoints = randDataPoints(r)
		for j := range th.DataPoints {
			th.DataPoints[j].Quote = "a quote the diff does not read"
		}
	}
	return x
}

// TestDiffSameAsDiff checks the shortcut for equal stored bytes against
// the whole Diff of an extraction with itself, duplicate perspectives
// included; and the decoding of the fields a diff reads against a whole
// decode.
func TestDiffSameAsDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dups := 0
	for range 2000 {
		x := randExtraction(r)
		raw, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		p := store.ExtractionPairJSON{DocumentID: 7, Source: "s.md", Title: "t", A: raw, B: raw}
		got, err := diffSame(p)
		if err != nil {
			t.Fatal(err)
		}
		want := diffDocument(7, "s.md", "t", x, x)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Fatalf("%s:\n%s; Diff says\n%s", raw, gj, wj)
		}
		if want.Status == DocChanged {
			dups++
		}
		y := randExtraction(r)
		rawY, _ := json.Marshal(y)
		lx, err := decodeForDiff(raw)
		if err != nil {
			t.Fatal(err)
		}
		ly, err := decodeForDiff(rawY)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := Diff(lx, ly), Diff(x, y); !reflect.DeepEqual(a, b) {
			t.Fatalf("Diff of the fields decoded for it:\n%+v\nof the whole extractions:\n%+v", a, b)
		}
	}
	if dups == 0 {
		t.Error("no extraction with two views of one perspective: the slow case is untested")
	}
	if _, err := diffSame(store.ExtractionPairJSON{A: []byte(`{"theses": [`), B: []byte(`{"theses": [`)}); err == nil {
		t.Error("malformed JSON is not an error")
	}
	if _, err := decodeForDiff([]byte(`{"theses": 3}`)); err == nil {
		t.Error("a mistyped field is not an error")
	}
}
