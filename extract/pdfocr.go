package extract

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
)

// The OCR modes Options.OCR accepts.
const (
	OCRAuto  = pdfdoc.OCRAuto  // OCR image-only pages when the engine is installed
	OCROff   = pdfdoc.OCROff   // never OCR
	OCRForce = pdfdoc.OCRForce // OCR every page of every PDF
)

// ocrPDF applies Options.OCR to what a PDF engine read: pd and err. An
// image-only PDF fails with an error that says why it was not OCRed: OCR
// is off, or the packages to install. A PDF with text on some pages keeps
// it when OCR of the others fails for any reason but a timeout, with a
// warning.
func ocrPDF(ctx context.Context, data []byte, pd *pdfdoc.Document, err error, o *Options) (*pdfdoc.Document, error) {
	mode := OCRAuto
	if o != nil && o.OCR != "" {
		mode = strings.ToLower(o.OCR)
	}
	noText := errors.Is(err, pdfdoc.ErrNoText)
	if err != nil && !noText {
		return pd, err
	}
	switch mode {
	case OCROff:
		if noText {
			return nil, fmt.Errorf("%w; OCR is off (--ocr off)", err)
		}
		return pd, nil
	case OCRAuto, OCRForce:
	default:
		return nil, fmt.Errorf("%w: OCR mode %q (want auto, off or force)", ErrUnsupported, o.OCR)
	}
	if noText {
		pd = nil
	}
	out, oerr := pdfdoc.OCR(ctx, data, pd, mode)
	switch {
	case oerr == nil:
		return out, nil
	case errors.Is(oerr, pdfdoc.ErrTimeout), errors.Is(oerr, pdfdoc.ErrNoText):
		return nil, oerr
	case noText:
		// Why the text-less PDF was not OCRed: the engine is missing, the
		// file needs a password poppler cannot be given, ...
		return nil, fmt.Errorf("%w; %w", err, oerr)
	case mode == OCRForce && errors.Is(oerr, pdfdoc.ErrNoOCR):
		return nil, fmt.Errorf("%w: --ocr force: %w", ErrUnsupported, oerr)
	case pd != nil && mode == OCRAuto && !errors.Is(oerr, pdfdoc.ErrTimeout):
		pd.Warnings = append(pd.Warnings, "pages without text not OCRed: "+oerr.Error())
		return pd, nil
	}
	return nil, oerr
}
