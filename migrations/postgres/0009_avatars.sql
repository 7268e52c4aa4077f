-- Avatars: the content hash of the current one; the images live in the BlobStore under
-- avatars/<user id>/<hash>-<size>.jpg (512 and 128). NULL: no avatar.
ALTER TABLE users ADD COLUMN avatar_hash TEXT;
