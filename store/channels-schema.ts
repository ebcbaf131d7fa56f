// The last mile's tables: where a device or user can be reached besides its socket, each app's
// provider credentials (sealed), the fallback queue, and what each channel did with each target.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { apps } from "./schema.ts";

/** A channel endpoint of a device or a user: a Web Push subscription, an FCM or APNs token, an email address. */
export const channelEndpoints = sqliteTable(
  "channel_endpoints",
  {
    appId: text()
      .notNull()
      .references(() => apps.id),
    /** `device` or `user`. */
    subjectType: text().notNull(),
    subjectId: text().notNull(),
    kind: text().notNull(),
    /** What tells two endpoints of one kind apart: the push URL, the token, the address. */
    address: text().notNull(),
    /** The endpoint as the API took it, JSON (core/channels.ts ChannelEndpoint). */
    endpoint: text().notNull(),
    createdAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.subjectType, t.subjectId, t.kind, t.address] })],
);

/** An app's credentials for one provider, sealed with the mesh's key; `public` is what the API may show (e.g. the VAPID public key). */
export const channelCredentials = sqliteTable(
  "channel_credentials",
  {
    appId: text()
      .notNull()
      .references(() => apps.id),
    kind: text().notNull(),
    /** AES-256-GCM: base64url(iv) "." base64url(ciphertext) of the credentials' JSON. */
    sealed: text().notNull(),
    /** JSON object. */
    public: text().notNull().default("{}"),
    updatedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.kind] })],
);

/** 0 waiting: due at `dueAt`; 1 finished: `outcome` says how. */
export const FallbackState = { waiting: 0, finished: 1 } as const;

/** One target of a message whose socket delivery has a fallback: due `after` the send unless the device acked first. */
export const fallbackJobs = sqliteTable(
  "fallback_jobs",
  {
    messageId: text().notNull(),
    appId: text().notNull(),
    deviceId: text().notNull(),
    seq: integer().notNull(),
    /** JSON array of channel kinds, tried in order. */
    channels: text().notNull(),
    dueAt: integer().notNull(),
    attempts: integer().notNull().default(0),
    state: integer().notNull().default(FallbackState.waiting),
    /** acked (the socket got there first), sent (a channel accepted), expired, no_endpoint or exhausted. */
    outcome: text(),
    /** Order under load: high first. */
    priority: integer().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.deviceId] }),
    index("fallback_jobs_due")
      .on(t.priority, t.dueAt)
      .where(sql`${t.state} = 0`),
  ],
);

/** What one channel did with one target: queued, sent (to the provider), accepted, rejected, gone, retrying. */
export const channelDeliveries = sqliteTable(
  "channel_deliveries",
  {
    messageId: text().notNull(),
    deviceId: text().notNull(),
    kind: text().notNull(),
    state: text().notNull(),
    /** The provider's reason for a rejection, a removal or a retry. */
    reason: text(),
    at: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.deviceId, t.kind] })],
);

/** An app's message templates: per locale, push and email variants (core/templates.ts). */
export const templates = sqliteTable(
  "templates",
  {
    appId: text()
      .notNull()
      .references(() => apps.id),
    name: text().notNull(),
    defaultLocale: text().notNull(),
    /** JSON object: locale → {push?, email?}. */
    locales: text().notNull(),
    updatedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.name] })],
);

/** Where an app wants to hear of events, with the secret its deliveries are signed with (sealed). */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text().primaryKey(),
    appId: text()
      .notNull()
      .references(() => apps.id),
    url: text().notNull(),
    /** JSON array of event types. */
    events: text().notNull(),
    secret: text().notNull(),
    /** The secret before the last rotation, still signing beside the new one until `previousUntil`. */
    previousSecret: text(),
    previousUntil: integer(),
    createdAt: integer().notNull(),
  },
  (t) => [index("webhook_endpoints_app").on(t.appId)],
);

/** 0 waiting (for `nextAt`), 1 delivered, 2 given up after a day of retries. */
export const WebhookState = { waiting: 0, delivered: 1, failed: 2 } as const;

/** The durable queue of webhook deliveries: one row per event and endpoint, written with what caused it. */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    /** The event id receivers deduplicate by (Pushmesh-Event-Id). */
    id: text().primaryKey(),
    endpointId: text().notNull(),
    appId: text().notNull(),
    type: text().notNull(),
    /** JSON object. */
    payload: text().notNull(),
    createdAt: integer().notNull(),
    nextAt: integer().notNull(),
    attempts: integer().notNull().default(0),
    state: integer().notNull().default(WebhookState.waiting),
    lastError: text(),
  },
  (t) => [
    index("webhook_events_due")
      .on(t.nextAt)
      .where(sql`${t.state} = 0`),
  ],
);

/** An app's default fallback, for sends that give none. */
export const appFallbacks = sqliteTable("app_fallbacks", {
  appId: text()
    .primaryKey()
    .references(() => apps.id),
  afterSeconds: integer().notNull(),
  /** JSON array of channel kinds. */
  channels: text().notNull(),
  updatedAt: integer().notNull(),
});
