package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// BatchExtractor is an extractor that can also go through OpenAI's Batch
// API: a request line per document, submitted in batches whose results
// are collected later.
type BatchExtractor interface {
	extract.Extractor
	BatchLine(customID string, doc *schema.Document) ([]byte, bool, error)
	SubmitBatches(ctx context.Context, name string, lines [][]byte) ([]llm.BatchInfo, error)
	Batch(ctx context.Context, id string) (llm.BatchInfo, error)
	BatchResults(ctx context.Context, b llm.BatchInfo, fn func(customID string, res *schema.Result, err error) error) error
}

var _ BatchExtractor = (*llm.Extractor)(nil)

var errNotBatcher = errors.New("--batch sends documents through OpenAI's Batch API: it needs --extractor llm with OPENAI_API_KEY")

// AsBatcher returns ex as a BatchExtractor, or an error saying which
// extractor the Batch API needs.
func AsBatcher(ex extract.Extractor) (BatchExtractor, error) {
	b, ok := ex.(BatchExtractor)
	if !ok {
		return nil, errNotBatcher
	}
	return b, nil
}

func customID(docID int64) string { return "document-" + strconv.FormatInt(docID, 10) }

func documentOf(customID string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(customID, "document-"), 10, 64)
	if err != nil || !strings.HasPrefix(customID, "document-") {
		return 0, fmt.Errorf("batch result with unknown custom_id %q", customID)
	}
	return id, nil
}

// Submitted is what SubmitBatch sent.
type Submitted struct {
	// Documents and Batches count what went to the Batch API.
	Documents, Batches int
	// Sync are the documents too long for one request, to be extracted
	// right away.
	Sync []int64
}

// SubmitBatch sends the documents todo to the Batch API as batches of run
// runID and records them; the batches created are recorded even when a
// later one fails, so that a resume collects them.
func (p *Pipeline) SubmitBatch(ctx context.Context, db JobStore, bx BatchExtractor, runID int64, todo []int64) (Submitted, error) {
	var sub Submitted
	var lines [][]byte
	for _, id := range todo {
		doc, err := db.Document(ctx, id)
		if err != nil {
			return Submitted{}, err
		}
		line, ok, err := bx.BatchLine(customID(id), doc)
		if err != nil {
			return Submitted{}, fmt.Errorf("document %d: %w", id, err)
		}
		if !ok {
			sub.Sync = append(sub.Sync, id)
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return sub, nil
	}
	infos, err := bx.SubmitBatches(ctx, fmt.Sprintf("thesisdb-run-%d", runID), lines)
	for _, b := range infos {
		if serr := db.SaveBatch(context.WithoutCancel(ctx), batchRow(runID, b, false)); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if err != nil {
		return Submitted{}, fmt.Errorf("submit batch: %w", err)
	}
	for _, b := range infos {
		sub.Documents += b.Total
	}
	sub.Batches = len(infos)
	return sub, nil
}

func batchRow(runID int64, b llm.BatchInfo, collected bool) store.Batch {
	return store.Batch{ID: b.ID, RunID: runID, InputFileID: b.InputFileID, Status: b.Status, Requests: b.Total,
		Completed: b.Completed, Failed: b.Failed, OutputFileID: b.OutputFileID, ErrorFileID: b.ErrorFileID, Collected: collected}
}

// CollectBatches polls run runID's batches and stores, through Complete,
// the results of those that finished, calling onEvent for each document.
// It calls onPending (when not nil) for each batch still running and
// returns how many are.
func (p *Pipeline) CollectBatches(ctx context.Context, db JobStore, bx BatchExtractor, runID int64, onEvent func(Event), onPending func(llm.BatchInfo)) (pending int, err error) {
	batches, err := db.Batches(ctx, runID)
	if err != nil {
		return 0, err
	}
	for _, b := range batches {
		if b.Collected {
			continue
		}
		info, err := bx.Batch(ctx, b.ID)
		if err != nil {
			return 0, err
		}
		if !info.Finished() {
			pending++
			if onPending != nil {
				onPending(info)
			}
			if err := db.SaveBatch(ctx, batchRow(runID, info, false)); err != nil {
				return 0, err
			}
			continue
		}
		err = bx.BatchResults(ctx, info, func(cid string, res *schema.Result, rerr error) error {
			docID, err := documentOf(cid)
			if err != nil {
				return err
			}
			onEvent(p.Complete(ctx, runID, docID, res, rerr))
			return nil
		})
		if err != nil {
			return 0, err
		}
		if info.Status != "completed" {
			p.logger().Warn("batch ended without completing: its documents left unextracted are sent again synchronously", "batch", info.ID, "status", info.Status)
		}
		if err := db.SaveBatch(context.WithoutCancel(ctx), batchRow(runID, info, true)); err != nil {
			return 0, err
		}
	}
	return pending, nil
}
