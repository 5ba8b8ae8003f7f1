package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
)

// NewRaw wraps a body fetched from source (a URL) elsewhere, with the
// Content-Type it came with, as Read would have returned it: the kind
// from the header, else the URL's extension, else the bytes; the loaders'
// limits apply (MaxFetchBytes).
func NewRaw(source, contentType string, data []byte, o *Options) (*Raw, error) {
	limit := int64(25_000_000)
	if o != nil && o.MaxFetchBytes > 0 {
		limit = o.MaxFetchBytes
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("load %s: %w", RedactURL(source), errorf(ErrTooLarge, "%d bytes, the limit is %d", len(data), limit))
	}
	path := source
	if u, err := url.Parse(source); err == nil {
		path = u.Path
	}
	kind := kindOfContent(contentType, path, data)
	if kind == "" {
		return nil, fmt.Errorf("load %s: %w", RedactURL(source), errorf(ErrUnsupported, "content type %q", contentType))
	}
	sum := sha256.Sum256(data)
	return &Raw{Kind: kind, Source: StripUserinfo(source), Data: data, SHA256: hex.EncodeToString(sum[:]),
		opts: withContentType(o, contentType)}, nil
}
