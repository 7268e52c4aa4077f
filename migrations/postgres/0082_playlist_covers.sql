-- Playlist covers: the content hash of the current one; the images live in the BlobStore under
-- playlists/<playlist id>/<hash>-<size>.jpg (512 and 128). NULL: no cover.
ALTER TABLE playlists ADD COLUMN cover_hash TEXT;
