// The store: apps, keys, devices, per-device inboxes, messages and the node registry, on libSQL.
// The client comes in from the caller (a local file, an embedded replica or sqld over the network);
// this module never opens one itself, so it runs on any runtime @libsql/client runs on.
import type { Client } from "@libsql/client";
import { and, asc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { hashApiKey, newApiKey, newSecret } from "../core/auth.ts";
import { PushmeshError } from "../core/errors.ts";
import { randomEpoch, randomId } from "../core/ids.ts";
import type { PriorityCode } from "../core/protocol.ts";
import { apiKeys, apps, devices, InboxState, type InboxStateName, inbox, messages, nodes, schema } from "./schema.ts";
import { ExpiringCache } from "./expiring-cache.ts";
import { GroupCommit, isGroupWriter, type RunBatch } from "./group-commit.ts";
import { type Assigned, groupStatements, type InboxWrite } from "./inbox-writes.ts";
import type { Statement } from "./statement.ts";
import { TopicStore } from "./topic-streams.ts";
import { type DeliveryMark, markDelivered, markExpired } from "./delivery-marks.ts";
import { type DeviceRecord, DeviceReads, type DeviceRef, type HelloState, type InboxMessage } from "./device-reads.ts";

export type { DeviceRecord, DeviceRef, HelloState, InboxMessage };

/** The drizzle database; `$client` is the libSQL client under it, for statements written by hand. */
export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

export type Scope = "send" | "read" | "admin";
export type ApiKeyIdentity = { keyId: string; appId: string; scopes: Scope[] };

export type NewMessage = {
  appId: string;
  messageId: string;
  priority: PriorityCode;
  /** JSON text of the message body. */
  data: string;
  collapseKey: string | null;
  /** Label for mutes and frequency caps; absent: none. */
  category?: string | null;
  createdAt: number;
  expiresAt: number | null;
};

/** How a send or a release extends `enqueue`'s one atomic batch (core/dispatch.ts). */
export type EnqueueOptions = {
  /** The message row exists already: a scheduled or held message being released. */
  messageStored?: boolean;
  /** Targets of the whole send when some got no inbox row (suppressed, held); default deviceIds.length. */
  targetCount?: number;
  /** Statements run in the same transaction, after the message insert and before the inbox writes. */
  also?: Statement[];
};

export type MessageStatus = {
  messageId: string;
  createdAt: number;
  expiresAt: number | null;
  targets: number;
  states: Record<InboxStateName, number>;
};

export type NodeRecord = {
  id: string;
  region: string;
  wsUrl: string;
  tcpAddr: string;
  ips: string[];
  capacity: number;
  connections: number;
  draining: boolean;
  version: string;
  weight: number;
  startedAt: number;
  updatedAt: number;
};

export type { DeliveryMark };

const API_KEY_CACHE_MS = 30_000;
const API_KEY_CACHE_MAX = 10_000;
/** How long a relay trusts a cached app secret: a rotated secret is seen within this. */
export const APP_SECRET_CACHE_MS = 30_000;
const APP_SECRET_CACHE_MAX = 10_000;
const STATE_NAMES = Object.fromEntries(Object.entries(InboxState).map(([name, code]) => [code, name])) as Record<
  number,
  InboxStateName
>;

export class LibsqlStore {
  readonly db: Db;
  readonly topics: TopicStore;
  private readonly secrets = new ExpiringCache<string, string>(APP_SECRET_CACHE_MS, APP_SECRET_CACHE_MAX);
  private readonly reads: DeviceReads;
  private readonly keyCache = new ExpiringCache<string, ApiKeyIdentity | null>(API_KEY_CACHE_MS, API_KEY_CACHE_MAX);
  private readonly writes: GroupCommit<InboxWrite, Assigned[]>;

  constructor(readonly client: Client) {
    this.db = drizzle(client, { schema, casing: "snake_case" });
    this.topics = new TopicStore(this.db);
    this.reads = new DeviceReads(client);
    const run: RunBatch = isGroupWriter(client) ? client.writeGroup : (statements) => client.batch(statements, "write");
    this.writes = new GroupCommit(run, groupStatements);
  }

  // --- apps and keys ---

  async createApp(name: string, now = Date.now()): Promise<{ appId: string; apiKey: string }> {
    const appId = randomId("app");
    await this.db.insert(apps).values({ id: appId, name, tokenSecret: newSecret(), createdAt: now });
    const apiKey = await this.createApiKey(appId, "default", ["send", "read", "admin"], now);
    return { appId, apiKey };
  }

  async createApiKey(appId: string, name: string, scopes: Scope[], now = Date.now()): Promise<string> {
    const key = newApiKey();
    await this.insertApiKey(appId, key, name, scopes, now);
    return key;
  }

  /** Stores the hash of a key the caller made (the dev demo key is derived, not random). */
  async insertApiKey(appId: string, key: string, name: string, scopes: Scope[], now = Date.now()): Promise<void> {
    await this.db
      .insert(apiKeys)
      .values({ id: randomId("key"), appId, keyHash: await hashApiKey(key), name, scopes: scopes.join(","), createdAt: now })
      .onConflictDoNothing();
  }

  async findApp(appId: string): Promise<{ id: string; name: string; tokenSecret: string } | null> {
    const [row] = await this.db.select().from(apps).where(eq(apps.id, appId));
    return row ?? null;
  }

  async listApps(): Promise<{ id: string; name: string; tokenSecret: string }[]> {
    return this.db.select().from(apps).orderBy(asc(apps.createdAt));
  }

  /**
   * The app's token secret. Every HELLO needs it, so it is cached, but only for a short while: a
   * rotated secret must be seen (and the old one refused) within APP_SECRET_CACHE_MS.
   */
  async appSecret(appId: string, now = Date.now()): Promise<string | null> {
    const cached = this.secrets.get(appId, now);
    if (cached !== undefined) return cached;
    const secret = await this.reads.tokenSecret(appId);
    if (secret !== null) this.secrets.set(appId, secret, now);
    return secret;
  }

  /**
   * Resolves an API key; answers are cached briefly, so a revocation takes effect within 30 s.
   * The cache is keyed by the key as sent, not its hash: hashing it on every request was 5–7 % of
   * a single send's CPU. The keys held are only those seen in the last 30 s, in this process.
   */
  async authenticate(key: string, now = Date.now()): Promise<ApiKeyIdentity | null> {
    const cached = this.keyCache.get(key, now);
    if (cached !== undefined) return cached;
    const hash = await hashApiKey(key);
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.keyHash, hash));
    const identity =
      row && row.revokedAt === null
        ? { keyId: row.id, appId: row.appId, scopes: row.scopes.split(",") as Scope[] }
        : null;
    this.keyCache.set(key, identity, now);
    return identity;
  }

  // --- devices ---

  /** Creates the device, or returns the existing one unchanged apart from userId/platform given. */
  async upsertDevice(
    appId: string,
    input: { deviceId: string; userId?: string | null; platform?: string | null },
    now = Date.now(),
  ): Promise<{ device: DeviceRecord; created: boolean }> {
    const inserted = await this.db
      .insert(devices)
      .values({
        appId,
        id: input.deviceId,
        userId: input.userId ?? null,
        platform: input.platform ?? null,
        epoch: randomEpoch(),
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: devices.id });
    const created = inserted.length > 0;
    if (!created && (input.userId !== undefined || input.platform !== undefined)) {
      const set: { userId?: string | null; platform?: string | null } = {};
      if (input.userId !== undefined) set.userId = input.userId;
      if (input.platform !== undefined) set.platform = input.platform;
      await this.db
        .update(devices)
        .set(set)
        .where(and(eq(devices.appId, appId), eq(devices.id, input.deviceId)));
    }
    const device = await this.getDevice(appId, input.deviceId);
    if (!device) throw new PushmeshError("INTERNAL", "device vanished during upsert");
    return { device, created };
  }

  getDevice(appId: string, deviceId: string): Promise<DeviceRecord | null> {
    return this.reads.getDevice(appId, deviceId);
  }

  /**
   * Brings an embedded replica up to date with its primary now, rather than at its next periodic
   * sync; false where the client is not a replica. Callers use it when a read missed something
   * that another process may have just written (a device registered at another edge).
   */
  async freshen(): Promise<boolean> {
    try {
      await this.client.sync();
      return true;
    } catch {
      // Not a replica (a local file or a remote server): there is nothing to catch up with.
      return false;
    }
  }

  /** Throws DEVICE_NOT_FOUND naming every id that is not a device of this app. */
  async requireDevices(appId: string, deviceIds: string[], freshened = false): Promise<void> {
    const known = await this.db
      .select({ id: devices.id })
      .from(devices)
      .where(and(eq(devices.appId, appId), inArray(devices.id, deviceIds)));
    if (known.length === new Set(deviceIds).size) return;
    // A replica may not have pulled a registration made a moment ago elsewhere: catch up once.
    if (!freshened && (await this.freshen())) return this.requireDevices(appId, deviceIds, true);
    const found = new Set(known.map((d) => d.id));
    const missing = deviceIds.filter((d) => !found.has(d));
    throw new PushmeshError("DEVICE_NOT_FOUND", `unknown device(s): ${missing.slice(0, 10).join(", ")}`, {
      details: { deviceIds: missing },
    });
  }

  latestSeq(appId: string, deviceId: string): Promise<number | null> {
    return this.reads.latestSeq(appId, deviceId);
  }

  /** Many devices' latest seqs in one read (null: no such device): a relay's polls while the engine is away. */
  latestSeqs(devices: DeviceRef[]): Promise<(number | null)[]> {
    return this.reads.latestSeqs(devices);
  }

  /** The device's latest seq and its topic subscriptions, in one read. */
  helloState(appId: string, deviceId: string): Promise<HelloState> {
    return this.reads.helloState(appId, deviceId);
  }

  // --- messages and inboxes ---

  /**
   * Writes the message and one inbox row per device, each with the device's next sequence, in one
   * atomic batch. Throws DEVICE_NOT_FOUND (writing nothing) when any target is not in the app.
   */
  async enqueue(message: NewMessage, deviceIds: string[], options: EnqueueOptions = {}): Promise<Assigned[]> {
    try {
      return await this.write({
        message,
        insertMessage: !options.messageStored,
        targetCount: options.targetCount ?? deviceIds.length,
        deviceIds,
        statements: options.also ?? [],
      });
    } catch (error) {
      // An unknown target fails the transaction (inbox-writes.ts); name it, as a send would.
      await this.requireDevices(message.appId, deviceIds);
      throw error;
    }
  }

  /**
   * Joins the next group commit (core/store/group-commit.ts): resolves once the write is durable,
   * with each device's sequence. Writes queued in one synchronous stretch commit together, in order.
   */
  write(write: InboxWrite): Promise<Assigned[]> {
    return this.writes.write(write);
  }

  /** Pushable inbox rows after `afterSeq`, oldest first; expired, collapsed and suppressed rows are left out. */
  readInbox(appId: string, deviceId: string, afterSeq: number, limit: number): Promise<InboxMessage[]> {
    return this.reads.readInbox(appId, deviceId, afterSeq, limit);
  }

  /** Marks every pending row up to each mark's seq delivered at `now`; one atomic batch for many devices. */
  markDelivered(marks: DeliveryMark[], now = Date.now()): Promise<void> {
    return markDelivered(this.client, marks, now);
  }

  markExpired(marks: DeliveryMark[]): Promise<void> {
    return markExpired(this.client, marks);
  }

  /** Per-state counts for one message; a pending row past the message's expiry counts as expired. */
  async messageStatus(appId: string, messageId: string, now = Date.now()): Promise<MessageStatus | null> {
    const [message] = await this.db
      .select()
      .from(messages)
      .where(and(eq(messages.appId, appId), eq(messages.id, messageId)));
    if (!message) return null;
    const rows = await this.db
      .select({ state: inbox.state, count: sql<number>`count(*)` })
      .from(inbox)
      .where(eq(inbox.messageId, messageId))
      .groupBy(inbox.state);
    const states: Record<InboxStateName, number> = { pending: 0, delivered: 0, expired: 0, collapsed: 0, suppressed: 0 };
    const lapsed = message.expiresAt !== null && message.expiresAt <= now;
    for (const { state, count } of rows) {
      const name = STATE_NAMES[state] ?? "pending";
      states[name === "pending" && lapsed ? "expired" : name] += count;
    }
    return {
      messageId,
      createdAt: message.createdAt,
      expiresAt: message.expiresAt,
      targets: message.targetCount,
      states,
    };
  }

  // --- node registry ---

  async upsertNode(node: NodeRecord): Promise<void> {
    const row = { ...node, ips: JSON.stringify(node.ips) };
    // A restarting node keeps an operator's drain flag: only `node undrain` clears it.
    const { id: _id, draining: _draining, ...changes } = row;
    await this.db.insert(nodes).values(row).onConflictDoUpdate({ target: nodes.id, set: changes });
  }

  async reportNodeLoad(id: string, connections: number, now = Date.now()): Promise<{ draining: boolean } | null> {
    const [row] = await this.db
      .update(nodes)
      .set({ connections, updatedAt: now })
      .where(eq(nodes.id, id))
      .returning({ draining: nodes.draining });
    return row ?? null;
  }

  async setNodeDraining(id: string, draining: boolean): Promise<boolean> {
    const rows = await this.db.update(nodes).set({ draining }).where(eq(nodes.id, id)).returning({ id: nodes.id });
    return rows.length > 0;
  }

  async listNodes(): Promise<NodeRecord[]> {
    const rows = await this.db.select().from(nodes);
    return rows.map((r) => ({ ...r, ips: JSON.parse(r.ips) as string[] }));
  }
}

export type Store = LibsqlStore;

