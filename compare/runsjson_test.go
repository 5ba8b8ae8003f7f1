package compare

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
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

// jsonPairs is a RunPairsJSON over fixed pairs, failing with err after
// them when err is set.
type jsonPairs struct {
	ps  []store.ExtractionPairJSON
	err error
}

func (j jsonPairs) ExtractionPairs(context.Context, int64, int64, func(store.ExtractionPair) error) error {
	return errors.New("DiffRuns reads the JSON when it can")
}

func (j jsonPairs) ExtractionPairsJSON(ctx context.Context, _, _ int64, fn func(store.ExtractionPairJSON) error) error {
	for _, p := range j.ps {
		if err := fn(p); err != nil {
			return err
		}
	}
	return j.err
}

// TestDiffRunsJSONErrors wants the first error in document order, as a
// serial diff meets it, however many batches are in flight.
func TestDiffRunsJSONErrors(t *testing.T) {
	good, _ := json.Marshal(randExtraction(rand.New(rand.NewPCG(5, 6))))
	var ps []store.ExtractionPairJSON
	for id := int64(1); id <= 1000; id++ {
		p := store.ExtractionPairJSON{DocumentID: id, A: good, B: good}
		switch id {
		case 300:
			p.B = []byte(`{"theses": "none"}`)
		case 700:
			p.A = []byte(`{`)
		}
		ps = append(ps, p)
	}
	_, err := DiffRuns(context.Background(), jsonPairs{ps: ps}, 1, 2)
	if err == nil || !strings.Contains(err.Error(), "document 300 in run 2") {
		t.Errorf("error %v; want document 300's", err)
	}
	storeErr := errors.New("disk I/O error")
	_, err = DiffRuns(context.Background(), jsonPairs{ps: ps[:299], err: storeErr}, 1, 2)
	if !errors.Is(err, storeErr) {
		t.Errorf("error %v; want the store's", err)
	}
	rep, err := DiffRuns(context.Background(), jsonPairs{ps: ps[:299]}, 1, 2)
	if err != nil || len(rep.Documents) != 299 || rep.Summary.Compared != 299 {
		t.Fatalf("%v documents, %+v, %v", len(rep.Documents), rep.Summary, err)
	}
	for i, d := range rep.Documents {
		if d.DocumentID != int64(i+1) {
			t.Fatalf("document %d at %d: out of order", d.DocumentID, i)
		}
	}
}
