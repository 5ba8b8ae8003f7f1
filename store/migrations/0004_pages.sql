-- Pages: where each page of a PDF document starts in its text, and the
-- page every data point stands on, so that a figure can be shown as
-- "p. 37" and checked against the file.
--
-- One row per page, empty pages included (an empty page starts where the
-- next one does). Documents that are not PDFs have no rows, nor have PDFs
-- stored before this migration: their pages cannot be known from the
-- stored text (the file's bytes are not kept), so their data points keep a
-- NULL page until the file is ingested again with --force, which fills
-- both in.
CREATE TABLE document_pages (
    document_id INTEGER NOT NULL REFERENCES documents(id),
    page        INTEGER NOT NULL,  -- 1-based page number in the file
    char_start  INTEGER NOT NULL,  -- where the page starts in documents.text, in characters, as data_points.char_start
    PRIMARY KEY (document_id, page)
) WITHOUT ROWID;

-- The 1-based page of documents.text that char_start falls on; NULL when
-- the document's pages are unknown (not a PDF, or stored before 0004) or
-- the quote was not found (char_start NULL).
ALTER TABLE data_points ADD COLUMN page INTEGER;

-- current_data_points gains page, after every column it had.
DROP VIEW current_data_points;
CREATE VIEW current_data_points AS
SELECT p.id AS data_point_id, p.thesis_id, p.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, t.stance AS thesis_stance,
       p.indicator, p.value, p.value_num, p.value_low, p.value_high, p.unit,
       p.source AS data_source, p.implication, p.perspective, p.quote,
       p.char_start, p.char_end, p.grounded, ce.run_id, ce.id AS extraction_id, p.page
FROM current_extractions ce
JOIN data_points p ON p.extraction_id = ce.id
JOIN theses t ON t.id = p.thesis_id
JOIN documents d ON d.id = p.document_id;
