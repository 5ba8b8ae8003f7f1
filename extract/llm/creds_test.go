package llm

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
)

// A base URL with a user name and password works, and the password shows
// in no log line, description or error.
func TestBaseURLCredentialsAreNeverShown(t *testing.T) {
	const pw = "b4se-pa55word"
	srv := llmtest.New(t)
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Completion(answer(t, "small_caps.answer.json")) })
	withCreds := strings.Replace(srv.BaseURL(), "http://", "http://proxyuser:"+pw+"@", 1)
	e, logs := newExtractor(t, srv, func(c *Config) { c.BaseURL = withCreds })
	if _, err := e.Extract(context.Background(), loadDoc(t, "small_caps.txt")); err != nil {
		t.Fatal(err)
	}
	if srv.Calls() != 1 {
		t.Fatalf("%d calls, want 1", srv.Calls())
	}

	// A server that is gone: the connection error names the URL.
	dead := httptest.NewServer(nil)
	deadURL := strings.Replace(dead.URL, "http://", "http://proxyuser:"+pw+"@", 1) + "/v1"
	dead.Close()
	e2, logs2 := newExtractor(t, srv, func(c *Config) { c.BaseURL = deadURL; c.MaxRetries = 1 })
	_, err := e2.Extract(context.Background(), loadDoc(t, "small_caps.txt"))
	if err == nil {
		t.Fatal("extraction against a closed server succeeded")
	}
	_, badErr := New(Config{BaseURL: "http://proxyuser:" + pw + "@host:port/v1"})
	if badErr == nil {
		t.Fatal("a base URL with a bad port was accepted")
	}
	for what, s := range map[string]string{
		"config":        fmt.Sprint(e.cfg),
		"config %#v":    fmt.Sprintf("%#v", e.cfg),
		"log":           logs.String(),
		"log (dead)":    logs2.String(),
		"error (dead)":  err.Error(),
		"error (parse)": badErr.Error(),
	} {
		if strings.Contains(s, pw) {
			t.Errorf("%s shows the password: %s", what, s)
		}
	}
	if !strings.Contains(fmt.Sprint(e.cfg), "proxyuser:xxxxx@") {
		t.Errorf("config does not show the redacted URL: %v", e.cfg)
	}
}
