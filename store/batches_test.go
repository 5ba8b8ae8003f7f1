package store

import (
	"context"
	"testing"
)

func TestBatchesRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	if err := db.SaveBatch(ctx, Batch{ID: "batch-1", RunID: run, InputFileID: "file-1", Status: "validating", Requests: 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveBatch(ctx, Batch{ID: "batch-1", RunID: run, InputFileID: "file-1", Status: "completed", Requests: 3,
		Completed: 2, Failed: 1, OutputFileID: "file-2", Collected: true}); err != nil {
		t.Fatal(err)
	}
	bs, err := db.Batches(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Status != "completed" || bs[0].Completed != 2 || bs[0].OutputFileID != "file-2" || !bs[0].Collected || bs[0].Requests != 3 {
		t.Errorf("batches = %+v", bs)
	}
}
