package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular means a path names something other than a regular file (a
// named pipe, socket, device or directory), which is never read: opening a
// named pipe would wait for a writer forever.
var ErrNotRegular = errors.New("not a regular file")

// FileType names a non-regular file mode for messages: "a named pipe
// (FIFO)", "a socket", "a device", "a directory", "a symbolic link".
func FileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "an irregular file"
}

func notRegular(m fs.FileMode) error {
	return fmt.Errorf("%w: it is %s", ErrNotRegular, FileType(m))
}

// openRegular opens path for reading only if it is a regular file (after
// following symbolic links). The type is checked before opening, and the
// open itself does not block (oNonblock), so that a file swapped for a
// named pipe in between is refused by the second check instead of hanging.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, notRegular(st.Mode())
	}
	return openNoWait(path)
}

// openNoWait opens path without blocking and keeps it open only if it is a
// regular file: the guard against a path swapped after it was checked.
func openNoWait(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(st.Mode())
	}
	return f, st, nil
}
