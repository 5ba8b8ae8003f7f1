-- Measured at a million current data points that all have a page (a
-- database of PDFs): "figures with their page" (ORDER BY document_title,
-- page) sorted every such data point before its first row, 0.9 s for the
-- first 1,000. current_data_points joins documents with LEFT JOIN (0008),
-- so documents can only be read after the data points and no index can
-- give title order.
--
-- Each current extraction keeps its document's title, written by trigger
-- in the same transaction, with an index in title order: the view takes
-- document_title from it, so a query in title order walks the current
-- extractions by that index and each one's data points by page
-- (data_points_page, 0008), sorting only documents of the same title among
-- themselves; documents stays a LEFT JOIN, left out when no other column
-- of it is asked for, and a query that selects the title no longer looks
-- the document up at all.
ALTER TABLE current_extraction ADD COLUMN document_title TEXT;  -- documents.title

UPDATE current_extraction
SET document_title = (SELECT d.title FROM documents d WHERE d.id = current_extraction.document_id);

CREATE INDEX current_extraction_title ON current_extraction(document_title, extraction_id);

-- A document's first current extraction takes its title (a new current
-- extraction of the same document updates the row and keeps it).
CREATE TRIGGER current_extraction_title_ai AFTER INSERT ON current_extraction BEGIN
    UPDATE current_extraction SET document_title = (SELECT title FROM documents WHERE id = new.document_id)
    WHERE document_id = new.document_id;
END;

-- thesisdb never changes a stored document; a title changed by hand
-- follows.
CREATE TRIGGER documents_title_au AFTER UPDATE OF title ON documents BEGIN
    UPDATE current_extraction SET document_title = new.title WHERE document_id = new.id;
END;

DROP VIEW current_data_points;
CREATE VIEW current_data_points AS
SELECT p.id AS data_point_id, p.thesis_id, p.document_id, c.document_title, d.source, d.published,
       t.title AS thesis_title, t.stance AS thesis_stance,
       p.indicator, p.value, p.value_num, p.value_low, p.value_high, p.unit,
       p.source AS data_source, p.implication, p.perspective, p.quote,
       p.char_start, p.char_end, p.grounded, c.run_id, c.extraction_id, p.page
FROM current_extraction c
JOIN data_points p ON p.extraction_id = c.extraction_id
LEFT JOIN theses t ON t.id = p.thesis_id
LEFT JOIN documents d ON d.id = p.document_id;

ANALYZE current_extraction;
