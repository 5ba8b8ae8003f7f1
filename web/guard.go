package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Names of the cookies, header and form field the guard reads.
const (
	tokenCookie = "thesisdb_token"
	tokenHeader = "X-Thesisdb-Token"
	csrfCookie  = "thesisdb_csrf"
	// CSRFField is the form field (and CSRFHeader the header) that carries
	// the CSRF token on a POST.
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// contentSecurityPolicy allows only the server's own scripts, styles and
// requests: no inline script or style, no plugins, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// guard wraps h with the checks every request passes: security headers,
// the Host check (without a token), the access token (with one), and the
// CSRF check of every request that is not GET or HEAD.
func (s *Server) guard(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.Token == "" {
			// Without a token the only protection is that nothing but
			// this machine reaches the server; a page elsewhere could
			// still make a browser here send requests to a name it
			// resolves to 127.0.0.1 (DNS rebinding), so the Host must be
			// a loopback name.
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if !isLoopbackHost(host) {
				http.Error(w, "forbidden: this server answers only requests to a loopback host (localhost, 127.0.0.1, [::1]); start it with a token to serve other names", http.StatusForbidden)
				return
			}
		} else if !s.checkToken(w, r) {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := cop.Check(r); err != nil {
				http.Error(w, "forbidden: cross-origin request refused", http.StatusForbidden)
				return
			}
			if err := s.checkCSRF(r); err != nil {
				http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// checkToken accepts a request carrying the access token as a bearer
// token, in X-Thesisdb-Token, or in the cookie; ?token= sets the cookie
// and redirects to the same URL without it, so the token does not stay in
// the address bar or history. Otherwise it answers 401 and returns false.
func (s *Server) checkToken(w http.ResponseWriter, r *http.Request) bool {
	want := []byte(s.cfg.Token)
	ok := func(got string) bool { return got != "" && subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	if q := r.URL.Query(); q.Has("token") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if !ok(q.Get("token")) {
			http.Error(w, "unauthorized: wrong token", http.StatusUnauthorized)
			return false
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.cfg.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return false
	}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") && ok(strings.TrimPrefix(auth, "Bearer ")) {
		return true
	}
	if ok(r.Header.Get(tokenHeader)) {
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && ok(c.Value) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="thesisdb"`)
	http.Error(w, "unauthorized: this server needs its access token: open it once with ?token=TOKEN, or send Authorization: Bearer TOKEN", http.StatusUnauthorized)
	return false
}

// csrfKey signs CSRF tokens; it is made afresh by every process, so a
// restart invalidates the forms open in browsers.
type csrfKey struct{ key []byte }

func newCSRFKey() (*csrfKey, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("web: CSRF key: %w", err)
	}
	return &csrfKey{k}, nil
}

func (k *csrfKey) sign(id string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte("csrf:" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CSRFToken returns the token a form posted from this response must carry
// in its CSRFField (or a script in the CSRFHeader): a signature of the
// browser's CSRF cookie, which it sets when missing. Call it before the
// response's body is written.
func (s *Server) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 22 {
		return s.csrf.sign(c.Value)
	}
	b := make([]byte, 18)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	// The cookie is read by this request's later calls too.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: id})
	return s.csrf.sign(id)
}

// errCSRF is why a request failed the CSRF check.
var errCSRF = errors.New("missing or invalid CSRF token: reload the page and submit again")

// checkCSRF accepts a request whose CSRF token (form field or header)
// signs its CSRF cookie.
func (s *Server) checkCSRF(r *http.Request) error {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return errCSRF
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	if got == "" || !hmac.Equal([]byte(got), []byte(s.csrf.sign(c.Value))) {
		return errCSRF
	}
	return nil
}
