// The edge spool's own database: a local libSQL file beside each edge, never the store. Sends the
// edge took while the store was away wait here in order; refusals are kept a while for tracking.
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const spooledSends = sqliteTable(
  "spooled_sends",
  {
    /** The forwarding order: the order the edge took the sends in. */
    seq: integer().primaryKey({ autoIncrement: true }),
    appId: text().notNull(),
    messageId: text().notNull().unique(),
    acceptedAt: integer().notNull(),
    /** The send request as the API took it, as JSON. */
    request: text().notNull(),
    bytes: integer().notNull(),
    idempotencyKey: text(),
    requestHash: text(),
    attempts: integer().notNull().default(0),
    lastError: text(),
    /** The edge this send is to be handed over to (the edge this one forwards writes to); null: the store, directly. */
    forwardTo: text(),
  },
  (t) => [index("spooled_sends_key").on(t.appId, t.idempotencyKey)],
);

export const spoolRefusals = sqliteTable(
  "spool_refusals",
  {
    messageId: text().primaryKey(),
    appId: text().notNull(),
    acceptedAt: integer().notNull(),
    refusedAt: integer().notNull(),
    code: text().notNull(),
    message: text().notNull(),
  },
  (t) => [index("spool_refusals_at").on(t.refusedAt)],
);
