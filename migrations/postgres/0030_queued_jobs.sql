-- The journal of the inproc:// EventBus work queue: a job is written here before Enqueue
-- returns and deleted when it is acknowledged or dropped, so queued and in-flight jobs survive
-- a restart (they are delivered again, at least once, as with NATS JetStream).
CREATE TABLE queued_jobs (
  id BIGSERIAL PRIMARY KEY,
  queue TEXT NOT NULL,
  payload BYTEA NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,  -- deliveries so far
  enqueued_at BIGINT NOT NULL           -- Unix milliseconds
);
