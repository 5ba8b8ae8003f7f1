-- Which process works on a running run, and when it last said so: a run
-- whose process died (kill -9, a crash, a power cut) is marked interrupted
-- the next time the database is opened, and two processes cannot resume
-- the same run at once.
ALTER TABLE runs ADD COLUMN owner TEXT;        -- host:pid of the process working on it
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT; -- refreshed every 30 s while running
