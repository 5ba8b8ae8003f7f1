-- Batch API jobs of a run (thesisdb reextract --batch): one row per batch
-- submitted, so that `reextract --resume RUN` can poll and collect it even
-- after the process that submitted it is gone.
CREATE TABLE batches (
    id             TEXT    PRIMARY KEY,     -- the provider's batch id
    run_id         INTEGER NOT NULL REFERENCES runs(id),
    input_file_id  TEXT    NOT NULL,
    status         TEXT    NOT NULL,        -- validating, in_progress, finalizing, completed, failed, expired, cancelled
    requests       INTEGER NOT NULL,
    completed      INTEGER NOT NULL DEFAULT 0,
    failed         INTEGER NOT NULL DEFAULT 0,
    output_file_id TEXT,
    error_file_id  TEXT,
    collected      INTEGER NOT NULL DEFAULT 0, -- 1 once its results are stored
    submitted_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX batches_run ON batches(run_id);
