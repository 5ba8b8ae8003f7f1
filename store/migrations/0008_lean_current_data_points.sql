-- Measured at a million current data points after 0007: the queries that
-- read a whole unit in value order (140,000 rows in bp) were 20-45% slower
-- than the scan and sort before 0005, and "figures by page" read every
-- current data point to find none with a page.

-- current_data_points looked up every row's thesis, for its title and
-- stance, even when the query asks for neither: a third of the time of
-- reading bp in value order. A data point always has its thesis and its
-- document (NOT NULL, foreign keys, deleted with them), so LEFT JOIN
-- returns the same rows, and SQLite leaves out a LEFT JOIN none of whose
-- columns the query uses.
DROP VIEW current_data_points;
CREATE VIEW current_data_points AS
SELECT p.id AS data_point_id, p.thesis_id, p.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, t.stance AS thesis_stance,
       p.indicator, p.value, p.value_num, p.value_low, p.value_high, p.unit,
       p.source AS data_source, p.implication, p.perspective, p.quote,
       p.char_start, p.char_end, p.grounded, c.run_id, c.extraction_id, p.page
FROM current_extraction c
JOIN data_points p ON p.extraction_id = c.extraction_id
LEFT JOIN theses t ON t.id = p.thesis_id
LEFT JOIN documents d ON d.id = p.document_id;

-- Only PDFs' data points have pages: each current extraction's are found
-- in this index, which holds no entry for the others (and costs nothing
-- to keep for them). Used by a query that says "page IS NOT NULL" (or
-- compares page to a value).
CREATE INDEX data_points_page ON data_points(extraction_id, page) WHERE page IS NOT NULL;
