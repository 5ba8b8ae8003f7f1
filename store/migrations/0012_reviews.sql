-- Reviews: what analysts say about extracted data points (thesisdb serve
-- --review), kept in tables of their own. Extraction rows are never
-- changed: the extraction stays what the extractor produced, and a review
-- says what the analyst holds it to be. thesisdb export --reviewed turns
-- them into gold for thesisdb eval.
--
-- A review row is one action by one analyst on one data point: a verdict
-- (right or wrong), or a correction of one or more of its fields (verdict
-- 'corrected', one data_point_corrections row per field). The latest
-- review of a data point gives its verdict; the latest correction of each
-- field its value. Reviews go with the extraction they review: deleting
-- the extraction deletes them.
CREATE TABLE data_point_reviews (
    id            INTEGER PRIMARY KEY,
    data_point_id INTEGER NOT NULL REFERENCES data_points(id) ON DELETE CASCADE,
    extraction_id INTEGER NOT NULL REFERENCES extractions(id) ON DELETE CASCADE,
    document_id   INTEGER NOT NULL REFERENCES documents(id),
    verdict       TEXT    NOT NULL CHECK (verdict IN ('right', 'wrong', 'corrected')),
    reviewer      TEXT    NOT NULL,
    reviewed_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    note          TEXT
);
CREATE INDEX data_point_reviews_document ON data_point_reviews(document_id);
CREATE INDEX data_point_reviews_data_point ON data_point_reviews(data_point_id);

-- One corrected field of a review. stance is the stance of the data
-- point's thesis; source and implication may be corrected to '' (none).
CREATE TABLE data_point_corrections (
    id            INTEGER PRIMARY KEY,
    review_id     INTEGER NOT NULL REFERENCES data_point_reviews(id) ON DELETE CASCADE,
    data_point_id INTEGER NOT NULL REFERENCES data_points(id) ON DELETE CASCADE,
    field         TEXT    NOT NULL CHECK (field IN ('stance', 'indicator', 'value', 'source', 'implication')),
    old_value     TEXT    NOT NULL,  -- what the analyst saw: the extracted value or an earlier correction
    new_value     TEXT    NOT NULL,
    UNIQUE (review_id, field)
);
CREATE INDEX data_point_corrections_data_point ON data_point_corrections(data_point_id, field);

-- Data points an analyst found in the text that the extraction missed,
-- added to one thesis of the extraction reviewed.
CREATE TABLE added_data_points (
    id            INTEGER PRIMARY KEY,
    thesis_id     INTEGER NOT NULL REFERENCES theses(id) ON DELETE CASCADE,
    extraction_id INTEGER NOT NULL REFERENCES extractions(id) ON DELETE CASCADE,
    document_id   INTEGER NOT NULL REFERENCES documents(id),
    indicator     TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    source        TEXT,
    implication   TEXT,
    perspective   TEXT,
    quote         TEXT    NOT NULL DEFAULT '',
    reviewer      TEXT    NOT NULL,
    reviewed_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    note          TEXT
);
CREATE INDEX added_data_points_document ON added_data_points(document_id);

-- Every reviewed data point as the analysts hold it: the extracted ones
-- with a review (origin 'extracted'), with their latest verdict and each
-- field's latest correction applied, and the added ones (origin 'added',
-- verdict 'added'). Data points nobody reviewed are not here.
CREATE VIEW reviewed_data_points AS
SELECT p.id AS data_point_id, NULL AS added_id, 'extracted' AS origin,
       p.document_id, p.extraction_id, p.thesis_id,
       coalesce((SELECT c.new_value FROM data_point_corrections c JOIN data_points q ON q.id = c.data_point_id
                 WHERE q.thesis_id = p.thesis_id AND c.field = 'stance' ORDER BY c.id DESC LIMIT 1), t.stance) AS thesis_stance,
       r.verdict,
       coalesce((SELECT c.new_value FROM data_point_corrections c
                 WHERE c.data_point_id = p.id AND c.field = 'indicator' ORDER BY c.id DESC LIMIT 1), p.indicator) AS indicator,
       coalesce((SELECT c.new_value FROM data_point_corrections c
                 WHERE c.data_point_id = p.id AND c.field = 'value' ORDER BY c.id DESC LIMIT 1), p.value) AS value,
       nullif(coalesce((SELECT c.new_value FROM data_point_corrections c
                 WHERE c.data_point_id = p.id AND c.field = 'source' ORDER BY c.id DESC LIMIT 1), p.source), '') AS data_source,
       nullif(coalesce((SELECT c.new_value FROM data_point_corrections c
                 WHERE c.data_point_id = p.id AND c.field = 'implication' ORDER BY c.id DESC LIMIT 1), p.implication), '') AS implication,
       p.perspective, p.quote, p.char_start, p.char_end, p.page,
       r.reviewer, r.reviewed_at, (SELECT count(*) FROM data_point_reviews n WHERE n.data_point_id = p.id) AS reviews
FROM (SELECT data_point_id, max(id) AS id FROM data_point_reviews GROUP BY data_point_id) l
JOIN data_point_reviews r ON r.id = l.id
JOIN data_points p ON p.id = l.data_point_id
JOIN theses t ON t.id = p.thesis_id
UNION ALL
SELECT NULL, a.id, 'added', a.document_id, a.extraction_id, a.thesis_id,
       coalesce((SELECT c.new_value FROM data_point_corrections c JOIN data_points q ON q.id = c.data_point_id
                 WHERE q.thesis_id = a.thesis_id AND c.field = 'stance' ORDER BY c.id DESC LIMIT 1), t.stance),
       'added', a.indicator, a.value, a.source, a.implication, a.perspective, a.quote, NULL, NULL, NULL,
       a.reviewer, a.reviewed_at, 1
FROM added_data_points a
JOIN theses t ON t.id = a.thesis_id;
