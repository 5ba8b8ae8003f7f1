-- The full-text indexes were kept by AFTER INSERT triggers: every row
-- inserted added its words to FTS4's pending terms, and every following
-- statement that opened a statement journal flushed them to a new segment
-- of the index, so a document of 5 data points wrote about 6 segments,
-- which FTS4 then merged again and again: two thirds of SQLite's cost of
-- storing a document. thesisdb's write path now adds a transaction's new
-- documents and data points to the indexes in one statement each, just
-- before it commits (the same transaction: the rows and their index
-- entries are committed together or not at all).
--
-- Rows inserted by hand (outside thesisdb) are not indexed until
--   INSERT INTO documents_fts(documents_fts) VALUES ('rebuild');
--   INSERT INTO data_points_fts(data_points_fts) VALUES ('rebuild');
-- Deleting and updating rows still keeps the indexes in step (the other
-- triggers stay).
DROP TRIGGER documents_fts_ai;
DROP TRIGGER data_points_fts_ai;
