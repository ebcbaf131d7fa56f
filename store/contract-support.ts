// What the store's contract suites share: how a test opens a store, a message, and the send
// path's write and the tracking read in the shape production makes them.
import { decodeValue, encodeData } from "../core/codec.ts";
import { uuidv7 } from "../core/ids.ts";
import type { NewMessage, Payload, Store } from "../core/store.ts";
import { trackMessage } from "../core/tracking.ts";
import type { LibsqlStore } from "./libsql-store.ts";

export type OpenStore = () => Promise<LibsqlStore & AsyncDisposable>;

export const message = (appId: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  appId,
  messageId: uuidv7(),
  priority: 1,
  data: encodeData({ hello: "world" }),
  collapseKey: null,
  category: null,
  createdAt: Date.now(),
  expiresAt: null,
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
