package extract

import (
	"net/url"
	"strings"
)

// StripUserinfo returns src without the user name and password of an
// http(s) URL ("http://user:pw@host/x" becomes "http://host/x"): the form
// in which a URL is stored as a document's or a failure's source. Paths
// and URLs without credentials are returned unchanged.
func StripUserinfo(src string) string {
	if !IsURL(src) {
		return src
	}
	u, err := url.Parse(src)
	if err != nil {
		return hideUserinfo(src, "")
	}
	if u.User == nil {
		return src
	}
	u.User = nil
	return u.String()
}

// RedactURL returns src with the password of a URL replaced by "xxxxx"
// (url.URL.Redacted), for logs and error messages about an http(s) URL. A user name without a
// password is often a token, so it is replaced too, as is the whole user
// information of a URL that does not parse. Anything else is unchanged.
func RedactURL(src string) string {
	if !IsURL(src) {
		return src
	}
	u, err := url.Parse(src)
	if err != nil {
		return hideUserinfo(src, "xxxxx@")
	}
	if u.User == nil {
		return src
	}
	if _, ok := u.User.Password(); !ok {
		u.User = url.User("xxxxx")
	}
	return u.Redacted()
}

// hideUserinfo replaces what stands between "://" and the last "@" of the
// authority with repl, for strings url.Parse refuses.
func hideUserinfo(s, repl string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	return s[:i+3] + repl + rest[at+1:]
}
