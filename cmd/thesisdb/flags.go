package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/extract/worker"
)

// extractFlags are the settings shared by every command that extracts:
// ingest, watch and reextract.
type extractFlags struct {
	kind           string
	concurrency    int
	force          bool
	dropUngrounded bool
	pdfEngine      string
	ocr            string
	maxFetchBytes  int64
	docTimeout     time.Duration
	docMemory      sizeFlag
	maxDataPoints  int
	llm            llmFlags
}

func (f *extractFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.kind, "extractor", "auto", "rules (offline), llm, or auto: llm when OPENAI_API_KEY or OPENAI_BASE_URL is set, else rules")
	fs.IntVar(&f.concurrency, "concurrency", 4, "documents processed at once")
	fs.BoolVar(&f.force, "force", false, "extract again documents already stored or already extracted the same way")
	fs.BoolVar(&f.dropUngrounded, "drop-ungrounded", false, "drop data points whose quote or figures are not found in the document")
	f.registerLoad(cmd)
	fs.IntVar(&f.maxDataPoints, "max-data-points", rules.DefaultMaxDataPoints, "rules extractor: data points kept per document (a warning is stored on documents that state more)")
	f.llm.register(cmd)
}

// registerLoad adds the flags of reading and parsing documents.
func (f *extractFlags) registerLoad(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.pdfEngine, "pdf-engine", "auto", "PDF text engine: auto (builtin, falling back to pdftotext when installed), builtin or pdftotext; env "+pdfPasswordEnv+" opens password-protected PDFs")
	fs.StringVar(&f.ocr, "ocr", extract.OCRAuto, "OCR of scanned PDF pages: auto (pages with no text that draw images, when tesseract and poppler-utils are installed), off, or force (every page)")
	fs.Int64Var(&f.maxFetchBytes, "max-fetch-bytes", 25_000_000, "size limit for documents fetched from URLs")
	fs.DurationVar(&f.docTimeout, "doc-timeout", time.Minute, "time limit for reading and parsing one document; a parser still running then is killed and the document fails")
	f.docMemory = sizeFlag(worker.DefaultMemory)
	fs.Var(&f.docMemory, "doc-memory", "memory a document's parser may use (e.g. 512MiB, 2GiB); past it the parser is stopped and the document fails")
}

// pdfPasswordEnv names the variable holding the user password of
// encrypted PDFs: a secret, so not a flag that ps would show.
const pdfPasswordEnv = "THESISDB_PDF_PASSWORD"

// loadOptions returns the loader settings, refusing a bad --pdf-engine
// before any document is read. Documents are parsed by sb, the app's
// worker processes, unless it is nil.
func (f *extractFlags) loadOptions(sb extract.Sandbox) (*extract.Options, error) {
	switch f.pdfEngine {
	case extract.PDFEngineAuto, extract.PDFEngineBuiltin, extract.PDFEnginePdftotext:
	default:
		return nil, fmt.Errorf("--pdf-engine %q: want auto, builtin or pdftotext", f.pdfEngine)
	}
	switch f.ocr {
	case extract.OCRAuto, extract.OCROff, extract.OCRForce:
	default:
		return nil, fmt.Errorf("--ocr %q: want auto, off or force", f.ocr)
	}
	if f.maxFetchBytes <= 0 {
		return nil, fmt.Errorf("--max-fetch-bytes must be positive")
	}
	if f.docTimeout <= 0 {
		return nil, fmt.Errorf("--doc-timeout must be positive")
	}
	if f.docMemory < 64<<20 {
		return nil, fmt.Errorf("--doc-memory %s: a parser needs at least 64MiB", f.docMemory)
	}
	return &extract.Options{PDFEngine: f.pdfEngine, OCR: f.ocr, MaxFetchBytes: f.maxFetchBytes, PDFPassword: os.Getenv(pdfPasswordEnv),
		Timeout: f.docTimeout, Sandbox: sb}, nil
}

// extractor builds the extractor the flags ask for and logs which.
func (f *extractFlags) extractor(log *slog.Logger) (extract.Extractor, error) {
	if f.concurrency < 1 {
		return nil, fmt.Errorf("--concurrency must be at least 1")
	}
	if _, err := f.loadOptions(nil); err != nil {
		return nil, err
	}
	mode := f.kind
	if mode == "auto" {
		mode = "rules"
		if f.llm.configured() {
			mode = "llm"
		}
	}
	switch mode {
	case "rules":
		if f.maxDataPoints < 1 {
			return nil, fmt.Errorf("--max-data-points must be at least 1")
		}
		log.Info("extracting with the offline rules extractor", "why", f.why())
		return rules.New(rules.WithMaxDataPoints(f.maxDataPoints)), nil
	case "llm":
		return f.llm.extractor(log)
	}
	return nil, fmt.Errorf("--extractor %q: want rules, llm or auto", f.kind)
}

func (f *extractFlags) why() string {
	if f.kind == "auto" {
		return "no OPENAI_API_KEY or OPENAI_BASE_URL set"
	}
	return "--extractor " + f.kind
}
