-- thesisdb schema, version 1. Every name here is part of the analyst-facing
-- SQL interface and is documented in README.md.

-- One row per distinct input (by SHA-256 of its bytes).
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,              -- text, markdown, html, pdf
    source      TEXT    NOT NULL,              -- file path or final URL
    title       TEXT,
    author      TEXT,
    published   TEXT,                          -- YYYY-MM-DD when known
    site_name   TEXT,
    canonical_url TEXT,                        -- the URL a web page declares as its own
    tags        TEXT,                          -- comma-separated, e.g. the inbox sub-folder
    text        TEXT    NOT NULL,              -- the cleaned text extractors read
    bytes       INTEGER NOT NULL,              -- size of the original input
    warnings    TEXT,                          -- loader notes, one per line
    ingested_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per ingest or re-extraction job.
CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL,       -- ingest, watch, reextract
    extractor          TEXT    NOT NULL,       -- rules, llm
    model              TEXT,
    prompt_version     TEXT    NOT NULL,
    prompt_hash        TEXT,
    schema_version     TEXT    NOT NULL,
    status             TEXT    NOT NULL DEFAULT 'running', -- running, waiting (Batch API), done, interrupted, failed
    started_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at        TEXT,
    documents_ok       INTEGER NOT NULL DEFAULT 0,
    documents_failed   INTEGER NOT NULL DEFAULT 0,
    documents_skipped  INTEGER NOT NULL DEFAULT 0, -- duplicates and cached extractions
    data_points        INTEGER NOT NULL DEFAULT 0,
    ungrounded         INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cached_tokens      INTEGER NOT NULL DEFAULT 0,
    cost_usd           REAL    NOT NULL DEFAULT 0,
    params             TEXT                    -- JSON: the job's settings and selection
);

