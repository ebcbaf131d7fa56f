// The source of truth for the store. `npm run db:generate` turns changes here into SQL in migrations/.
import { sql } from "drizzle-orm";
import { customType, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * A message body as the relay pushes it: CBOR bytes, encoded once at the edge (core/codec.ts
 * encodeData). Rows written before migration 0003 hold JSON text; SQLite keeps each value's
 * storage class, so those read back as a string (store/payload.ts turns them into bytes).
 */
const payload = customType<{ data: Uint8Array | string; driverData: ArrayBuffer | Uint8Array | string }>({
  dataType: () => "blob",
  fromDriver: (value) => (typeof value === "string" ? value : value instanceof Uint8Array ? value : new Uint8Array(value)),
  toDriver: (value) => value,
});

export const apps = sqliteTable("apps", {
  id: text().primaryKey(),
  name: text().notNull(),
  /** Signs this app's device tokens; per app so one app's tokens never open another's devices. */
  tokenSecret: text().notNull(),
  createdAt: integer().notNull(),
});

/** An app's own retention, where it differs from the mesh's defaults (config `retention*`); null: the default. */
export const appRetention = sqliteTable("app_retention", {
  appId: text()
    .primaryKey()
    .references(() => apps.id),
  /** Settled inbox rows, settled waiting targets and messages nobody references, after this long. */
  settledSeconds: integer(),
  /** Topic stream entries older than this. */
  topicSeconds: integer(),
  /** Topic stream entries beyond this many newest per topic. */
  topicMaxEntries: integer(),
  updatedAt: integer().notNull(),
});

/** Origins whose pages may call an app's device-facing routes from a browser (CORS). */
export const appCorsOrigins = sqliteTable(
  "app_cors_origins",
  {
    appId: text().notNull(),
    /** An origin as browsers send it (`https://app.example.com`), or `*` for any. */
    origin: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.origin] }), index("app_cors_origins_origin").on(t.origin)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text().primaryKey(),
    appId: text()
      .notNull()
      .references(() => apps.id),
    /** SHA-256 of the whole key, hex; the key itself is shown once and never stored. */
    keyHash: text().notNull(),
    name: text().notNull(),
    /** Comma-separated scopes: send, read, admin. */
    scopes: text().notNull().default("send,read"),
    createdAt: integer().notNull(),
    revokedAt: integer(),
  },
  (t) => [uniqueIndex("api_keys_key_hash").on(t.keyHash)],
);

export const devices = sqliteTable(
  "devices",
  {
    appId: text()
      .notNull()
      .references(() => apps.id),
    id: text().notNull(),
    userId: text(),
    platform: text(),
    /** The device's language for templates (a tag such as pt-BR); null: the template's default. */
    locale: text(),
    /** Changes only when the device's sequence history is reset; a client that sees a new epoch drops its own. */
    epoch: integer().notNull(),
    /** Highest sequence assigned to this device; the next message gets lastSeq + 1. */
    lastSeq: integer().notNull().default(0),
    /** Highest sequence the device acknowledged. */
    ackedSeq: integer().notNull().default(0),
    /** Tokens issued at or before this time (ms) no longer open sessions; null: none revoked. */
    tokensRevokedAt: integer(),
    /** The region whose store is to hold the device's sequences and inbox; null: registered before homes, the store's own region. */
    home: text(),
    createdAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index("devices_user").on(t.appId, t.userId)],
);

/**
 * The directory of homes, in the global database: which region's store holds each device, and its
 * user, so an edge in any region finds where a send must be written (a local read of its replica).
 * Written when a device is registered and when its home moves; rarely, as the global database wants.
 */
export const deviceHomes = sqliteTable(
  "device_homes",
  {
    appId: text().notNull(),
    deviceId: text().notNull(),
    home: text().notNull(),
    userId: text(),
    updatedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.deviceId] }), index("device_homes_user").on(t.appId, t.userId)],
);

