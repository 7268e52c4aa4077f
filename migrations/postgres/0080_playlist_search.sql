-- Playlists in search (issue 7): public playlists are found by title, owner and description.
-- Like the other kinds, the index row is kept by triggers, so a private playlist is never
-- `listed` whichever code path changed it. title = the playlist's title, subtitle = the owner's
-- username (shown as "owner"), tags = the description (found by words, not by trigrams).
CREATE FUNCTION search_playlist_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM search_documents WHERE kind = 'playlist' AND ref_id = OLD.id;
    RETURN OLD;
  END IF;
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, created_at)
  VALUES ('playlist', NEW.id, NEW.visibility = 'public', NEW.title,
          coalesce((SELECT username FROM users WHERE id = NEW.owner_id), ''),
          NEW.description, NEW.created_at)
  ON CONFLICT (kind, ref_id) DO UPDATE SET
    listed = EXCLUDED.listed, title = EXCLUDED.title, subtitle = EXCLUDED.subtitle, tags = EXCLUDED.tags;
  RETURN NEW;
END $$;
CREATE TRIGGER search_playlists AFTER INSERT OR DELETE OR
  UPDATE OF title, description, visibility, owner_id ON playlists
  FOR EACH ROW EXECUTE FUNCTION search_playlist_sync();

-- A renamed owner is found under the new name.
CREATE FUNCTION search_playlist_owner_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE search_documents SET subtitle = NEW.username
  WHERE kind = 'playlist' AND ref_id IN (SELECT id FROM playlists WHERE owner_id = NEW.id);
  RETURN NEW;
END $$;
CREATE TRIGGER search_playlist_owner_renamed AFTER UPDATE OF username ON users
  FOR EACH ROW EXECUTE FUNCTION search_playlist_owner_renamed();

INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, created_at)
  SELECT 'playlist', p.id, p.visibility = 'public', p.title, coalesce(u.username, ''), p.description, p.created_at
  FROM playlists p LEFT JOIN users u ON u.id = p.owner_id;
