# Shared by bench/search/run and bench/feed/run: a catalogue of generated creators and tracks
# loaded with bulk SQL straight into a migrated database, a veza server over it, and wrk with
# --latency for p50/p99. Sourced, not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
VEZA=$BUILD_DIR/veza
WRK=${WRK:-/usr/bin/wrk}
TRACKS=${TRACKS:-100000}
CREATORS=${CREATORS:-2000}
DURATION=${DURATION:-8s}
CONNECTIONS=${CONNECTIONS:-2}
DATABASES=${DATABASES:-sqlite postgres}

die() { echo "$BENCH: $*" >&2; exit 1; }
[[ -x $VEZA ]] || die "no veza binary at $VEZA; build it first (or set BUILD_DIR)"
[[ -x $WRK ]] || die "wrk not found at $WRK (Debian: apt-get install wrk)"
command -v sqlite3 >/dev/null || die "sqlite3 is needed"

# PostgreSQL comes from scripts/test-services, as for the tests: re-run under it when needed.
if [[ " $DATABASES " == *" postgres "* && -z ${VEZA_TEST_POSTGRES_URL:-} ]]; then
  export VEZA_TEST_PORT_BASE=${VEZA_TEST_PORT_BASE:-19100}
  exec "$ROOT/scripts/test-services" run -- "$0" "$@"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/veza-$BENCH.XXXXXX")