export const messages = sqliteTable(
  "messages",
  {
    id: text().primaryKey(),
    appId: text()
      .notNull()
      .references(() => apps.id),
    priority: integer().notNull(),
    /** The message body as CBOR bytes (JSON text in rows from before migration 0003). */
    data: payload().notNull(),
    collapseKey: text(),
    /** The sender's label for mutes and frequency caps (preferences); null: none. */
    category: text(),
    createdAt: integer().notNull(),
    /** Milliseconds since the epoch after which the message is never delivered; null: never expires. */
    expiresAt: integer(),
    targetCount: integer().notNull(),
    /** JSON {title, body} for the last-mile channels; null: none. */
    notification: text(),
    /** JSON {afterMs, channels}; null: no fallback. */
    fallback: text(),
  },
  (t) => [index("messages_app_created").on(t.appId, t.createdAt)],
);

/** pending and delivered rows are pushed (delivered ones again after a device lost its state); the others never are. */
export const InboxState = { pending: 0, delivered: 1, expired: 2, collapsed: 3, suppressed: 4, failed: 5 } as const;
export type InboxStateName = keyof typeof InboxState;

/** One row per (device, message): the device's offline sequence. */
export const inbox = sqliteTable(
  "inbox",
  {
    appId: text().notNull(),
    deviceId: text().notNull(),
    seq: integer().notNull(),
    messageId: text()
      .notNull()
      .references(() => messages.id),
    state: integer().notNull().default(InboxState.pending),
    deliveredAt: integer(),
    /** Copied from the message so a newer one can collapse pending rows without a join. */
    collapseKey: text(),
    /** Why a failed row could not be delivered (e.g. frame_too_large, undecodable_payload). */
    reason: text(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.deviceId, t.seq] }),
    index("inbox_message").on(t.messageId),
    index("inbox_pending_collapse")
      .on(t.appId, t.deviceId, t.collapseKey)
      .where(sql`${t.state} = 0 AND ${t.collapseKey} IS NOT NULL`),
  ],
);

export const nodes = sqliteTable("nodes", {
  id: text().primaryKey(),
  region: text().notNull(),
  wsUrl: text().notNull(),
  tcpAddr: text().notNull(),
  /** JSON array of raw IP addresses a device may use when DNS fails. */
  ips: text().notNull().default("[]"),
  capacity: integer().notNull(),
  connections: integer().notNull().default(0),
  draining: integer({ mode: "boolean" }).notNull().default(false),
  /** Who set `draining`: an operator's drain outlives a restart, a graceful stop's does not. */
  drainedBy: text({ enum: ["operator", "shutdown"] }),
  version: text().notNull(),
  weight: integer().notNull().default(100),
  startedAt: integer().notNull(),
  updatedAt: integer()
    .notNull()
    .default(sql`0`),
});

/** One row per relay per minute: what it pushed and had acknowledged, for the dashboard's charts; pruned after two hours. */
export const relaySamples = sqliteTable(
  "relay_samples",
  {
    nodeId: text().notNull(),
    region: text().notNull(),
    /** The start of the minute, ms since the epoch. */
    at: integer().notNull(),
    pushed: integer().notNull(),
    delivered: integer().notNull(),
    p50Ms: integer(),
    p99Ms: integer(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.at] }), index("relay_samples_at").on(t.at)],
);

/** Secrets of the mesh itself rather than of an app, made at first use (e.g. the dev operator key's seed). */
export const meshSecrets = sqliteTable("mesh_secrets", {
  name: text().primaryKey(),
  value: text().notNull(),
  createdAt: integer().notNull(),
});

