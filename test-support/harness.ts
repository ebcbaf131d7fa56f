// Starts a real mesh for a test: its own libSQL file in a temp dir, every listener on port 0.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClientEvent,
  type ClientStateStore,
  MemoryStateStore,
  PushClient,
  type ReceivedMessage,
  type ReceivedTopicMessage,
} from "../core/client/client.ts";
import { type TcpConnect, type TransportFactory, tcpTransport, webSocketTransport } from "../core/client/transport.ts";
import { type ConfigInput, parseConfig } from "../core/config.ts";
import { silentLog, stderrLog } from "../ops/log.ts";
import { ensureDemoApp, type Mesh, startMesh } from "../ops/mesh.ts";
import { type RelayNode, startRelayNode } from "../relay/relay-node.ts";

export function tempDir(): { path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), "pushmesh-"));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export type TestMesh = Mesh & {
  appId: string;
  apiKey: string;
  dir: string;
  api(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  device(deviceId: string, key?: string): Promise<{ deviceId: string; token: string }>;
  send(to: string | string[], data: unknown, extra?: Record<string, unknown>): Promise<{ messageId: string; targets: number }>;
  /** Another relay node on the same store and engine, as a second machine in the region would be. */
  addRelay(overrides?: Partial<ConfigInput>): Promise<RelayNode>;
  [Symbol.asyncDispose](): Promise<void>;
};

export async function startTestMesh(overrides: Partial<ConfigInput> = {}, dir?: string): Promise<TestMesh> {
  const owned = dir ? null : tempDir();
  const root = dir ?? owned!.path;
  const config = parseConfig({ db: `file:${join(root, "mesh.db")}`, dbSync: "normal", edgePort: 0, wsPort: 0, tcpPort: 0, ...overrides });
  const mesh = await startMesh(config, process.env.PUSHMESH_TEST_LOG ? stderrLog : silentLog);
  const extraRelays: RelayNode[] = [];
  const { appId, apiKey } = await ensureDemoApp(mesh.store);
  const api: TestMesh["api"] = async (method, path, body, key = apiKey) => {
    const res = await fetch(`${mesh.edge}${path}`, {
      // A test's TLS mesh serves a certificate it made itself.
      ...(mesh.edge.startsWith("https:") ? { tls: { rejectUnauthorized: false } } : {}),
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  };
  return {
    ...mesh,
    appId,
    apiKey,
    dir: root,
    api,
    async device(deviceId, key) {
      const res = await api("POST", "/v1/devices", { deviceId }, key);
      if (res.status >= 300) throw new Error(`device registration failed: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async send(to, data, extra = {}) {
      const res = await api("POST", "/v1/messages", { to: Array.isArray(to) ? { deviceIds: to } : { deviceId: to }, data, ...extra });
      if (res.status !== 202) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async addRelay(extra = {}) {
      const relayConfig = parseConfig({ ...config, nodeId: `relay-${extraRelays.length + 2}`, wsPort: 0, tcpPort: 0, ...overrides, ...extra });
      const node = await startRelayNode(relayConfig, { store: mesh.store, engine: mesh.engine, log: silentLog });
      extraRelays.push(node);
      return node;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(extraRelays.map((r) => r.stop()));
      await mesh.stop();
      owned?.[Symbol.dispose]();
    },
  };
}

export type TestDevice = {
  client: PushClient;
  received: ReceivedMessage[];
  topicMessages: ReceivedTopicMessage[];
  events: ClientEvent[];
  waitForTopic(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `received` holds at least n messages. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the `count`-th event of `type` since the device started. */
  waitForEvent(type: ClientEvent["type"], count?: number, timeoutMs?: number): Promise<ClientEvent>;
  [Symbol.asyncDispose](): Promise<void>;
};

export async function connectDevice(
  address: string,
  creds: { deviceId: string; token: string },
  options: {
    transport?: "ws" | "tcp";
    state?: ClientStateStore;
    heartbeat?: number;
    addresses?: string[];
    transportFactory?: TransportFactory;
  } = {},
): Promise<TestDevice> {
  const received: ReceivedMessage[] = [];
  const topicMessages: ReceivedTopicMessage[] = [];
  const events: ClientEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const client = new PushClient({
    deviceId: creds.deviceId,
    token: creds.token,
    addresses: options.addresses ?? [address],
    transport:
      options.transportFactory ?? (options.transport === "tcp" ? tcpTransport(Bun.connect as unknown as TcpConnect) : webSocketTransport()),
    state: options.state ?? new MemoryStateStore(),
    heartbeat: options.heartbeat,
    reconnect: { minMs: 20, maxMs: 200 },
    onMessage: (m) => {
      received.push(m);
      notify();
    },
    onTopicMessage: (m) => {
      topicMessages.push(m);
      notify();
    },
    onEvent: (e) => {
      events.push(e);
      notify();
    },
  });
  const until = (check: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      };
      waiters.add(waiter);
    });
  await client.start();
  return {
    client,
    received,
    topicMessages,
    events,
    waitForTopic: (n, timeoutMs = 10_000) =>
      until(() => topicMessages.length >= n, `${n} topic messages (have ${topicMessages.length})`, timeoutMs),
    waitFor: (n, timeoutMs = 10_000) => until(() => received.length >= n, `${n} messages (have ${received.length})`, timeoutMs),
    async waitForEvent(type, count = 1, timeoutMs = 10_000) {
      const ofType = () => events.filter((e) => e.type === type);
      await until(() => ofType().length >= count, `${count} '${type}' events`, timeoutMs);
      return ofType()[count - 1]!;
    },
    async [Symbol.asyncDispose]() {
      await client.stop();
    },
  };
}

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Sequences handed to the app must be strictly increasing: in order, none twice. */
export function assertStrictlyIncreasing(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i]! <= seqs[i - 1]!) throw new Error(`seq ${seqs[i]} after ${seqs[i - 1]} at index ${i}`);
  }
}
