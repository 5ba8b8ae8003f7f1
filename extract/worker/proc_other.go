//go:build !linux

package worker

import (
	"os"
	"os/exec"
)

// setProcAttr does nothing here: only Linux gets process groups tied to
// the parent's life.
func setProcAttr(cmd *exec.Cmd) {}

// killGroup kills the worker.
func killGroup(p *os.Process) { p.Kill() }

// limitMemory does nothing here: only the deadline and the worker's own
// soft memory limit apply.
func limitMemory(pid int, bytes int64) error { return nil }