/** Every operator and app-admin action, appended and never changed: who, what, on what, when, from where. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer().primaryKey({ autoIncrement: true }),
    at: integer().notNull(),
    /** operator, app_key (an app's key, keyId and appId say which) or cli (the store opened directly). */
    actorKind: text({ enum: ["operator", "app_key", "cli"] }).notNull(),
    actorKeyId: text(),
    /** The app the action belongs to; null for a fleet action. */
    appId: text(),
    action: text().notNull(),
    target: text().notNull(),
    /** JSON object. */
    details: text().notNull().default("{}"),
    /** The client's address as the edge saw it; null when it did not know. */
    fromAddress: text(),
  },
  (t) => [index("audit_log_app").on(t.appId, t.id)],
);

export const schema = { apps, apiKeys, devices, messages, inbox, nodes, meshSecrets, auditLog };

// --- Edge: preferences, targets held back from the inbox, frequency caps, idempotency keys ---

/** Delivery preferences of one device or one user; a device's own settings win over its user's. */
export const preferences = sqliteTable(
  "preferences",
  {
    appId: text()
      .notNull()
      .references(() => apps.id),
    /** `device` or `user`. */
    subjectType: text().notNull(),
    subjectId: text().notNull(),
    /** IANA time zone quiet hours are read in (e.g. Europe/Berlin); null: UTC. */
    timeZone: text(),
    /** Quiet hours as minutes after local midnight, [start, end); start > end spans midnight. Null: none. */
    quietStart: integer(),
    quietEnd: integer(),
    /** High-priority messages pass through quiet hours. */
    quietAllowHigh: integer({ mode: "boolean" }).notNull().default(false),
    /** JSON array of categories never delivered. */
    mutedCategories: text().notNull().default("[]"),
    /** JSON array of {category, limit, windowSeconds}. */
    frequencyCaps: text().notNull().default("[]"),
    updatedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.subjectType, t.subjectId] })],
);

/**
 * Targets without an inbox row: a message's targets wait here while scheduled (deliverAt, delay)
 * or held (quiet hours), and end here when suppressed (mute, frequency cap) or expired before
 * release. They take no sequence, so a device never sees a gap for them.
 */
export const DeferredState = { scheduled: 0, held: 1, suppressed: 2, expired: 3 } as const;
export type DeferredStateName = keyof typeof DeferredState;

export const deferredTargets = sqliteTable(
  "deferred_targets",
  {
    messageId: text()
      .notNull()
      .references(() => messages.id),
    appId: text().notNull(),
    deviceId: text().notNull(),
    state: integer().notNull(),
    /** schedule, quiet_hours, muted, frequency_cap or ttl. */
    reason: text().notNull(),
    /** When a scheduled or held target is due; for the final states, when it got there. */
    releaseAt: integer().notNull(),
    updatedAt: integer().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.deviceId] }),
    index("deferred_targets_due")
      .on(t.releaseAt)
      .where(sql`${t.state} < 2`),
  ],
);

/**
 * One row per deferred target moved into the inbox. The primary key is the guard against a double
 * release: a second release of the same target fails the whole batch that would have written it.
 */
export const releasedTargets = sqliteTable(
  "released_targets",
  {
    messageId: text()
      .notNull()
      .references(() => messages.id),
    deviceId: text().notNull(),
    releasedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.deviceId] })],
);

/** Messages of a capped category let through to a device: what its frequency cap counts. */
export const frequencyLog = sqliteTable(
  "frequency_log",
  {
    appId: text().notNull(),
    deviceId: text().notNull(),
    category: text().notNull(),
    messageId: text().notNull(),
    at: integer().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.deviceId, t.category, t.messageId] }),
    index("frequency_log_window").on(t.appId, t.deviceId, t.category, t.at),
  ],
);

/** A send's idempotency key and its first answer; a repeat gets that answer, never a second message. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    appId: text().notNull(),
    key: text().notNull(),
    /** SHA-256 of the request, so reusing a key for a different request is refused. */
    requestHash: text().notNull(),
    messageId: text().notNull(),
    /** The first answer as JSON, written in the same batch as the message. */
    result: text(),
    createdAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.key] }), index("idempotency_keys_created").on(t.createdAt)],
);
