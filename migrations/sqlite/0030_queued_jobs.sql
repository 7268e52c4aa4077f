-- The journal of the inproc:// EventBus work queue: a job is written here before Enqueue
-- returns and deleted when it is acknowledged or dropped, so queued and in-flight jobs survive
-- a restart (they are delivered again, at least once, as with NATS JetStream).
CREATE TABLE queued_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  payload BLOB NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,  -- deliveries so far
  enqueued_at INTEGER NOT NULL          -- Unix milliseconds
);
