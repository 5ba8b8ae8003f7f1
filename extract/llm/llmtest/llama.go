package llmtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Llama is a real llama.cpp llama-server on loopback, serving the test
// model of ../shared/llm (relative to the project root): under a JSON
// grammar it answers the shortest valid object, deterministically.
type Llama struct {
	// URL is the server's root ("http://127.0.0.1:PORT").
	URL string

	cmd  *exec.Cmd
	log  *syncBuf
	once sync.Once
	done chan struct{}
}

// BaseURL is the API root to configure clients with ("<url>/v1").
func (l *Llama) BaseURL() string { return l.URL + "/v1" }

// Log returns what the server wrote so far.
func (l *Llama) Log() string { return l.log.String() }

// LlamaDir returns the folder holding llama-server and shortest.gguf, or
// "" when the project has no ../shared/llm beside it.
func LlamaDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared", "llm")
	for _, f := range []string{"llama-server", "shortest.gguf"} {
		if _, err := os.Stat(filepath.Join(shared, f)); err != nil {
			return ""
		}
	}
	return shared
}

// StartLlama starts llama-server with the test model on a free loopback
// port, one thread, and the given extra arguments (such as "-c", "4096",
// "-np", "2", "--jinja"); it waits until GET /health answers 200 and kills
// the server when the test ends. The test is skipped when ../shared/llm
// is absent.
func StartLlama(tb testing.TB, args ...string) *Llama {
	tb.Helper()
	dir := LlamaDir()
	if dir == "" {
		tb.Skip("no ../shared/llm (llama-server and its test model)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	all := append([]string{"-m", filepath.Join(dir, "shortest.gguf"), "--host", "127.0.0.1", "--port", strconv.Itoa(port), "-t", "1"}, args...)
	s := &Llama{URL: fmt.Sprintf("http://127.0.0.1:%d", port), log: &syncBuf{}, done: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(dir, "llama-server"), all...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start llama-server: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	tb.Cleanup(s.Kill)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(s.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			tb.Fatalf("llama-server exited at start:\n%s", s.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("llama-server not healthy after 30s (%v):\n%s", err, s.Log())
		}
	}
}

// Kill stops the server (by its pid) and waits until it has exited, so
// that its port refuses connections.
func (l *Llama) Kill() {
	l.once.Do(func() {
		if err := l.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return
		}
		<-l.done
	})
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
