package extract

import (
	"context"
	"errors"
	"fmt"

	"github.com/thesisdb/thesisdb/extract/htmldoc"
	"github.com/thesisdb/thesisdb/schema"
)

func init() {
	register("html", loadHTML, ".html", ".htm", ".xhtml")
}

// loadHTML decodes a web page into its main text and metadata.
func loadHTML(ctx context.Context, data []byte, doc *schema.Document, o *Options) error {
	opts := &htmldoc.Options{ContentType: o.ContentType()}
	if o != nil && !o.Site.IsZero() {
		r := o.Site
		opts.Rules = &htmldoc.Rules{Content: r.Content, Title: r.Title, Author: r.Author, Date: r.Date, Remove: r.Remove}
	}
	if IsURL(doc.Source) {
		opts.URL = doc.Source
	}
	res, err := htmldoc.Parse(ctx, data, opts)
	switch {
	case errors.Is(err, htmldoc.ErrBinary):
		return errorf(ErrBinary, "%v", err)
	case errors.Is(err, htmldoc.ErrEmpty):
		return errorf(ErrEmpty, "%v", err)
	case err != nil:
		return fmt.Errorf("html: %w", err)
	}
	doc.Text = CleanText(res.Text)
	doc.Title = res.Title
	doc.Author = res.Author
	doc.Published = res.Published
	doc.SiteName = res.SiteName
	doc.CanonicalURL = res.Canonical
	doc.Warnings = append(doc.Warnings, res.Warnings...)
	return nil
}
