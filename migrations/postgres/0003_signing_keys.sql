-- Access-token signing keys shared by every node. The newest row signs; the others only verify
-- until they are removed. Private keys are PKCS#8 PEM: protect database backups accordingly.
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  private_key_pem TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
