package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestExtractionPairs(t *testing.T) {
	ctx := context.Background()
	db, r1, r2 := jobFixture(t)
	var got []string
	err := db.ExtractionPairs(ctx, r1, r2, func(p ExtractionPair) error {
		s := p.Source + ":"
		if p.A != nil {
			s += "A=" + string(p.A.Theses[0].Stance)
		}
		if p.B != nil {
			s += "B=" + string(p.B.Theses[0].Stance)
		}
		got = append(got, s)
		return nil
	})
	want := []string{"note-1.txt:A=bullishB=bearish", "note-2.txt:A=bullish", "note-4.txt:A=bullish"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("pairs = %v, %v; want %v", got, err, want)
	}
	if err := db.ExtractionPairs(ctx, r1, 42, func(ExtractionPair) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("pairs with a missing run: %v", err)
	}
}
