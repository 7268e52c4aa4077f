-- Playlists in search (issue 7): public playlists are found by title, owner and description.
-- Like the other kinds, the index row is kept by triggers, so a private playlist is never
-- `listed` whichever code path changed it. title = the playlist's title, subtitle = the owner's
-- username (shown as "owner"), tags = the description (found by words, not by trigrams).
CREATE TRIGGER search_playlists_ai AFTER INSERT ON playlists BEGIN
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, created_at)
  VALUES ('playlist', new.id, new.visibility = 'public', new.title,
          coalesce((SELECT username FROM users WHERE id = new.owner_id), ''),
          new.description, new.created_at);
END;
CREATE TRIGGER search_playlists_au AFTER UPDATE OF title, description, visibility, owner_id ON playlists BEGIN
  UPDATE search_documents SET
    listed = new.visibility = 'public',
    title = new.title,
    subtitle = coalesce((SELECT username FROM users WHERE id = new.owner_id), ''),
    tags = new.description
  WHERE kind = 'playlist' AND ref_id = new.id;
END;
CREATE TRIGGER search_playlists_ad AFTER DELETE ON playlists BEGIN
  DELETE FROM search_documents WHERE kind = 'playlist' AND ref_id = old.id;
END;
-- A renamed owner is found under the new name.
CREATE TRIGGER search_playlist_owner_renamed AFTER UPDATE OF username ON users BEGIN
  UPDATE search_documents SET subtitle = new.username
  WHERE kind = 'playlist' AND ref_id IN (SELECT id FROM playlists WHERE owner_id = new.id);
END;

INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, created_at)
  SELECT 'playlist', p.id, p.visibility = 'public', p.title, coalesce(u.username, ''), p.description, p.created_at
  FROM playlists p LEFT JOIN users u ON u.id = p.owner_id;
