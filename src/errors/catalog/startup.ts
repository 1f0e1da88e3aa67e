/** Configuration, start-up and the database: codes `certbound serve` and every command can meet. */
import type { CatalogEntry } from './entry.js';

const SQLITE = 'an unusable SQLite file';

export const STARTUP_CODES = {
  ERR_CONFIG_INVALID: {
    surfaces: ['cli', 'start-up'],
    meaning: 'a setting is invalid; the message names the variable or file key, the value and what is expected (docs/configuration.md)',
    hint: 'Correct the named setting; docs/configuration.md lists every setting with its default.',
  },
  ERR_RUNTIME_UNSUPPORTED: {
    surfaces: ['cli', 'start-up'],
    meaning: 'started on a Node.js older than 22 (docs/decisions/003-node-22-pin.md)',
    hint: 'Run certbound with Node.js 22 (npm ci installs it into node_modules).',
  },
  ERR_LISTEN: {
    surfaces: ['start-up'],
    meaning: 'a listener cannot bind its address or port, naming the setting',
    hint: 'Stop the other process on that port, or choose another port or address in the named setting.',
  },
  ERR_NO_ACTIVE_KEY: {
    surfaces: ['start-up'],
    meaning: 'the server starts without an active signing key (development mode creates one)',
    hint: 'Run `certbound keys rotate` with the same database (and CERTBOUND_KEY_ENCRYPTION_KEY), then start again.',
  },
  ERR_KEY_ENCRYPTION_KEY_MISSING: {
    status: 500,
    surfaces: ['cli', 'start-up', 'admin-api'],
    meaning: 'signing keys are encrypted at rest but `CERTBOUND_KEY_ENCRYPTION_KEY` is not set (also refuses storing a new key in plaintext beside encrypted ones)',
    hint: 'Set CERTBOUND_KEY_ENCRYPTION_KEY to the key the server was started with.',
  },
  ERR_KEY_ENCRYPTION_KEY_WRONG: {
    status: 500,
    surfaces: ['cli', 'start-up', 'admin-api'],
    meaning: 'a signing key does not decrypt with the configured key',
    hint: 'Use the key-encryption key the keys were written with.',
  },
  ERR_DATABASE_NOT_CURRENT: {
    surfaces: ['cli', 'start-up'],
    meaning: 'pending migrations with `CERTBOUND_MIGRATE_ON_START=false`, or migrations a newer certbound applied',
    hint: 'Run `certbound migrate` with this version, or run the certbound version that migrated the database.',
  },
  ERR_DATABASE_UNAVAILABLE: {
    status: 503,
    oauthError: 'temporarily_unavailable',
    surfaces: ['oauth', 'cli', 'log'],
    meaning: 'PostgreSQL does not answer within `CERTBOUND_DATABASE_TIMEOUT_MS`',
    hint: 'Check that PostgreSQL is running and reachable at that address and that CERTBOUND_DATABASE_URL is right, then retry.',
  },
  ERR_TOO_MANY_PENDING_REQUESTS: {
    status: 503,
    oauthError: 'temporarily_unavailable',
    surfaces: ['oauth', 'log'],
    meaning: '`CERTBOUND_MAX_PENDING_REQUESTS` requests already in progress',
    hint: 'Retry after the Retry-After delay; if it persists, check the database latency or raise CERTBOUND_MAX_PENDING_REQUESTS.',
  },
  ERR_DATABASE_PATH: {
    surfaces: ['cli', 'start-up'],
    meaning: `${SQLITE}: part of its path is a file, not a directory`,
    hint: 'Move that file away, or point CERTBOUND_DATABASE_URL (or CERTBOUND_DATA_DIR) at a path inside a directory.',
  },
  ERR_DATABASE_READONLY: {
    surfaces: ['cli', 'start-up'],
    meaning: `${SQLITE}: its directory or file is read-only, or permission is denied`,
    hint: 'Make the directory writable by this user (SQLite also writes -wal and -shm files beside it), or point CERTBOUND_DATABASE_URL at a writable place.',
  },
  ERR_DATABASE_FULL: {
    surfaces: ['cli', 'start-up'],
    meaning: `${SQLITE}: the disk holding it is full`,
    hint: 'Free space on its file system (or raise its quota), then retry.',
  },
  ERR_DATABASE_CORRUPT: {
    surfaces: ['cli', 'start-up'],
    meaning: `${SQLITE}: the file is not a SQLite database`,
    hint: "Check that the setting names certbound's database; if it does, restore it from a backup.",
  },
  ERR_DATABASE_OPEN: {
    surfaces: ['cli', 'start-up'],
    meaning: `${SQLITE} that cannot be opened, or a PostgreSQL server that refuses the connection (no such database, no such role, wrong password)`,
    hint: 'Check the path (or the database, user and password in CERTBOUND_DATABASE_URL) the message names.',
  },
  ERR_DATABASE_IO: {
    surfaces: ['cli', 'start-up'],
    meaning: `${SQLITE}: reading or writing it failed`,
    hint: 'Check the disk holding it (space, errors in the system log), then retry.',
  },
  ERR_DATABASE_BUSY: {
    surfaces: ['cli', 'start-up'],
    meaning: `${SQLITE}: it stayed locked by another process`,
    hint: 'Retry when the other certbound command or server has finished its change.',
  },
} as const satisfies Record<string, CatalogEntry>;
