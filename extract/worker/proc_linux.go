package worker

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// setProcAttr puts the worker in a process group of its own, so that
// killing it kills what it started (pdftotext), and makes the kernel kill
// it if thesisdb dies first.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the worker's process group.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		p.Kill()
	}
}

// limitMemory caps the address space of process pid at what it has now
// plus bytes: past it, allocations fail inside the worker, whose runtime
// then dies ("out of memory", "failed to reserve ... memory").
func limitMemory(pid int, bytes int64) error {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return err
	}
	var size int64 = -1
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return fmt.Errorf("read VmSize of %d: %w", pid, err)
			}
			size = kb << 10
		}
	}
	if size < 0 {
		return fmt.Errorf("no VmSize for process %d", pid)
	}
	lim := unix.Rlimit{Cur: uint64(size + bytes), Max: uint64(size + bytes)}
	return unix.Prlimit(pid, unix.RLIMIT_AS, &lim, nil)
}
