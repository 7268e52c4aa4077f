-- Profile links (PATCH /api/v1/users/me): a JSON array of at most 5 https URLs, as text.
ALTER TABLE users ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
