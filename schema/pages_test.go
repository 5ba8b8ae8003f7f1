package schema

import "testing"

func TestPageAt(t *testing.T) {
	// Page 1 is empty: it starts where page 2 does.
	d := &Document{PageStarts: []int{0, 0, 5, 9}}
	for _, c := range []struct{ char, page int }{{0, 2}, {4, 2}, {5, 3}, {8, 3}, {9, 4}, {1000, 4}, {-1, 0}} {
		if got := d.PageAt(c.char); got != c.page {
			t.Errorf("PageAt(%d) = %d, want %d", c.char, got, c.page)
		}
	}
	if got := (&Document{Text: "no pages"}).PageAt(3); got != 0 {
		t.Errorf("PageAt on a document without pages = %d, want 0", got)
	}
}
