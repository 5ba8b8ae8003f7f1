package rules

import (
	"regexp"
	"sync"
)

// lazyRegexps lists every expression lazyRegexp made, for the test that
// compiles them all.
var lazyRegexps []func() *regexp.Regexp

// lazyRegexp returns a function that compiles expr on its first call and
// returns the same Regexp after. Every thesisdb process links this package
// (a query, each parsing worker) but few extract with it, so its
// expressions are not compiled at process start.
func lazyRegexp(expr string) func() *regexp.Regexp {
	f := sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
	lazyRegexps = append(lazyRegexps, f)
	return f
}
