-- Measured at a million current data points after 0005: "theses by
-- conviction" sorted every current thesis (about 100 ms) and "how each
-- perspective leans" grouped every current view with two lookups each
-- (about 150 ms).

-- Theses in conviction order, so the first rows come without a sort; with
-- the extraction, so that a superseded thesis is passed over from the
-- index alone.
CREATE INDEX theses_conviction ON theses(conviction, extraction_id);

-- The same for the unit indexes of 0005: a query that reads its whole
-- result in value order (140,000 rows in bp) fetched every superseded data
-- point's row too, and ran slower than the scan and sort it replaced.
DROP INDEX data_points_unit_num;
DROP INDEX data_points_unit_high;
CREATE INDEX data_points_unit_num ON data_points(unit, value_num, extraction_id);
CREATE INDEX data_points_unit_high ON data_points(unit, value_high, extraction_id);

-- How many current views each perspective has per stance, with the sum and
-- number of their confidences: the GROUP BY over current_views, kept by
-- triggers on current_extraction as current_source_counts is.
CREATE TABLE current_view_counts (
    perspective    TEXT    NOT NULL,
    stance         TEXT    NOT NULL,
    views          INTEGER NOT NULL,
    confidence_sum REAL    NOT NULL,
    confidence_n   INTEGER NOT NULL,
    PRIMARY KEY (perspective, stance)
) WITHOUT ROWID;

CREATE TRIGGER current_extraction_views_ai AFTER INSERT ON current_extraction BEGIN
    INSERT INTO current_view_counts (perspective, stance, views, confidence_sum, confidence_n)
    SELECT perspective, stance, count(*), coalesce(sum(confidence), 0), count(confidence) FROM views
    WHERE extraction_id = new.extraction_id GROUP BY perspective, stance
    ON CONFLICT (perspective, stance) DO UPDATE SET views = views + excluded.views,
        confidence_sum = confidence_sum + excluded.confidence_sum, confidence_n = confidence_n + excluded.confidence_n;
END;

CREATE TRIGGER current_extraction_views_ad AFTER DELETE ON current_extraction BEGIN
    INSERT INTO current_view_counts (perspective, stance, views, confidence_sum, confidence_n)
    SELECT perspective, stance, -count(*), -coalesce(sum(confidence), 0), -count(confidence) FROM views
    WHERE extraction_id = old.extraction_id GROUP BY perspective, stance
    ON CONFLICT (perspective, stance) DO UPDATE SET views = views + excluded.views,
        confidence_sum = confidence_sum + excluded.confidence_sum, confidence_n = confidence_n + excluded.confidence_n;
    DELETE FROM current_view_counts WHERE views <= 0;
END;

CREATE TRIGGER current_extraction_views_au AFTER UPDATE OF extraction_id ON current_extraction
WHEN old.extraction_id <> new.extraction_id BEGIN
    INSERT INTO current_view_counts (perspective, stance, views, confidence_sum, confidence_n)
    SELECT perspective, stance, -count(*), -coalesce(sum(confidence), 0), -count(confidence) FROM views
    WHERE extraction_id = old.extraction_id GROUP BY perspective, stance
    ON CONFLICT (perspective, stance) DO UPDATE SET views = views + excluded.views,
        confidence_sum = confidence_sum + excluded.confidence_sum, confidence_n = confidence_n + excluded.confidence_n;
    INSERT INTO current_view_counts (perspective, stance, views, confidence_sum, confidence_n)
    SELECT perspective, stance, count(*), coalesce(sum(confidence), 0), count(confidence) FROM views
    WHERE extraction_id = new.extraction_id GROUP BY perspective, stance
    ON CONFLICT (perspective, stance) DO UPDATE SET views = views + excluded.views,
        confidence_sum = confidence_sum + excluded.confidence_sum, confidence_n = confidence_n + excluded.confidence_n;
    DELETE FROM current_view_counts WHERE views <= 0;
END;

INSERT INTO current_view_counts (perspective, stance, views, confidence_sum, confidence_n)
SELECT v.perspective, v.stance, count(*), coalesce(sum(v.confidence), 0), count(v.confidence)
FROM current_extraction c JOIN views v ON v.extraction_id = c.extraction_id
GROUP BY v.perspective, v.stance;

-- Each perspective's current views per stance and their mean confidence
-- (NULL when none states one).
CREATE VIEW current_perspectives AS
SELECT perspective, stance, views,
       CASE WHEN confidence_n > 0 THEN confidence_sum / confidence_n END AS avg_confidence
FROM current_view_counts;
