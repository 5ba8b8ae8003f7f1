-- Scraping (thesisdb scrape): the URLs thesisdb has fetched, so that the
-- next run asks only for what changed, and the schedule of each source.

-- One row per article URL (normalised: no fragment, no tracking
-- parameters such as utm_*).
CREATE TABLE known_urls (
    url             TEXT PRIMARY KEY,
    canonical_url   TEXT,                      -- what the page declares (<link rel="canonical">)
    source_name     TEXT,                      -- the sources file entry that found it
    etag            TEXT,                      -- validators for the next conditional GET
    last_modified   TEXT,
    content_sha256  TEXT,                      -- SHA-256 of the body last fetched
    document_id     INTEGER REFERENCES documents(id), -- the document stored from it (the latest version)
    last_status     INTEGER,                   -- HTTP status of the last fetch (304: unchanged; 0: no answer)
    last_error      TEXT,                      -- why the last fetch or load failed, else NULL
    lastmod         TEXT,                      -- what the feed or sitemap said when it was last fetched
    first_seen_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_fetched_at TEXT,
    next_fetch_at   TEXT                       -- not asked for again before this
) WITHOUT ROWID;
CREATE INDEX known_urls_canonical ON known_urls(canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX known_urls_due ON known_urls(source_name, next_fetch_at);
CREATE INDEX known_urls_document ON known_urls(document_id) WHERE document_id IS NOT NULL;

-- One row per source of a sources file: when it was last scraped and when
-- it is due again.
CREATE TABLE scrape_sources (
    name        TEXT PRIMARY KEY,
    last_run_at TEXT,
    next_run_at TEXT
) WITHOUT ROWID;

-- Fetch failures (a URL that answered 404, timed out, was too large) are
-- load failures at a stage of their own.
ALTER TABLE load_failures ADD COLUMN stage TEXT NOT NULL DEFAULT 'load';

DROP VIEW failures;
CREATE VIEW failures AS
SELECT f.run_id, f.stage, f.source, NULL AS document_id, f.error, f.failed_at
FROM load_failures f
UNION ALL
SELECT e.run_id, 'extract' AS stage, d.source, e.document_id, e.error, e.created_at AS failed_at
FROM extractions e JOIN documents d ON d.id = e.document_id
WHERE e.status = 'failed';
