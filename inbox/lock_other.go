//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package inbox

import (
	"fmt"
	"os"
)

// lockDir opens dir/.lock; on this platform it does not exclude a second
// watcher, so run one watcher per inbox.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir+string(os.PathSeparator)+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}
