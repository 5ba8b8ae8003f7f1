package llm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/thesisdb/thesisdb/extract"
)

// Errors the pipeline can branch on with errors.Is. The error returned for
// a document wraps one of them (and, for ErrInvalidOutput, the
// *schema.ValidationError) with the details.
var (
	// ErrQuotaExceeded means the account has no credit left (429
	// insufficient_quota): retrying cannot help, the run should stop.
	ErrQuotaExceeded error = abortError("quota exceeded")
	// ErrRateLimited means the server still answered 429 after every retry.
	ErrRateLimited = errors.New("rate limited")
	// ErrAuth means the server refused the credentials (401 or 403).
	ErrAuth error = abortError("not authorised")
	// ErrBadRequest means the server rejected the request (400, 404, ...);
	// retrying the same request cannot help.
	ErrBadRequest = errors.New("request rejected")
	// ErrUnsupportedFormat means the server does not support the output
	// mode asked for (a 400 about response_format or tools).
	ErrUnsupportedFormat = errors.New("output mode not supported by the server")
	// ErrServerSchema means the server could not compile the extraction
	// JSON Schema into its output grammar (llama.cpp answers 500 "JSON
	// schema conversion failed"); it is permanent for that mode.
	ErrServerSchema = errors.New("server cannot compile the JSON Schema")
	// ErrServer means the server kept failing (5xx) after every retry.
	ErrServer = errors.New("server error")
	// ErrTimeout means a request took longer than Config.Timeout on every
	// attempt.
	ErrTimeout = errors.New("request timed out")
	// ErrRefused means the model declined to answer (a refusal).
	ErrRefused = errors.New("model refused")
	// ErrContentFiltered means the provider's content filter stopped the
	// answer (finish_reason content_filter).
	ErrContentFiltered = errors.New("answer blocked by the content filter")
	// ErrTruncated means the answer hit the output token limit
	// (finish_reason length) even on the smallest part of the document.
	ErrTruncated = errors.New("answer truncated at the output token limit")
	// ErrInvalidOutput means the answer failed validation twice; the error
	// also wraps the *schema.ValidationError (or the JSON syntax error).
	ErrInvalidOutput = errors.New("invalid model output")
	// ErrNoToolCall means a tools-mode answer called no function: the
	// server does not force tool calls.
	ErrNoToolCall = errors.New("no tool call in the answer")
	// ErrNeedsJinja means llama-server refused tools because it was not
	// started with --jinja; every request would fail the same way.
	ErrNeedsJinja error = abortError("llama-server needs --jinja for tools")
)

// abortError is a sentinel that also matches extract.ErrAbortRun, so the
// pipeline stops the run instead of failing every remaining document.
type abortError string

func (e abortError) Error() string        { return string(e) }
func (e abortError) Is(target error) bool { return target == extract.ErrAbortRun }

// redacted hides a secret that may have been echoed in an error message
// (some servers quote the API key they were given). The error chain is
// cut to the sentinel errors of this package, so that no wrapped error
// can print the secret either.
type redacted struct {
	msg   string
	kinds []error
}

func (e *redacted) Error() string   { return e.msg }
func (e *redacted) Unwrap() []error { return e.kinds }

var sentinels = []error{ErrQuotaExceeded, ErrRateLimited, ErrAuth, ErrBadRequest, ErrUnsupportedFormat,
	ErrServerSchema, ErrServer, ErrTimeout, ErrRefused, ErrContentFiltered, ErrTruncated, ErrInvalidOutput,
	ErrNoToolCall, ErrNeedsJinja, ErrUnreachable, ErrContextTooSmall}

// redact returns err with every occurrence of secret replaced.
func redact(err error, secret string) error {
	if err == nil || len(secret) < 4 || !strings.Contains(err.Error(), secret) {
		return err
	}
	r := &redacted{msg: strings.ReplaceAll(err.Error(), secret, "[REDACTED]")}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			r.kinds = append(r.kinds, s)
		}
	}
	return r
}

// truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d bytes more)", len(s)-n)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
