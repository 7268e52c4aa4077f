-- Accounts at outside identity providers (OAuth 2.0 / OpenID Connect) linked to Veza accounts.
-- subject is the provider's stable user id ("sub", or GitHub's and Discord's numeric id).
-- Times are Unix milliseconds.
CREATE TABLE user_identities (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider TEXT NOT NULL,   -- the configured provider name (--oauth-provider name=...)
  subject TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',  -- as the provider gave it when linked; for display only
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  UNIQUE (provider, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
