// Command rsswrap runs a command and prints its peak resident memory in
// KiB and its CPU time (user and system) in microseconds, as the kernel
// accounts them, on one line of standard output; the command's standard
// error passes through and its exit status is rsswrap's.
//
// The start-up benchmark measures through it because Linux carries the
// memory high-water mark of the process that calls exec into the new
// program's: a program started directly by a large test process reports
// that process's peak, not its own.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rsswrap COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "rsswrap:", err)
		os.Exit(2)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "rsswrap: no resource usage")
		os.Exit(2)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	fmt.Printf("%d %d\n", ru.Maxrss, cpu.Microseconds())
	os.Exit(cmd.ProcessState.ExitCode())
}
