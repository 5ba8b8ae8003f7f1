package lazyre

import (
	"strings"
	"testing"
)

func TestNewCompilesOnceOnFirstCall(t *testing.T) {
	re := New(`a+b`)
	if !re().MatchString("xaab") {
		t.Fatal("a+b does not match xaab")
	}
	if re() != re() {
		t.Fatal("compiled twice")
	}
}

func TestCompileAllReportsBadExpression(t *testing.T) {
	New(`ok`)
	if n, err := CompileAll(); err != nil || n < 1 {
		t.Fatalf("CompileAll = %d, %v; want at least 1, nil", n, err)
	}
	bad := New(`(unclosed`)
	if _, err := CompileAll(); err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Fatalf("CompileAll with a bad expression: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a bad expression did not panic on first use")
		}
	}()
	bad()
}
