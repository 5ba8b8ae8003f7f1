-- A cost thesisdb cannot price (a model missing from the price table, a
-- local server) is NULL, unknown, instead of 0: cost_usd loses its NOT
-- NULL. SQLite cannot drop a constraint in place, so the column is
-- rebuilt (it moves to the end of each table); a run's total is NULL as
-- soon as one of its extractions' cost is.
ALTER TABLE extractions ADD COLUMN cost_usd_new REAL;
UPDATE extractions SET cost_usd_new = cost_usd;
ALTER TABLE extractions DROP COLUMN cost_usd;
ALTER TABLE extractions RENAME COLUMN cost_usd_new TO cost_usd;

ALTER TABLE runs ADD COLUMN cost_usd_new REAL DEFAULT 0;
UPDATE runs SET cost_usd_new = cost_usd;
ALTER TABLE runs DROP COLUMN cost_usd;
ALTER TABLE runs RENAME COLUMN cost_usd_new TO cost_usd;