-- One row per run and document: the outcome of extracting that document.
CREATE TABLE extractions (
    id                INTEGER PRIMARY KEY,
    run_id            INTEGER NOT NULL REFERENCES runs(id),
    document_id       INTEGER NOT NULL REFERENCES documents(id),
    status            TEXT    NOT NULL CHECK (status IN ('ok', 'failed')),
    error             TEXT,
    extractor         TEXT    NOT NULL,
    model             TEXT,
    prompt_version    TEXT    NOT NULL,
    schema_version    TEXT    NOT NULL,
    result            TEXT,                    -- the validated extraction JSON (the schema's document)
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens     INTEGER NOT NULL DEFAULT 0,
    cost_usd          REAL    NOT NULL DEFAULT 0,
    duration_ms       INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (run_id, document_id)
);
CREATE INDEX extractions_document ON extractions(document_id, status, id);
CREATE INDEX extractions_cache ON extractions(document_id, extractor, model, prompt_version, schema_version) WHERE status = 'ok';

CREATE TABLE theses (
    id            INTEGER PRIMARY KEY,
    extraction_id INTEGER NOT NULL REFERENCES extractions(id) ON DELETE CASCADE,
    document_id   INTEGER NOT NULL REFERENCES documents(id),
    ordinal       INTEGER NOT NULL,            -- 0-based position in the document
    title         TEXT    NOT NULL,
    statement     TEXT    NOT NULL,
    subject       TEXT,
    stance        TEXT    NOT NULL CHECK (stance IN ('bullish', 'bearish', 'neutral', 'mixed')),
    confidence    REAL CHECK (confidence BETWEEN 0 AND 1),
    conviction    REAL CHECK (conviction BETWEEN 0 AND 1),
    horizon       TEXT
);
CREATE INDEX theses_extraction ON theses(extraction_id);

CREATE TABLE views (
    id            INTEGER PRIMARY KEY,
    thesis_id     INTEGER NOT NULL REFERENCES theses(id) ON DELETE CASCADE,
    extraction_id INTEGER NOT NULL REFERENCES extractions(id) ON DELETE CASCADE,
    document_id   INTEGER NOT NULL REFERENCES documents(id),
    perspective   TEXT    NOT NULL,
    stance        TEXT    NOT NULL CHECK (stance IN ('bullish', 'bearish', 'neutral', 'mixed')),
    confidence    REAL CHECK (confidence BETWEEN 0 AND 1),
    conviction    REAL CHECK (conviction BETWEEN 0 AND 1),
    horizon       TEXT,
    summary       TEXT,
    as_of         TEXT
);
CREATE INDEX views_extraction ON views(extraction_id);

CREATE TABLE data_points (
    id            INTEGER PRIMARY KEY,
    thesis_id     INTEGER NOT NULL REFERENCES theses(id) ON DELETE CASCADE,
    extraction_id INTEGER NOT NULL REFERENCES extractions(id) ON DELETE CASCADE,
    document_id   INTEGER NOT NULL REFERENCES documents(id),
    ordinal       INTEGER NOT NULL,
    indicator     TEXT    NOT NULL,
    value         TEXT    NOT NULL,            -- as written
    value_num     REAL,                        -- the single figure, when unambiguous
    value_low     REAL,                        -- = value_num, or the low end of a range
    value_high    REAL,                        -- = value_num, or the high end of a range
    unit          TEXT,                        -- %, bp, pp, x, USD, EUR, month, ... ('' for a plain number)
    source        TEXT,
    implication   TEXT,
    perspective   TEXT,
    quote         TEXT    NOT NULL,
    char_start    INTEGER,                     -- quote position in documents.text, in characters
    char_end      INTEGER,
    grounded      INTEGER NOT NULL DEFAULT 0   -- 1: quote found in the text and the value's numbers in it
);
CREATE INDEX data_points_extraction ON data_points(extraction_id);
CREATE INDEX data_points_indicator ON data_points(indicator);

-- Inputs that could not be loaded at all (unreadable, binary, empty,
-- unsupported, failed fetch): they have no document row.
CREATE TABLE load_failures (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER REFERENCES runs(id),
    source    TEXT NOT NULL,
    sha256    TEXT,
    error     TEXT NOT NULL,
    failed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Full-text search over documents and data points (FTS4 is built into
-- go-sqlite3 without build tags). External-content tables kept in sync by
-- triggers.
CREATE VIRTUAL TABLE documents_fts USING fts4(content="documents", title, text);
CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN
    INSERT INTO documents_fts(docid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER documents_fts_bd BEFORE DELETE ON documents BEGIN
    DELETE FROM documents_fts WHERE docid = old.id;
END;
CREATE TRIGGER documents_fts_bu BEFORE UPDATE ON documents BEGIN
    DELETE FROM documents_fts WHERE docid = old.id;
END;
CREATE TRIGGER documents_fts_au AFTER UPDATE ON documents BEGIN
    INSERT INTO documents_fts(docid, title, text) VALUES (new.id, new.title, new.text);
END;

CREATE VIRTUAL TABLE data_points_fts USING fts4(content="data_points", indicator, value, source, implication, quote);
CREATE TRIGGER data_points_fts_ai AFTER INSERT ON data_points BEGIN
    INSERT INTO data_points_fts(docid, indicator, value, source, implication, quote)
    VALUES (new.id, new.indicator, new.value, new.source, new.implication, new.quote);
END;
CREATE TRIGGER data_points_fts_bd BEFORE DELETE ON data_points BEGIN
    DELETE FROM data_points_fts WHERE docid = old.id;
END;

-- The latest successful extraction of each document.
CREATE VIEW current_extractions AS
SELECT e.*
FROM extractions e
WHERE e.status = 'ok'
  AND e.id = (SELECT max(e2.id) FROM extractions e2
              WHERE e2.document_id = e.document_id AND e2.status = 'ok');

CREATE VIEW current_theses AS
SELECT t.id AS thesis_id, t.document_id, d.title AS document_title, d.source, d.published,
       t.title, t.statement, t.subject, t.stance, t.confidence, t.conviction, t.horizon,
       ce.run_id, ce.id AS extraction_id, ce.extractor, ce.model
FROM current_extractions ce
JOIN theses t ON t.extraction_id = ce.id
JOIN documents d ON d.id = t.document_id;

CREATE VIEW current_views AS
SELECT v.id AS view_id, v.thesis_id, v.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, v.perspective, v.stance, v.confidence, v.conviction, v.horizon,
       v.summary, v.as_of, ce.run_id, ce.id AS extraction_id
FROM current_extractions ce
JOIN views v ON v.extraction_id = ce.id
JOIN theses t ON t.id = v.thesis_id
JOIN documents d ON d.id = v.document_id;

CREATE VIEW current_data_points AS
SELECT p.id AS data_point_id, p.thesis_id, p.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, t.stance AS thesis_stance,
       p.indicator, p.value, p.value_num, p.value_low, p.value_high, p.unit,
       p.source AS data_source, p.implication, p.perspective, p.quote,
       p.char_start, p.char_end, p.grounded, ce.run_id, ce.id AS extraction_id
FROM current_extractions ce
JOIN data_points p ON p.extraction_id = ce.id
JOIN theses t ON t.id = p.thesis_id
JOIN documents d ON d.id = p.document_id;

-- Every failure with its reason: inputs that could not be loaded, and
-- documents whose extraction failed.
CREATE VIEW failures AS
SELECT f.run_id, 'load' AS stage, f.source, NULL AS document_id, f.error, f.failed_at
FROM load_failures f
UNION ALL
SELECT e.run_id, 'extract' AS stage, d.source, e.document_id, e.error, e.created_at AS failed_at
FROM extractions e JOIN documents d ON d.id = e.document_id
WHERE e.status = 'failed';
