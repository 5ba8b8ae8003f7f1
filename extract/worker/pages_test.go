package worker

import (
	"context"
	"reflect"
	"testing"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

// A PDF's page starts cross the worker boundary with its text.
func TestWorkerKeepsPageStarts(t *testing.T) {
	d := &pdfgen.Doc{}
	d.NewPage().Text(pdfgen.Regular, 11, 72, 700, "Page one says margins rose to 60%.")
	d.NewPage()
	d.NewPage().Text(pdfgen.Regular, 11, 72, 700, "Page three says capex is $20 billion.")
	q := request(t, "pdf", string(d.Bytes()))
	want, err := q.Decode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(want.PageStarts) != 3 {
		t.Fatalf("in process: PageStarts = %v for 3 pages", want.PageStarts)
	}
	p := newPool(t, &Pool{Size: 1})
	got, err := p.Decode(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != want.Text || !reflect.DeepEqual(got.PageStarts, want.PageStarts) {
		t.Errorf("worker decoded text %q pages %v; in process %q pages %v", got.Text, got.PageStarts, want.Text, want.PageStarts)
	}
}
