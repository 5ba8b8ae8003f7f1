package pdfdoc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// errOutputLimit means an external tool wrote more than its output cap.
var errOutputLimit = errors.New("output larger than the limit")

// toolResult is what an external tool printed.
type toolResult struct {
	stdout []byte
	stderr string
}

// runTool runs an external tool (pdftotext, pdftoppm, tesseract, ...) with
// stdin as its input under ctx: it is killed when ctx ends, and when its
// standard output passes maxOut bytes (its pipe is closed, so it stops).
// env adds variables to the inherited environment. A failure after ctx
// ended wraps ErrTimeout; one past the output cap wraps errOutputLimit;
// any other failure is the *exec.ExitError (or start error) with the
// tool's standard error in the result.
func runTool(ctx context.Context, stdin []byte, maxOut int, env []string, name string, args ...string) (toolResult, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	if len(env) > 0 {
		cmd.Env = append(cmd.Environ(), env...)
	}
	// Grandchildren that keep the pipes open must not hold Wait forever.
	cmd.WaitDelay = 2 * time.Second
	out := &capped{max: maxOut}
	stderr := &capped{max: 64 << 10, drop: true}
	cmd.Stdout, cmd.Stderr = out, stderr
	err := cmd.Run()
	res := toolResult{stdout: out.buf.Bytes(), stderr: strings.TrimSpace(stderr.buf.String())}
	switch {
	case err == nil && !out.over:
		return res, nil
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s: %w: %w", name, ErrTimeout, ctx.Err())
	case out.over:
		return res, fmt.Errorf("%s: %w (%d bytes)", name, errOutputLimit, maxOut)
	}
	return res, err
}

// capped keeps at most max bytes. Past them it fails the write, which
// makes exec close the pipe the tool writes to, or with drop set it
// discards the rest (for standard error, which only explains a failure).
type capped struct {
	buf  bytes.Buffer
	max  int
	over bool
	drop bool
}

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		c.buf.Write(p[:max(0, c.max-c.buf.Len())])
		if c.drop {
			return len(p), nil
		}
		c.over = true
		return 0, errOutputLimit
	}
	return c.buf.Write(p)
}
