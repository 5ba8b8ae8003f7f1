package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// batchExtractor is what --batch needs of an extractor: the Batch API.
type batchExtractor interface {
	extract.Extractor
	BatchLine(customID string, doc *schema.Document) ([]byte, bool, error)
	SubmitBatches(ctx context.Context, name string, lines [][]byte) ([]llm.BatchInfo, error)
	Batch(ctx context.Context, id string) (llm.BatchInfo, error)
	BatchResults(ctx context.Context, b llm.BatchInfo, fn func(customID string, res *schema.Result, err error) error) error
}

var _ batchExtractor = (*llm.Extractor)(nil)

func asBatcher(ex extract.Extractor) (batchExtractor, error) {
	b, ok := ex.(batchExtractor)
	if !ok {
		return nil, errors.New("--batch sends documents through OpenAI's Batch API: it needs --extractor llm with OPENAI_API_KEY")
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

// submitBatch sends j's documents to the Batch API as batches of run
// runID and records them; documents too long for one request are returned
// to be extracted synchronously.
func (a *app) submitBatch(ctx context.Context, db *store.DB, bx batchExtractor, runID int64, todo []int64) (sync []int64, err error) {
	var lines [][]byte
	for _, id := range todo {
		doc, err := db.Document(ctx, id)
		if err != nil {
			return nil, err
		}
		line, ok, err := bx.BatchLine(customID(id), doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", id, err)
		}
		if !ok {
			sync = append(sync, id)
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return sync, nil
	}
	infos, err := bx.SubmitBatches(ctx, fmt.Sprintf("thesisdb-run-%d", runID), lines)
	// Record what was created even when a later file failed, so that
	// --resume collects it.
	for _, b := range infos {
		if serr := db.SaveBatch(context.WithoutCancel(ctx), batchRow(runID, b, false)); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("submit batch: %w", err)
	}
	n := 0
	for _, b := range infos {
		n += b.Total
	}
	fmt.Fprintf(a.stderr, "run %d: submitted %s in %s to the Batch API (results within 24 hours, at half price)\n",
		runID, plural(n, "document"), plural(len(infos), "batch"))
	return sync, nil
}

func batchRow(runID int64, b llm.BatchInfo, collected bool) store.Batch {
	return store.Batch{ID: b.ID, RunID: runID, InputFileID: b.InputFileID, Status: b.Status, Requests: b.Total,
		Completed: b.Completed, Failed: b.Failed, OutputFileID: b.OutputFileID, ErrorFileID: b.ErrorFileID, Collected: collected}
}

// collectBatches polls run's batches and stores the results of those that
// finished. It returns how many batches are still running.
func (a *app) collectBatches(ctx context.Context, db *store.DB, bx batchExtractor, p *pipeline.Pipeline, runID int64, onEvent func(pipeline.Event)) (pending int, err error) {
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
			fmt.Fprintf(a.stderr, "batch %s: %s, %d of %d requests done\n", info.ID, info.Status, info.Completed+info.Failed, info.Total)
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
			a.log.Warn("batch ended without completing: its documents left unextracted are sent again synchronously", "batch", info.ID, "status", info.Status)
		}
		if err := db.SaveBatch(context.WithoutCancel(ctx), batchRow(runID, info, true)); err != nil {
			return 0, err
		}
	}
	return pending, nil
}
