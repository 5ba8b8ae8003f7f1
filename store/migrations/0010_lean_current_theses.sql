-- As 0008 did for current_data_points: current_theses looked up every
-- thesis's extraction row (for its extractor and model) even when the
-- query asks for neither, which made reading every current thesis in
-- conviction order slower than the scan and sort before 0005. A current
-- extraction's row and a thesis's document always exist, so LEFT JOIN
-- returns the same rows, and SQLite leaves out a LEFT JOIN none of whose
-- columns the query uses.
DROP VIEW current_theses;
CREATE VIEW current_theses AS
SELECT t.id AS thesis_id, t.document_id, d.title AS document_title, d.source, d.published,
       t.title, t.statement, t.subject, t.stance, t.confidence, t.conviction, t.horizon,
       c.run_id, c.extraction_id, e.extractor, e.model
FROM current_extraction c
JOIN theses t ON t.extraction_id = c.extraction_id
LEFT JOIN extractions e ON e.id = c.extraction_id
LEFT JOIN documents d ON d.id = t.document_id;
