package textscore

import "testing"

func TestWordRecall(t *testing.T) {
	for _, c := range []struct {
		got, truth string
		want       float64
	}{
		{"Revenue rose 12% to $4.1bn", "revenue ROSE 12%", 1},
		{"revenue", "revenue revenue", 0.5}, // each occurrence counts once
		{"", "two words", 0},
		{"anything", "", 0},
		{"net income | 3,100", "Net income 3,100 5,645", 4.0 / 6}, // digits split at the comma
	} {
		if got := WordRecall(c.got, c.truth); got != c.want {
			t.Errorf("WordRecall(%q, %q) = %v, want %v", c.got, c.truth, got, c.want)
		}
	}
}
