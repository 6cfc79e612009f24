/** One step of the store's schema; applied in order, each in its own transaction. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** `PRAGMA application_id` of every store: "mitm" in ASCII, so `file(1)` and we can tell it apart. */
export const APPLICATION_ID = 0x6d69746d;

/** The first migration is the schema itself (docs/store.md describes every column). */
const SCHEMA_1 = `
CREATE TABLE schema_migrations (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  TEXT NOT NULL
);

CREATE TABLE flows (
  id                    INTEGER PRIMARY KEY,
  proxy_flow_id         INTEGER NOT NULL,
  started_at            REAL NOT NULL,
  method                TEXT NOT NULL,
  url                   TEXT NOT NULL,
  host                  TEXT NOT NULL,
  path                  TEXT NOT NULL,
  status                INTEGER,
  status_message        TEXT,
  content_type          TEXT,
  request_http_version  TEXT NOT NULL,
  response_http_version TEXT,
  request_headers       TEXT NOT NULL,
  response_headers      TEXT,
  request_size          INTEGER,
  response_size         INTEGER,
  duration_ms           REAL,
  timings               TEXT NOT NULL,
  error_code            TEXT,
  error_message         TEXT,
  incomplete            INTEGER NOT NULL,
  synthetic             INTEGER NOT NULL,
  tags                  TEXT NOT NULL,
  mode                  TEXT,
  user                  TEXT,
  client_address        TEXT NOT NULL,
  client_port           INTEGER NOT NULL,
  connection_id         INTEGER NOT NULL,
  server_address        TEXT,
  server_port           INTEGER,
  tls                   TEXT,
  is_websocket          INTEGER NOT NULL,
  is_sse                INTEGER NOT NULL,
  ws_omitted            INTEGER NOT NULL
);
CREATE INDEX flows_host ON flows (host);
CREATE INDEX flows_status ON flows (status);
CREATE INDEX flows_started_at ON flows (started_at);

CREATE TABLE bodies (
  flow_id          INTEGER NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  side             TEXT NOT NULL CHECK (side IN ('request', 'response')),
  raw              BLOB NOT NULL,
  content_encoding TEXT,
  text             TEXT,
  cut              INTEGER NOT NULL,
  full_length      INTEGER,
  PRIMARY KEY (flow_id, side)
);

CREATE TABLE ws_messages (
  flow_id   INTEGER NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  seq       INTEGER NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('client-to-server', 'server-to-client')),
  time      REAL NOT NULL,
  type      TEXT NOT NULL CHECK (type IN ('text', 'binary')),
  data      BLOB NOT NULL,
  size      INTEGER NOT NULL,
  cut       INTEGER NOT NULL,
  PRIMARY KEY (flow_id, seq)
);

CREATE TABLE sse_events (
  flow_id INTEGER NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  event   TEXT,
  data    TEXT NOT NULL,
  last_id TEXT,
  retry   INTEGER,
  PRIMARY KEY (flow_id, seq)
);
`;

/**
 * TLS facts of both sides (flow.tls) as two JSON columns, and the few a query filters on as columns
 * of their own. The schema's `tls` column (`{sni, alpn, chainFingerprints, issuer}`, which only a
 * library caller of `append` could fill) is carried over into those and dropped.
 */
const TLS_FACTS_2 = `
ALTER TABLE flows ADD COLUMN client_tls TEXT;
ALTER TABLE flows ADD COLUMN origin_tls TEXT;
ALTER TABLE flows ADD COLUMN tls_sni TEXT;
ALTER TABLE flows ADD COLUMN origin_cert_issuer TEXT;
ALTER TABLE flows ADD COLUMN origin_cert_sha256 TEXT;
UPDATE flows SET
  tls_sni = json_extract(tls, '$.sni'),
  origin_cert_issuer = json_extract(tls, '$.issuer'),
  origin_cert_sha256 = json_extract(tls, '$.chainFingerprints[0]')
WHERE tls IS NOT NULL AND json_valid(tls);
ALTER TABLE flows DROP COLUMN tls;
CREATE INDEX flows_tls_sni ON flows (tls_sni);
`;

/**
 * A body's text kept once when it is the raw bytes themselves (an uncoded, whole, UTF-8 textual
 * body): `text_is_raw` says so and `text` stays NULL. The `body_texts` view gives every body's
 * text whichever column holds it, for the sqlite3 shell. Rows written before keep their copy.
 */
const TEXT_ONCE_3 = `
ALTER TABLE bodies ADD COLUMN text_is_raw INTEGER NOT NULL DEFAULT 0;
CREATE VIEW body_texts AS
  SELECT flow_id, side, CASE WHEN text_is_raw = 1 THEN CAST(raw AS TEXT) ELSE text END AS text FROM bodies;
`;

/**
 * The four indexes of `flows` (host, status, started_at, tls_sni) dropped: mitm reads flows by id
 * (`rowid`) and filters them as it reads, so no query of its own used them, and each cost every
 * INSERT a B-tree update (a sixth of the SQL per flow, docs/performance.md). A shell user who
 * queries a large store by one of these columns can create the index (docs/store.md).
 */
const NO_FLOW_INDEXES_4 = `
DROP INDEX IF EXISTS flows_host;
DROP INDEX IF EXISTS flows_status;
DROP INDEX IF EXISTS flows_started_at;
DROP INDEX IF EXISTS flows_tls_sni;
`;

/** Every migration, oldest first; the last one's version is the schema this code reads and writes. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'the schema', sql: SCHEMA_1 },
  { version: 2, description: 'TLS facts of both sides', sql: TLS_FACTS_2 },
  { version: 3, description: 'a body text that is its raw bytes kept once', sql: TEXT_ONCE_3 },
  { version: 4, description: 'no indexes on flows but its id', sql: NO_FLOW_INDEXES_4 },
];
