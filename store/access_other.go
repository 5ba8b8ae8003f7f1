//go:build !unix

package store

import "os"

// accessible reports whether path exists; permissions are not checked on
// this platform.
func accessible(path string, _ uint32) bool {
	_, err := os.Stat(path)
	return err == nil
}
