//go:build !linux

package inbox

import (
	"errors"
	"os"
	"syscall"
)

// errNoAtomicNoReplace means the platform cannot rename without replacing
// atomically; the caller checks and renames under a lock.
var errNoAtomicNoReplace = errors.New("no atomic no-replace rename")

func renameNoReplace(src, dst string) error { return errNoAtomicNoReplace }

// isCrossDevice reports whether a rename failed because src and dst are on
// different file systems.
func isCrossDevice(err error) bool {
	var le *os.LinkError
	return errors.As(err, &le) && errors.Is(le.Err, syscall.EXDEV)
}
