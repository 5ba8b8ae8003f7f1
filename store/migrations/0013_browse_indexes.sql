-- The document list's orders (thesisdb serve, /api/documents): without
-- these a page of the list sorts every document (about 100 ms at 20,000
-- documents, reading their text's pages too).
CREATE INDEX IF NOT EXISTS documents_published ON documents(published);
CREATE INDEX IF NOT EXISTS documents_title ON documents(title COLLATE NOCASE);