VEZA_PID=
PG_DB=
cleanup() {
  [[ -n $VEZA_PID ]] && kill "$VEZA_PID" 2>/dev/null && wait "$VEZA_PID" 2>/dev/null || true
  if [[ -n $PG_DB ]]; then psql "$VEZA_TEST_POSTGRES_URL" -qAt -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# run_sql KIND: SQL on stdin into the current database.
run_sql() {
  if [[ $1 == sqlite ]]; then sqlite3 -bail "$WORK/$1/data/veza.db" >/dev/null
  else psql "$(pg_url)" -q -v ON_ERROR_STOP=1 >/dev/null; fi
}
pg_url() { echo "${VEZA_TEST_POSTGRES_URL%/*}/$PG_DB"; }

# The catalogue: $CREATORS creators, $TRACKS public ready tracks titled from word lists (three
# words, an artist and a genre each), owned round-robin; ids sort by creation time like UUIDv7.
seed_sql() {
  local kind=$1 series pad
  if [[ $kind == sqlite ]]; then
    series() { echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)"; }
    pad() { echo "printf('%012d', $1)"; }
  else
    series() { echo "WITH n(i) AS (SELECT generate_series(1, $1))"; }
    pad() { echo "lpad(($1)::text, 12, '0')"; }
  fi
  cat <<SQL
BEGIN;
CREATE TABLE bench_words (k INTEGER PRIMARY KEY, w TEXT NOT NULL);
INSERT INTO bench_words (k, w) VALUES
 (0,'golden'),(1,'silver'),(2,'quiet'),(3,'electric'),(4,'broken'),(5,'endless'),(6,'hidden'),(7,'wild'),
 (8,'lonely'),(9,'crystal'),(10,'river'),(11,'garden'),(12,'highway'),(13,'mirror'),(14,'signal'),(15,'harbor'),
 (16,'window'),(17,'forest'),(18,'engine'),(19,'letter'),(20,'midnight'),(21,'summer'),(22,'winter'),(23,'ocean'),
 (24,'neon'),(25,'velvet'),(26,'thunder'),(27,'paper'),(28,'glass'),(29,'shadow'),(30,'morning'),(31,'desert'),
 (32,'satellite'),(33,'lantern'),(34,'canyon'),(35,'static'),(36,'horizon'),(37,'echo'),(38,'ember'),(39,'meadow'),
 (40,'falcon'),(41,'circuit'),(42,'harvest'),(43,'compass'),(44,'violet'),(45,'copper'),(46,'island'),(47,'monsoon'),
 (48,'orbit'),(49,'reverie');
$(series "$CREATORS")
INSERT INTO users (id, username, username_key, email, email_key, display_name, created_at, updated_at)
SELECT '01800000-0000-7000-8000-' || $(pad i), 'creator' || i, 'creator' || i, 'c' || i || '@example.com',
       'c' || i || '@example.com', 'Creator ' || i, 1700000000000, 1700000000000 FROM n;
$(series "$TRACKS")
INSERT INTO tracks (id, owner_id, title, artist, genre, visibility, state, duration_ms, original_key,
                    original_size, original_content_type, created_at, updated_at)
SELECT '01900000-0000-7000-8000-' || $(pad i),
       '01800000-0000-7000-8000-' || $(pad "i % $CREATORS + 1"),
       (SELECT w FROM bench_words WHERE k = i % 50) || ' ' || (SELECT w FROM bench_words WHERE k = (i / 50) % 50) ||
         ' ' || (SELECT w FROM bench_words WHERE k = (i * 7 + 3) % 50),
       'The ' || (SELECT w FROM bench_words WHERE k = (i * 13) % 50) || 's',
       CASE i % 4 WHEN 0 THEN 'rock' WHEN 1 THEN 'ambient' WHEN 2 THEN 'house' ELSE 'jazz' END,
       'public', 'ready', 120000 + (i % 240) * 1000, 'tracks/' || i || '/original', 1000000, 'audio/wav',
       1700000000000 + i * 1000, 1700000000000 + i * 1000 FROM n;
DROP TABLE bench_words;
COMMIT;
SQL
}

# start_db KIND: a fresh migrated and seeded database; extra SQL on stdin runs after the seed.
start_db() {
  local kind=$1 dbarg
  mkdir -p "$WORK/$kind/data"
  if [[ $kind == sqlite ]]; then
    dbarg="sqlite://$WORK/$kind/data/veza.db"
  else
    PG_DB="veza_bench_$$"
    psql "$VEZA_TEST_POSTGRES_URL" -qAt -c "CREATE DATABASE $PG_DB" >/dev/null
    dbarg=$(pg_url)
  fi
  DB_URL=$dbarg
  (cd "$WORK/$kind" && "$VEZA" migrate --database "$DB_URL" --log-level warn)
  local t0=$SECONDS
  { [[ $kind == sqlite ]] && echo "PRAGMA synchronous = OFF;"; seed_sql "$kind"; } | run_sql "$kind"
  if [[ $kind == postgres ]]; then echo "VACUUM ANALYZE;" | run_sql "$kind"; else echo "ANALYZE;" | run_sql "$kind"; fi
  echo "$BENCH: $kind seeded $TRACKS tracks by $CREATORS creators in $((SECONDS - t0)) s" >&2
}

start_veza() {
  local kind=$1
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$WORK/$kind" && exec "$VEZA" serve --database "$DB_URL" --listen "127.0.0.1:$PORT" --roles http \
     --no-access-log --log-level warn) >"$WORK/$kind/veza.log" 2>&1 &
  VEZA_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$WORK/$kind/veza.log" >&2
  die "veza did not become ready"
}

stop_db() {
  local kind=$1
  kill "$VEZA_PID" 2>/dev/null || true
  wait "$VEZA_PID" 2>/dev/null || true
  VEZA_PID=
  if [[ $kind == postgres ]]; then
    psql "$VEZA_TEST_POSTGRES_URL" -qAt -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    PG_DB=
  fi
}

# measure LABEL SCRIPT [wrk args...]: wrk with the Lua script; prints "p50 p99 req/s".
measure() {
  local label=$1 script=$2; shift 2
  "$WRK" -t1 -c"$CONNECTIONS" -d2s -s "$script" "$@" "http://127.0.0.1:$PORT" >/dev/null  # warm-up
  # The server's CPU time per request (user + system, all threads) is printed too: on a shared,
  # loaded machine latency mostly measures the wait for a CPU, CPU time per request does not.
  local out cpu0 cpu1
  cpu0=$(awk '{print $14 + $15}' "/proc/$VEZA_PID/stat")
  out=$("$WRK" -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "$@" "http://127.0.0.1:$PORT")
  cpu1=$(awk '{print $14 + $15}' "/proc/$VEZA_PID/stat")
  echo "$out" | grep -q "Non-2xx" && { echo "$out" >&2; die "$label: some answers were not 2xx"; }
  local p50 p99 rps requests cpu
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  rps=$(echo "$out" | awk '$1 == "Requests/sec:" {print $2}')
  requests=$(echo "$out" | awk '$2 == "requests" && $3 == "in" {print $1}')
  cpu=$(awk -v t="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN {printf "%.2f", (n > 0 ? t * 1000 / hz / n : 0)}')
  echo "$label p50 $p50 p99 $p99 req/s $rps cpu-ms/req $cpu load $(cut -d' ' -f1 /proc/loadavg)"
  # For scripts/bench-all: the p99 in ms; no peer (the goal is p99 <= 20 ms).
  echo "RESULT ${BENCH}_$label ms-p99 $(to_ms "$p99") - - lower"
}

# wrk's durations ("824.00us", "15.24ms", "1.02s") in milliseconds.
to_ms() {
  awk -v d="$1" 'BEGIN {
    if (d ~ /us$/) printf "%.2f", substr(d, 1, length(d) - 2) / 1000
    else if (d ~ /ms$/) printf "%.2f", substr(d, 1, length(d) - 2)
    else if (d ~ /s$/) printf "%.2f", substr(d, 1, length(d) - 1) * 1000
    else print d }'
}
