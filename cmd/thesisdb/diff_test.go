package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffOneSidedDocuments(t *testing.T) {
	noLLM(t)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	notesDir := notes(t, 3)
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", filepath.Join(notesDir, "note-01.txt"), filepath.Join(notesDir, "note-02.txt"))
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", notesDir)
	out, _ := mustCLI(t, 0, "--db", db, "diff", "--all", "1", "2")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "note-0") && !strings.HasSuffix(line, map[bool]string{true: "only in run 2", false: "only in run 1"}[strings.Contains(line, "note-03.txt")]) {
			t.Errorf("diff line %q", line)
		}
	}
	for _, want := range []string{"run 1 → run 2: 0 documents compared, 0 changed, 0 unchanged; 2 only in run 1, 1 only in run 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	mustCLI(t, 0, "--db", db, "reextract", "--force", "--extractor", "rules", "--run", "1")
	out, _ = mustCLI(t, 0, "--db", db, "diff", "1", "3")
	if !strings.Contains(out, "2 documents compared, 0 changed, 2 unchanged") {
		t.Errorf("same extractor twice:\n%s", out)
	}
	if _, stderr, code := cli(t, t.Context(), "--db", db, "diff", "1", "x"); code == 0 || !strings.Contains(stderr, "not a run id") {
		t.Errorf("bad run id: %d %s", code, stderr)
	}
}
