// Package worker decodes untrusted documents in child processes, so that a
// parser that exhausts memory, loops forever or crashes the Go runtime
// (which recover cannot catch) costs one document, not the process.
//
// A Pool re-executes the running binary in worker mode and keeps a few
// such workers warm. Each document goes to one worker over a pipe, with a
// deadline enforced by the parent (the worker is killed when it passes)
// and, on Linux, a hard cap on the worker's address space (RLIMIT_AS, set
// by the parent with prlimit). A worker that is killed, crashes or runs out
// of memory becomes a per-document *Error naming the cause, and is
// replaced; nothing is left running in the parent.
//
// Importing this package is what makes a binary able to serve as a worker:
// its init function takes over a process started by a Pool, before main or
// TestMain run.
package worker

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/schema"
)

// envWorker marks a process started by a Pool; its value is the memory
// limit, in bytes, the Go runtime should aim to stay under (GOMEMLIMIT
// semantics: a soft goal, the hard cap is the parent's rlimit).
const envWorker = "THESISDB_WORKER"

func init() {
	v, ok := os.LookupEnv(envWorker)
	if !ok {
		return
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		debug.SetMemoryLimit(n)
		// A fresh worker's live heap is a few MiB, so at GOGC=100 it
		// collects every few MiB a parser allocates (far more often than
		// a parent holding its inputs): let the heap grow to 5x its live
		// size, the memory limit above still bounding it.
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(workerGOGC)
		}
	}
	os.Exit(serve(context.Background(), os.Stdin, os.Stdout))
}

// workerGOGC is a worker's GOGC unless the environment sets one.
const workerGOGC = 400

// response is a worker's answer to one request.
type response struct {
	Doc *schema.Document
	// Err is the decoding error's message; Is names the sentinels it
	// matches (see sentinels), so callers can still branch with errors.Is.
	Err string
	Is  []string
	// Retire asks the parent to replace this worker: a parse left a
	// goroutine running that may never stop.
	Retire bool
}

// sentinels are the errors callers branch on, by the name they travel
// under between processes.
var sentinels = map[string]error{
	"unsupported":     extract.ErrUnsupported,
	"empty":           extract.ErrEmpty,
	"binary":          extract.ErrBinary,
	"too-large":       extract.ErrTooLarge,
	"pdf-not-pdf":     pdfdoc.ErrNotPDF,
	"pdf-corrupt":     pdfdoc.ErrCorrupt,
	"pdf-encrypted":   pdfdoc.ErrEncrypted,
	"pdf-no-text":     pdfdoc.ErrNoText,
	"pdf-no-ocr":      pdfdoc.ErrNoOCR,
	"pdf-unsupported": pdfdoc.ErrUnsupported,
	"pdf-timeout":     pdfdoc.ErrTimeout,
	"deadline":        context.DeadlineExceeded,
}

// serve answers requests read from r on w until r ends; it returns the
// process's exit status.
func serve(ctx context.Context, r io.Reader, w io.Writer) int {
	dec := gob.NewDecoder(bufio.NewReader(r))
	bw := bufio.NewWriter(w)
	enc := gob.NewEncoder(bw)
	if err := bw.WriteByte(readyByte); err != nil || bw.Flush() != nil {
		return 1
	}
	for {
		var q extract.Request
		if err := dec.Decode(&q); err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintln(os.Stderr, "thesisdb worker: read request:", err)
			return 1
		}
		var resp response
		doc, err := q.Decode(ctx)
		if err != nil {
			resp.Err = err.Error()
			for name, s := range sentinels {
				if errors.Is(err, s) {
					resp.Is = append(resp.Is, name)
				}
			}
		} else {
			resp.Doc = doc
		}
		resp.Retire = pdfdoc.Abandoned() > 0
		if err := enc.Encode(&resp); err != nil {
			fmt.Fprintln(os.Stderr, "thesisdb worker: write response:", err)
			return 1
		}
		if err := bw.Flush(); err != nil {
			return 1
		}
		if resp.Retire {
			return 0
		}
	}
}

// decodeError is a decoding error as a worker reported it: the same
// message, matching the same sentinels.
type decodeError struct {
	msg string
	is  []error
}

func (e *decodeError) Error() string { return e.msg }

func (e *decodeError) Is(target error) bool {
	for _, s := range e.is {
		if s == target {
			return true
		}
	}
	return false
}

func (r *response) err() error {
	if r.Err == "" {
		return nil
	}
	e := &decodeError{msg: r.Err}
	for _, name := range r.Is {
		if s, ok := sentinels[name]; ok {
			e.is = append(e.is, s)
		}
	}
	return e
}
