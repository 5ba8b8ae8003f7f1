package worker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
)

// TestSiteRulesCrossTheWorker checks that a source's site rules reach the
// HTML loader in a worker process: the note below sits beside a longer
// commentary block the generic extractor prefers.
func TestSiteRulesCrossTheWorker(t *testing.T) {
	page := `<html><head><title>Portal</title></head><body><div class="wide">` +
		strings.Repeat("<p>Market wrap: equities drifted as traders weighed central bank speeches, oil inventories and the earnings outlook, on thin volumes.</p>", 12) +
		`</div><div class="narrow"><h2 class="nt">Utilities: Rate Relief Is Priced In</h2><div class="nb"><p>We downgrade utilities to neutral at 17 times forward earnings.</p><p class="legal">Not advice.</p></div></div></body></html>`
	name := filepath.Join(t.TempDir(), "note.html")
	if err := os.WriteFile(name, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	rules := extract.SiteRules{Content: ".nb", Title: ".nt", Remove: []string{".legal"}}
	p := newPool(t, &Pool{Size: 1})
	for _, withRules := range []bool{false, true} {
		o := &extract.Options{Timeout: 20 * time.Second}
		if withRules {
			o.Site = rules
		}
		raw, err := extract.Read(context.Background(), name, o)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := p.Decode(context.Background(), raw.Request())
		if err != nil {
			t.Fatalf("rules %v: %v", withRules, err)
		}
		ruled := doc.Text == "We downgrade utilities to neutral at 17 times forward earnings." && doc.Title == "Utilities: Rate Relief Is Priced In"
		if ruled != withRules {
			t.Errorf("rules %v: worker decoded title %q, text:\n%s", withRules, doc.Title, doc.Text)
		}
	}
}
