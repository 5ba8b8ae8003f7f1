package pdfdoc

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// filingsDir holds real SEC filings with annotated table rows and evidence
// passages (see its README); it sits beside the project and is absent from
// a plain clone.
const filingsDir = "../../../shared/corpora/filings"

// filing is one PDF of the filings corpus.
type filing struct {
	Name string
	Data []byte
}

// filings reads the filings corpus in name order, skipping the test or
// benchmark when the corpus is absent.
func filings(tb testing.TB) []filing {
	tb.Helper()
	paths, _ := filepath.Glob(filepath.Join(filingsDir, "*.pdf"))
	if len(paths) == 0 {
		tb.Skip("filings corpus not present")
	}
	sort.Strings(paths)
	out := make([]filing, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, filing{Name: filepath.Base(p), Data: data})
	}
	return out
}
