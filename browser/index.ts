// The device SDK for a browser page: PushClient on the browser's WebSocket, its state in
// localStorage, the relay picked from the edge's node list. Built into one ES module served by the
// edge at /sdk/browser.js; also the package export "pushmesh/browser" for apps with a bundler.
import { type Candidate, fetchNodeList, pickRelay } from "../core/client/bootstrap.ts";
import { type ClientEvent, PushClient, type ReceivedMessage, type ReceivedTopicMessage } from "../core/client/client.ts";
import { webSocketTransport } from "../core/client/transport.ts";
import { LocalStorageStateStore, type StorageLike } from "./state-store.ts";
import { acceptPushesFromServiceWorker, handlePushesInServiceWorker, PUSHED_MESSAGE_TYPE, subscribeToWebPush } from "./web-push.ts";

export { fetchNodeList, pickRelay, PushClient, webSocketTransport, LocalStorageStateStore };
export { acceptPushesFromServiceWorker, handlePushesInServiceWorker, PUSHED_MESSAGE_TYPE, subscribeToWebPush };
export type { ClientEvent, ReceivedMessage, ReceivedTopicMessage, StorageLike };

export type BrowserDeviceOptions = {
  /** The edge's base URL, e.g. https://push.example.com. */
  edge: string;
  deviceId: string;
  /** The device token from POST /v1/devices. */
  token: string;
  /** Topics to subscribe to once connected (subscriptions outlive the page). */
  topics?: string[];
  onMessage: (message: ReceivedMessage) => void | Promise<void>;
  onTopicMessage?: (message: ReceivedTopicMessage) => void | Promise<void>;
  onEvent?: (event: ClientEvent) => void;
  /** Called with each topic's start offset once the relay has the subscription. */
  onSubscribed?: (topic: string, startOffset: number) => void;
  /** Where the state lives; default localStorage under `pushmesh:<deviceId>`. */
  storage?: StorageLike;
  storageKey?: string;
  region?: string;
};

/** Opens a WebSocket and resolves with how long it took to open. */
function probeWebSocket(candidate: Candidate): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(candidate.address);
    ws.onopen = () => {
      resolve(performance.now() - started);
      ws.close();
    };
    ws.onerror = () => reject(new Error(`${candidate.address} did not open`));
  });
}

/** Picks a relay, connects, resumes from the stored state and subscribes to `topics`. */
export async function connectBrowserDevice(options: BrowserDeviceOptions): Promise<PushClient> {
  const storageKey = options.storageKey ?? `pushmesh:${options.deviceId}`;
  const storage = options.storage ?? globalThis.localStorage;
  const fallbackKey = `${storageKey}:relays`;
  const fallback = JSON.parse(storage.getItem(fallbackKey) ?? "[]") as Candidate[];
  const picked = await pickRelay({
    transport: "ws",
    fetchNodes: () => fetchNodeList((url, init) => fetch(url, init), options.edge, { region: options.region }),
    fallback,
    probe: probeWebSocket,
    remember: (list) => storage.setItem(fallbackKey, JSON.stringify(list)),
  });
  if (picked.ordered.length === 0) throw new Error(`no relay to connect to: ${options.edge}/v1/nodes listed none`);
  const client = new PushClient({
    deviceId: options.deviceId,
    token: options.token,
    addresses: picked.ordered.map((c) => c.address),
    transport: webSocketTransport(),
    state: new LocalStorageStateStore(storageKey, storage),
    heartbeat: picked.heartbeat?.default,
    onMessage: options.onMessage,
    onTopicMessage: options.onTopicMessage,
    onEvent: options.onEvent,
  });
  await client.start();
  // Pushes a service worker got (browser/web-push.ts) reach the app once, before or after the socket's copy.
  acceptPushesFromServiceWorker(client);
  for (const topic of options.topics ?? []) {
    client.subscribe(topic).then(
      (offset) => options.onSubscribed?.(topic, offset),
      (error: unknown) => options.onEvent?.({ type: "error", code: "SUBSCRIBE_FAILED", message: `${topic}: ${String(error)}` }),
    );
  }
  return client;
}
