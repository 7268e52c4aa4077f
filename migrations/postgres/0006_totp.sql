-- Second factor: TOTP (RFC 6238) and single-use recovery codes. Times are Unix milliseconds.
-- The secret is kept in clear (base32 of the raw bytes): encrypting it at rest would need a
-- key-management setting. Recovery codes are kept only as HMAC-SHA256 keyed by the user id.
CREATE TABLE user_totp (
  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  secret TEXT NOT NULL,                  -- base32 (RFC 4648, unpadded) of the raw secret
  confirmed_at BIGINT,                  -- NULL while the enrolment awaits its first code
  last_step BIGINT NOT NULL DEFAULT -1, -- highest accepted time step; lower or equal ones are replays
  created_at BIGINT NOT NULL
);

CREATE TABLE totp_recovery_codes (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at BIGINT,
  PRIMARY KEY (user_id, code_hash)
);
