package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	for _, c := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"127.0.0.2:0", "", true},
		{"[::1]:8080", "", true},
		{"localhost:8080", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"192.168.1.5:8080", "", false},
		{"example.com:80", "", false},
		{"0.0.0.0:8080", "s3cret", true},
		{":8080", "s3cret", true},
		{"8080", "", false},
	} {
		err := CheckAddr(c.addr, c.token)
		if (err == nil) != c.ok {
			t.Errorf("CheckAddr(%q, %q) = %v, want ok %v", c.addr, c.token, err, c.ok)
		}
		if err != nil && c.token == "" && strings.Contains(c.addr, ":") && !strings.Contains(err.Error(), "THESISDB_TOKEN") {
			t.Errorf("CheckAddr(%q): %v does not say how to give a token", c.addr, err)
		}
	}
}

func TestTokenRequired(t *testing.T) {
	f := newFixture(t, Config{Token: "s3cret-token"})
	do := func(req *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		return w
	}
	req := func(target string) *http.Request {
		return httptest.NewRequest("GET", "http://10.0.0.5:8080"+target, nil)
	}

	for _, path := range []string{"/", "/api/documents", "/api/query?sql=SELECT+1", "/static/app.js", "/documents/1"} {
		if w := do(req(path)); w.Code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, w.Code)
		}
	}
	r := req("/api/runs")
	r.Header.Set("Authorization", "Bearer wrong")
	if w := do(r); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong bearer token: %d", w.Code)
	}
	r = req("/api/runs")
	r.Header.Set("Authorization", "Bearer s3cret-token")
	if w := do(r); w.Code != 200 {
		t.Errorf("bearer token: %d", w.Code)
	}
	r = req("/api/runs")
	r.Header.Set(tokenHeader, "s3cret-token")
	if w := do(r); w.Code != 200 {
		t.Errorf("token header: %d", w.Code)
	}
	if w := do(req("/?token=nope")); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong ?token=: %d", w.Code)
	}
	// ?token= sets the cookie and drops the token from the URL.
	w := do(req("/?stance=bearish&token=s3cret-token"))
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || loc.Path != "/" || loc.Query().Get("stance") != "bearish" || loc.Query().Has("token") {
		t.Fatalf("?token=: %d Location %q", w.Code, w.Header().Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("token cookie %+v", cookie)
	}
	r = req(loc.String())
	r.AddCookie(cookie)
	if w := do(r); w.Code != 200 {
		t.Errorf("with the cookie: %d", w.Code)
	}
	r = req("/")
	r.AddCookie(&http.Cookie{Name: tokenCookie, Value: "s3cret-tokem"})
	if w := do(r); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong cookie: %d", w.Code)
	}
}

// Without a token, only requests to a loopback name are answered: a page
// on another site cannot read the server through a name it resolves to
// 127.0.0.1.
func TestLoopbackHostOnlyWithoutToken(t *testing.T) {
	f := newFixture(t, Config{})
	for host, want := range map[string]int{"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200, "127.0.0.1": 200,
		"evil.example:8080": 403, "evil.example": 403, "10.0.0.5:8080": 403} {
		req := httptest.NewRequest("GET", "/api/runs", nil)
		req.Host = host
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, Config{})
	// A page hands out the token and sets the cookie it signs.
	page := f.get("/")
	var cookie *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == csrfCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("CSRF cookie %+v", cookie)
	}
	m := regexp1(`data-csrf="([^"]+)"`, page.Body.String())
	if m == "" {
		t.Fatal("no CSRF token on the page")
	}
	// A second page with the cookie gives the same token.
	r := httptest.NewRequest("GET", "http://127.0.0.1:8080/runs", nil)
	r.AddCookie(cookie)
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, r)
	if got := regexp1(`data-csrf="([^"]+)"`, w.Body.String()); got != m {
		t.Errorf("token changed between pages: %q, %q", m, got)
	}
	post := func(form url.Values, withCookie bool, hdr ...string) int {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/csrf-probe", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			r.AddCookie(cookie)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, r)
		return w.Code
	}
	if c := post(url.Values{}, true); c != http.StatusForbidden {
		t.Errorf("POST without a token: %d", c)
	}
	if c := post(url.Values{CSRFField: {m}}, false); c != http.StatusForbidden {
		t.Errorf("POST without the cookie: %d", c)
	}
	if c := post(url.Values{CSRFField: {m + "x"}}, true); c != http.StatusForbidden {
		t.Errorf("POST with a wrong token: %d", c)
	}
	if c := post(url.Values{CSRFField: {m}}, true, "Sec-Fetch-Site", "cross-site"); c != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", c)
	}
	// Past the guard, the probe path has no handler.
	if c := post(url.Values{CSRFField: {m}}, true); c == http.StatusForbidden {
		t.Errorf("POST with the token refused")
	}
	if c := post(url.Values{}, true, CSRFHeader, m); c == http.StatusForbidden {
		t.Errorf("POST with the token in %s refused", CSRFHeader)
	}
	// Another server (another process) does not accept this one's tokens.
	g := newFixture(t, Config{})
	r = httptest.NewRequest("POST", "http://127.0.0.1:8080/csrf-probe", strings.NewReader(url.Values{CSRFField: {m}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(cookie)
	w = httptest.NewRecorder()
	g.srv.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("another process's token accepted: %d", w.Code)
	}
}

func regexp1(re, s string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
