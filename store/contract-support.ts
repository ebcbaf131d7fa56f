// What the store's contract suites share: how a test opens a store, a message, and the send
// path's write and the tracking read in the shape production makes them.
import { decodeValue, encodeData } from "../core/codec.ts";
import { uuidv7 } from "../core/ids.ts";
import type { PurgeKind, RetentionDefaults } from "../core/retention.ts";
import type { NewMessage, Payload, Store } from "../core/store.ts";
import { trackMessage } from "../core/tracking.ts";
import type { LibsqlStore } from "./libsql-store.ts";

export type OpenStore = () => Promise<LibsqlStore & AsyncDisposable>;

/** How a contract declares a case: `test`, or `test.serial` where stores share one server. */
export type ContractTest = (name: string, run: () => Promise<void>, timeout?: number) => void;

export const message = (appId: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  appId,
  messageId: uuidv7(),
  priority: 1,
  data: encodeData({ hello: "world" }),
  collapseKey: null,
  category: null,
  createdAt: Date.now(),
  expiresAt: null,
  notification: null,
  fallback: null,
  ...extra,
});

/** A send's write of a message every device gets now, as core/send/write.ts makes it. */
export const enqueue = (store: Store, m: NewMessage, deviceIds: string[]) =>
  store.writeMessage({ message: m, targetCount: deviceIds.length, deliver: deviceIds, deferred: [], at: m.createdAt });

/** The message's counts by state as GET /v1/messages/{id} reports them; null for an unknown message. */
export const messageStatus = async (store: Store, appId: string, messageId: string) => {
  const tracked = await trackMessage(store, appId, messageId, Date.now(), 0);
  return tracked && { targets: tracked.targets, states: tracked.states };
};

/** A stored body as the app sees it once a device decodes it. */
export const bodyOf = (data: Payload): unknown => (data instanceof Uint8Array ? decodeValue(data) : data);

/** Mesh defaults far out, so a purge in a test touches only apps that set their own retention: stores of one kind may share a server. */
export const FAR_DEFAULTS: RetentionDefaults = {
  settledSeconds: 10 * 365 * 24 * 3600,
  topicSeconds: 10 * 365 * 24 * 3600,
  topicMaxEntries: 1_000_000,
  idempotencySeconds: 10 * 365 * 24 * 3600,
  frequencySeconds: 10 * 365 * 24 * 3600,
};

/** Runs one kind's steps over its whole table; returns the rows deleted. */
export async function purgeAll(store: Store, kind: PurgeKind, over: Partial<RetentionDefaults> & { now?: number; limit?: number } = {}): Promise<number> {
  const { now = Date.now(), limit = 7, ...defaults } = over;
  let deleted = 0;
  let through: number | null = null;
  for (let cursor: number | null = 0; cursor !== null; ) {
    const step = await store.purgeStep({ kind, cursor, through, limit, now, defaults: { ...FAR_DEFAULTS, ...defaults } });
    deleted += step.deleted;
    cursor = step.next;
    through = step.through;
  }
  return deleted;
}
