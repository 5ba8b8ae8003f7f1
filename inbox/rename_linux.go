package inbox

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

// errNoAtomicNoReplace means the file system cannot rename without
// replacing atomically; the caller checks and renames under a lock.
var errNoAtomicNoReplace = errors.New("no atomic no-replace rename")

// renameNoReplace renames src to dst unless dst exists (fs.ErrExist), in
// one atomic step with renameat2(RENAME_NOREPLACE).
func renameNoReplace(src, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fs.ErrExist
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.ENOTSUP):
		return errNoAtomicNoReplace // old kernel or a file system without the flag
	}
	return &fs.PathError{Op: "rename", Path: src, Err: err}
}

// isCrossDevice reports whether a rename failed because src and dst are on
// different file systems.
func isCrossDevice(err error) bool { return errors.Is(err, unix.EXDEV) }
