-- A million data points at interactive speed.
--
-- The current_* views picked each document's latest successful extraction
-- with a correlated max(id) subquery, for every row of every extraction,
-- superseded ones included. current_extraction holds that choice as a
-- table: one row per document, written in the same transaction as the
-- extraction that becomes current (by thesisdb's write path, and by the
-- triggers below when extractions are deleted or change status by hand).
CREATE TABLE current_extraction (
    document_id   INTEGER PRIMARY KEY,          -- documents.id
    extraction_id INTEGER NOT NULL UNIQUE,      -- its latest extractions.id with status 'ok'
    run_id        INTEGER NOT NULL,             -- that extraction's run
    data_points   INTEGER NOT NULL DEFAULT 0,   -- its data points
    grounded      INTEGER NOT NULL DEFAULT 0    -- of which grounded
);

-- How many current data points each source reports, and in how many
-- documents: the "most cited sources" query without a GROUP BY over every
-- data point. Kept by the triggers on current_extraction.
CREATE TABLE current_source_counts (
    source      TEXT    PRIMARY KEY,            -- data_points.source, as written
    data_points INTEGER NOT NULL,
    documents   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER current_extraction_ai AFTER INSERT ON current_extraction BEGIN
    INSERT INTO current_source_counts (source, data_points, documents)
    SELECT source, count(*), 1 FROM data_points
    WHERE extraction_id = new.extraction_id AND source IS NOT NULL GROUP BY source
    ON CONFLICT (source) DO UPDATE SET data_points = data_points + excluded.data_points,
                                       documents = documents + excluded.documents;
END;

CREATE TRIGGER current_extraction_ad AFTER DELETE ON current_extraction BEGIN
    INSERT INTO current_source_counts (source, data_points, documents)
    SELECT source, -count(*), -1 FROM data_points
    WHERE extraction_id = old.extraction_id AND source IS NOT NULL GROUP BY source
    ON CONFLICT (source) DO UPDATE SET data_points = data_points + excluded.data_points,
                                       documents = documents + excluded.documents;
    DELETE FROM current_source_counts
    WHERE source IN (SELECT source FROM data_points WHERE extraction_id = old.extraction_id) AND data_points <= 0;
END;

CREATE TRIGGER current_extraction_au AFTER UPDATE OF extraction_id ON current_extraction
WHEN old.extraction_id <> new.extraction_id BEGIN
    INSERT INTO current_source_counts (source, data_points, documents)
    SELECT source, -count(*), -1 FROM data_points
    WHERE extraction_id = old.extraction_id AND source IS NOT NULL GROUP BY source
    ON CONFLICT (source) DO UPDATE SET data_points = data_points + excluded.data_points,
                                       documents = documents + excluded.documents;
    INSERT INTO current_source_counts (source, data_points, documents)
    SELECT source, count(*), 1 FROM data_points
    WHERE extraction_id = new.extraction_id AND source IS NOT NULL GROUP BY source
    ON CONFLICT (source) DO UPDATE SET data_points = data_points + excluded.data_points,
                                       documents = documents + excluded.documents;
    DELETE FROM current_source_counts
    WHERE source IN (SELECT source FROM data_points WHERE extraction_id = old.extraction_id) AND data_points <= 0;
END;

-- Extractions changed by hand (thesisdb never deletes one or changes its
-- status): the document's current extraction is chosen again, before the
-- deleted extraction's rows cascade away.
CREATE TRIGGER extractions_current_bd BEFORE DELETE ON extractions WHEN old.status = 'ok' BEGIN
    DELETE FROM current_extraction WHERE document_id = old.document_id
      AND NOT EXISTS (SELECT 1 FROM extractions WHERE document_id = old.document_id AND status = 'ok' AND id <> old.id);
    INSERT INTO current_extraction (document_id, extraction_id, run_id, data_points, grounded)
    SELECT e.document_id, e.id, e.run_id,
           (SELECT count(*) FROM data_points p WHERE p.extraction_id = e.id),
           (SELECT coalesce(sum(p.grounded), 0) FROM data_points p WHERE p.extraction_id = e.id)
    FROM extractions e WHERE e.document_id = old.document_id AND e.status = 'ok' AND e.id <> old.id
    ORDER BY e.id DESC LIMIT 1
    ON CONFLICT (document_id) DO UPDATE SET extraction_id = excluded.extraction_id, run_id = excluded.run_id,
        data_points = excluded.data_points, grounded = excluded.grounded
    WHERE extraction_id <> excluded.extraction_id;
END;

CREATE TRIGGER extractions_current_au AFTER UPDATE OF status ON extractions WHEN old.status <> new.status BEGIN
    DELETE FROM current_extraction WHERE document_id = new.document_id
      AND NOT EXISTS (SELECT 1 FROM extractions WHERE document_id = new.document_id AND status = 'ok');
    INSERT INTO current_extraction (document_id, extraction_id, run_id, data_points, grounded)
    SELECT e.document_id, e.id, e.run_id,
           (SELECT count(*) FROM data_points p WHERE p.extraction_id = e.id),
           (SELECT coalesce(sum(p.grounded), 0) FROM data_points p WHERE p.extraction_id = e.id)
    FROM extractions e WHERE e.document_id = new.document_id AND e.status = 'ok'
    ORDER BY e.id DESC LIMIT 1
    ON CONFLICT (document_id) DO UPDATE SET extraction_id = excluded.extraction_id, run_id = excluded.run_id,
        data_points = excluded.data_points, grounded = excluded.grounded
    WHERE extraction_id <> excluded.extraction_id;
END;

-- The existing databases' current extractions, as the old views chose them.
INSERT INTO current_extraction (document_id, extraction_id, run_id, data_points, grounded)
SELECT e.document_id, e.id, e.run_id,
       (SELECT count(*) FROM data_points p WHERE p.extraction_id = e.id),
       (SELECT coalesce(sum(p.grounded), 0) FROM data_points p WHERE p.extraction_id = e.id)
FROM (SELECT document_id, max(id) AS id FROM extractions WHERE status = 'ok' GROUP BY document_id) m
JOIN extractions e ON e.id = m.id;

-- What the documented queries filter and sort current data points by.
CREATE INDEX data_points_unit_num ON data_points(unit, value_num);
CREATE INDEX data_points_unit_high ON data_points(unit, value_high);

-- The views, on current_extraction, with the columns they had.
DROP VIEW current_data_points;
DROP VIEW current_views;
DROP VIEW current_theses;
DROP VIEW current_extractions;

CREATE VIEW current_extractions AS
SELECT e.*
FROM current_extraction c
JOIN extractions e ON e.id = c.extraction_id;

CREATE VIEW current_theses AS
SELECT t.id AS thesis_id, t.document_id, d.title AS document_title, d.source, d.published,
       t.title, t.statement, t.subject, t.stance, t.confidence, t.conviction, t.horizon,
       c.run_id, c.extraction_id, e.extractor, e.model
FROM current_extraction c
JOIN theses t ON t.extraction_id = c.extraction_id
JOIN extractions e ON e.id = c.extraction_id
JOIN documents d ON d.id = t.document_id;

CREATE VIEW current_views AS
SELECT v.id AS view_id, v.thesis_id, v.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, v.perspective, v.stance, v.confidence, v.conviction, v.horizon,
       v.summary, v.as_of, c.run_id, c.extraction_id
FROM current_extraction c
JOIN views v ON v.extraction_id = c.extraction_id
JOIN theses t ON t.id = v.thesis_id
JOIN documents d ON d.id = v.document_id;

CREATE VIEW current_data_points AS
SELECT p.id AS data_point_id, p.thesis_id, p.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, t.stance AS thesis_stance,
       p.indicator, p.value, p.value_num, p.value_low, p.value_high, p.unit,
       p.source AS data_source, p.implication, p.perspective, p.quote,
       p.char_start, p.char_end, p.grounded, c.run_id, c.extraction_id, p.page
FROM current_extraction c
JOIN data_points p ON p.extraction_id = c.extraction_id
JOIN theses t ON t.id = p.thesis_id
JOIN documents d ON d.id = p.document_id;

-- Each document's current extraction with its counts: the "grounding per
-- document" query without a GROUP BY over every data point.
CREATE VIEW current_documents AS
SELECT d.id AS document_id, d.title AS document_title, d.source, d.published, d.kind,
       c.data_points, c.grounded, c.run_id, c.extraction_id
FROM current_extraction c
JOIN documents d ON d.id = c.document_id;

-- The sources of current data points, most cited first when sorted by
-- data_points.
CREATE VIEW current_sources AS
SELECT source AS data_source, data_points, documents
FROM current_source_counts;

ANALYZE;
