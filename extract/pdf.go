package extract

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/schema"
)

func init() {
	register("pdf", loadPDF, ".pdf")
}

// The PDF engines Options.PDFEngine accepts.
const (
	PDFEngineAuto      = "auto"      // built-in, falling back to pdftotext
	PDFEngineBuiltin   = "builtin"   // github.com/ledongthuc/pdf only
	PDFEnginePdftotext = "pdftotext" // poppler's pdftotext, which must be on PATH
)

// loadPDF decodes a PDF with the engine the options select.
func loadPDF(ctx context.Context, data []byte, doc *schema.Document, o *Options) error {
	engine := PDFEngineAuto
	if o != nil && o.PDFEngine != "" {
		engine = strings.ToLower(o.PDFEngine)
	}
	var password string
	if o != nil {
		password = o.PDFPassword
	}
	popts := &pdfdoc.Options{Timeout: o.timeout(), Password: password}
	var (
		pd  *pdfdoc.Document
		err error
	)
	switch engine {
	case PDFEngineBuiltin:
		pd, err = pdfdoc.Extract(ctx, data, popts)
	case PDFEnginePdftotext:
		if !pdfdoc.PdftotextAvailable() {
			return fmt.Errorf("%w: PDF engine pdftotext: not found on PATH (install poppler-utils)", ErrUnsupported)
		}
		pd, err = pdfdoc.Pdftotext(ctx, data, password)
		if errors.Is(err, pdfdoc.ErrPdftotextPassword) {
			return fmt.Errorf("%w: PDF engine pdftotext: %w; use --pdf-engine builtin (or auto), which reads the password from THESISDB_PDF_PASSWORD", ErrUnsupported, err)
		}
		if err == nil {
			// Metadata comes from the built-in reader, when it can.
			if meta, merr := pdfdoc.Extract(ctx, data, popts); merr == nil {
				pd.Title, pd.Author, pd.Created = meta.Title, meta.Author, meta.Created
			}
		}
	case PDFEngineAuto:
		pd, err = pdfdoc.Extract(ctx, data, popts)
		// pdftotext never gets the password (see pdfdoc.Pdftotext), so a
		// file that needs one is not handed to it.
		var need *pdfdoc.EncryptedError
		needsPassword := errors.As(err, &need) && need.NeedsUserPassword
		if !needsPassword && fallback(pd, err) && pdfdoc.PdftotextAvailable() {
			alt, aerr := pdfdoc.Pdftotext(ctx, data, password)
			if aerr == nil && !pdfdoc.Garbled(alt.Text()) {
				if pd != nil {
					alt.Title, alt.Author, alt.Created = pd.Title, pd.Author, pd.Created
				}
				why := "it found no text"
				if err != nil {
					why = err.Error()
				} else if pd != nil {
					why = "its text looked garbled"
				}
				alt.Warnings = append(alt.Warnings, "built-in PDF reader failed ("+why+"): text from pdftotext")
				pd, err = alt, nil
			}
		}
	default:
		return fmt.Errorf("%w: PDF engine %q (want auto, builtin or pdftotext)", ErrUnsupported, o.PDFEngine)
	}
	pd, err = ocrPDF(ctx, data, pd, err, o)
	var ee *pdfdoc.EncryptedError
	if password != "" && errors.As(err, &ee) && ee.NeedsUserPassword {
		return fmt.Errorf("pdf: %w (the password given does not open it)", err)
	}
	if err != nil {
		return pdfError(err)
	}
	doc.Text, doc.PageStarts = PagedText(pd.Pages)
	doc.Title = pd.Title
	doc.Author = pd.Author
	doc.Published = pd.Created
	doc.Warnings = append(doc.Warnings, pd.Warnings...)
	if strings.TrimSpace(doc.Text) == "" {
		return fmt.Errorf("%w: %w", ErrEmpty, pdfdoc.ErrNoText)
	}
	return nil
}

// fallback reports whether the built-in result calls for pdftotext: an
// error other than one pdftotext cannot fix either, or garbled text.
func fallback(pd *pdfdoc.Document, err error) bool {
	if err != nil {
		// A file refused by the safety limits is not handed to another parser.
		return !errors.Is(err, pdfdoc.ErrNotPDF) && !errors.Is(err, pdfdoc.ErrTimeout) && !errors.Is(err, pdfdoc.ErrBusy) && !errors.Is(err, pdfdoc.ErrLimit)
	}
	return pdfdoc.Garbled(pd.Text())
}

// pdfError wraps pdfdoc's errors around the loaders' sentinels, keeping
// both in the chain for errors.Is.
func pdfError(err error) error {
	switch {
	case errors.Is(err, pdfdoc.ErrNoText):
		return fmt.Errorf("%w: %w", ErrEmpty, err)
	case errors.Is(err, pdfdoc.ErrNotPDF):
		return fmt.Errorf("%w: %w", ErrBinary, err)
	case errors.Is(err, pdfdoc.ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return fmt.Errorf("pdf: %w", err)
}
