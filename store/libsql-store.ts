// The Store (core/store.ts) on libSQL: a local file, an embedded replica or sqld over the network.
// The client comes in from the caller (store/open.ts opens one); this module never opens one
// itself, so it runs on any runtime @libsql/client runs on (the edge on Deno uses it too). Each
// concern's SQL lives in a file of its own; this class only routes calls to them.
import type { Client } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import type { Preferences } from "../core/preferences.ts";
import type { AppRetention, PurgeStep, PurgeStepResult } from "../core/retention.ts";
import {
  type ApiKeyIdentity,
  type ApiKeyRecord,
  type AuditEntry,
  type NewAuditEntry,
  type AppCounts,
  type AppRecord,
  type Assigned,
  type DeliveryMark,
  type DeviceMove,
  type DeviceRef,
  type ErasedCounts,
  type DeviceRecord,
  type DueTarget,
  type FailureMark,
  type HelloState,
  type IdempotencyRecord,
  type InboxMessage,
  type MessageTargets,
  type MessageWrite,
  type NewMessage,
  type NodeRecord,
  type RelaySample,
  type Scope,
  type Store,
  StoreConflict,
  type Subject,
  type TargetDevice,
  type TopicMark,
  type TopicMessage,
} from "../core/store.ts";
import type { FrequencyCap } from "../core/preferences.ts";
import { deviceNotFound } from "../core/errors.ts";
import { AppRecords } from "./apps.ts";
import { appendAudit, readAudit } from "./audit.ts";
import * as cors from "./cors-origins.ts";
import * as deferred from "./deferred.ts";
import { eraseDevices } from "./erase.ts";
import { markDelivered, markExpired, markFailed, markTopicDelivered } from "./delivery-marks.ts";
import { DeviceReads } from "./device-reads.ts";
import * as homes from "./device-homes.ts";
import * as moves from "./device-moves.ts";
import { devicesOfUser, registerDevices, revokeDeviceTokens, unknownDevices, upsertDevice } from "./devices.ts";
import { GroupCommit, isGroupWriter, type RunBatch } from "./group-commit.ts";
import { findIdempotencyKey, isMessageIdTaken, isUniqueViolation } from "./idempotency.ts";
import { appRetentionOf, purgeStep, setAppRetention } from "./retention.ts";
import { groupStatements } from "./message-writes.ts";
import * as preferences from "./preferences.ts";
import * as registry from "./registry.ts";
import { schema } from "./schema.ts";
import type { Db } from "./statement.ts";
import * as topics from "./topic-streams.ts";
import { appCounts, messageApp, messageTargets } from "./tracking.ts";
import { LastMileMethods } from "./last-mile-methods.ts";

export { API_KEY_CACHE_MS, APP_SECRET_CACHE_MS } from "./apps.ts";

export class LibsqlStore extends LastMileMethods implements Store {
  /** For migrations and the store's own tests; the product goes through the Store methods. */
  readonly db: Db;
  private readonly reads: DeviceReads;
  private readonly apps: AppRecords;
  private readonly writes: GroupCommit<MessageWrite, Assigned[]>;

  constructor(
    readonly client: Client,
    options: { onGroupCommit?: (writes: number, seconds: number) => void } = {},
  ) {
    super();
    this.db = drizzle(client, { schema, casing: "snake_case" });
    this.reads = new DeviceReads(client);
    this.apps = new AppRecords(this.db, this.reads);
    const run: RunBatch = isGroupWriter(client) ? client.writeGroup : (statements) => client.batch(statements, "write");
    this.writes = new GroupCommit(run, groupStatements, 1000, options.onGroupCommit);
  }

  close(): void {
    this.client.close();
  }

  // --- the directory of homes ---
  deviceHomes(appId: string, deviceIds: string[]): Promise<Map<string, string>> {
    return homes.homesOfDevices(this.db, appId, deviceIds);
  }
  userHomes(appId: string, userId: string): Promise<string[]> {
    return homes.homesOfUser(this.db, appId, userId);
  }
  setDeviceHome(appId: string, deviceId: string, home: string, userId?: string | null, now = Date.now()): Promise<void> {
    return homes.setDeviceHome(this.db, appId, deviceId, home, userId, now);
  }
  forgetDeviceHomes(appId: string, deviceIds: string[]): Promise<void> {
    return homes.forgetDeviceHomes(this.db, appId, deviceIds);
  }

  // --- a device's move between homes ---
  sealDevice(appId: string, deviceId: string, to: string, now = Date.now()): Promise<DeviceMove | null> {
    return moves.sealDevice(this.db, appId, deviceId, to, now);
  }
  unsealDevice(appId: string, deviceId: string): Promise<void> {
    return moves.unsealDevice(this.db, appId, deviceId);
  }
  async moveIn(move: DeviceMove): Promise<void> {
    await moves.moveIn(this.db, move);
    for (const topic of move.topics) await this.subscribeTopic(move.appId, topic, [move.deviceId], move.at);
  }
  async finishMoveOut(appId: string, deviceId: string): Promise<void> {
    await eraseDevices(this.db, appId, [deviceId]);
    await moves.dropSealed(this.db, appId, deviceId);
  }

  // --- apps and keys ---
  createApp(name: string, now?: number): Promise<{ appId: string; apiKey: string }> {
    return this.apps.createApp(name, now);
  }
  createApiKey(appId: string, name: string, scopes: Scope[], now?: number): Promise<{ keyId: string; key: string }> {
    return this.apps.createApiKey(appId, name, scopes, now);
  }
  listApiKeys(appId: string): Promise<ApiKeyRecord[]> {
    return this.apps.listApiKeys(appId);
  }
  revokeApiKey(appId: string, keyId: string, at: number): Promise<ApiKeyRecord | null> {
    return this.apps.revokeApiKey(appId, keyId, at);
  }
  meshSecret(name: string): Promise<string> {
    return this.apps.meshSecret(name);
  }
  appendAudit(entry: NewAuditEntry): Promise<void> {
    return appendAudit(this.db, entry);
  }
  readAudit(query: { appId?: string; before?: number; limit: number }): Promise<AuditEntry[]> {
    return readAudit(this.db, query);
  }
  insertApiKey(appId: string, key: string, name: string, scopes: Scope[], now?: number): Promise<void> {
    return this.apps.insertApiKey(appId, key, name, scopes, now);
  }
  adoptApp(appId: string): Promise<void> {
    return this.apps.adoptApp(appId);
  }
  findApp(appId: string): Promise<AppRecord | null> {
    return this.apps.findApp(appId);
  }
  listApps(): Promise<AppRecord[]> {
    return this.apps.listApps();
  }
  appSecret(appId: string, now?: number): Promise<string | null> {
    return this.apps.appSecret(appId, now);
  }
  authenticate(key: string, now?: number): Promise<ApiKeyIdentity | null> {
    return this.apps.authenticate(key, now);
  }

  appCorsOrigins(appId: string): Promise<string[]> {
    return cors.appCorsOrigins(this.db, appId);
  }
  setAppCorsOrigins(appId: string, origins: string[]): Promise<void> {
    return cors.setAppCorsOrigins(this.db, appId, origins);
  }
  corsOriginAllowedByAnyApp(origin: string): Promise<boolean> {
    return cors.corsOriginAllowedByAnyApp(this.db, origin);
  }

  // --- devices ---
  upsertDevice(
    appId: string,
    input: { deviceId: string; userId?: string | null; platform?: string | null; locale?: string | null; home?: string },
    now = Date.now(),
  ): Promise<{ device: DeviceRecord; created: boolean }> {
    return upsertDevice(this.db, this.reads, appId, input, now);
  }
  registerDevices(appId: string, deviceIds: string[], now = Date.now()): Promise<number> {
    return registerDevices(this.db, appId, deviceIds, now);
  }
  getDevice(appId: string, deviceId: string): Promise<DeviceRecord | null> {
    return this.reads.getDevice(appId, deviceId);
  }
  async requireDevices(appId: string, deviceIds: string[]): Promise<void> {
    let missing = await unknownDevices(this.db, appId, deviceIds);
    // A replica may not have pulled a registration made a moment ago elsewhere: catch up once.
    if (missing.length > 0 && (await this.freshen())) missing = await unknownDevices(this.db, appId, deviceIds);
    if (missing.length > 0) throw deviceNotFound(missing);
  }
  devicesOfUser(appId: string, userId: string): Promise<string[]> {
    return devicesOfUser(this.db, appId, userId);
  }
  revokeDeviceTokens(appId: string, deviceId: string, at: number): Promise<boolean> {
    return revokeDeviceTokens(this.db, appId, deviceId, at);
  }
  eraseDevices(appId: string, deviceIds: string[]): Promise<ErasedCounts> {
    return eraseDevices(this.db, appId, deviceIds);
  }
  latestSeq(appId: string, deviceId: string): Promise<number | null> {
    return this.reads.latestSeq(appId, deviceId);
  }
  latestSeqs(devices: DeviceRef[]): Promise<(number | null)[]> {
    return this.reads.latestSeqs(devices);
  }
  helloState(appId: string, deviceId: string): Promise<HelloState> {
    return this.reads.helloState(appId, deviceId);
  }
  async freshen(): Promise<boolean> {
    try {
      await this.client.sync();
      return true;
    } catch {
      // Not a replica (a local file or a remote server): there is nothing to catch up with.
      return false;
    }
  }

  // --- sends ---
  loadTargets(appId: string, deviceIds: string[]): Promise<TargetDevice[]> {
    return preferences.loadTargets(this.db, appId, deviceIds);
  }
  reserveFrequency(
    input: { appId: string; messageId: string; category: string; now: number },
    entries: { deviceId: string; cap: FrequencyCap }[],
  ): Promise<Set<string>> {
    return deferred.reserveFrequency(this.db, input, entries);
  }
  releaseFrequency(appId: string, messageId: string, deviceIds: string[]): Promise<void> {
    return deferred.releaseFrequency(this.db, appId, messageId, deviceIds);
  }
  /** Joins the next group commit (group-commit.ts): writes queued in one synchronous stretch commit together, in order. */
  async writeMessage(write: MessageWrite): Promise<Assigned[]> {
    try {
      return await this.writes.write(write);
    } catch (error) {
      if (isMessageIdTaken(error)) throw new StoreConflict("message_id", { cause: error });
      if (isUniqueViolation(error)) throw new StoreConflict(write.idempotency ? "idempotency_key" : "release", { cause: error });
      // An unknown target fails the transaction (message-writes.ts): name it, as a send would. The
      // replica may still show a device that went a moment ago (erased, or sealed for a move).
      if (write.deliver.length > 0) {
        if (/NOT NULL constraint failed: inbox\.seq/.test(String(error))) await this.freshen();
        await this.requireDevices(write.message.appId, write.deliver);
      }
      throw error;
    }
  }
  findIdempotencyKey(appId: string, key: string): Promise<IdempotencyRecord | null> {
    return findIdempotencyKey(this.db, appId, key);
  }

  // --- schedules ---
  dueTargets(now: number, limit: number): Promise<DueTarget[]> {
    return deferred.dueTargets(this.db, now, limit);
  }
  nextDueAt(): Promise<number | null> {
    return deferred.nextDueAt(this.db);
  }
  waitingTargets(): Promise<number> {
    return deferred.waitingTargets(this.db);
  }
  loadMessages(messageIds: string[]): Promise<NewMessage[]> {
    return deferred.loadMessages(this.db, messageIds);
  }
  // --- retention ---
  appRetention(appId: string): Promise<AppRetention> {
    return appRetentionOf(this.db, appId);
  }
  setAppRetention(appId: string, retention: AppRetention, now = Date.now()): Promise<void> {
    return setAppRetention(this.db, appId, retention, now);
  }
  purgeStep(step: PurgeStep): Promise<PurgeStepResult> {
    return purgeStep(this.client, step);
  }

  // --- delivery ---
  readInbox(appId: string, deviceId: string, afterSeq: number, limit: number): Promise<InboxMessage[]> {
    return this.reads.readInbox(appId, deviceId, afterSeq, limit);
  }
  async markDelivered(marks: DeliveryMark[], now = Date.now()): Promise<void> {
    return markDelivered(this.client, marks, now, await this.appsWantingAcks());
  }
  markExpired(marks: DeliveryMark[]): Promise<void> {
    return markExpired(this.client, marks);
  }
  markFailed(marks: FailureMark[]): Promise<void> {
    return markFailed(this.client, marks);
  }
  markTopicDelivered(marks: TopicMark[]): Promise<void> {
    return markTopicDelivered(this.client, marks);
  }

  // --- topics ---
  subscribeTopic(appId: string, topic: string, deviceIds: string[], now?: number): Promise<number> {
    return topics.subscribeTopic(this.db, appId, topic, deviceIds, now);
  }
  unsubscribeTopic(appId: string, topic: string, deviceIds: string[]): Promise<void> {
    return topics.unsubscribeTopic(this.db, appId, topic, deviceIds);
  }
  topicSubscriberCount(appId: string, topic: string): Promise<number> {
    return topics.topicSubscriberCount(this.db, appId, topic);
  }
  async publishTopic(message: NewMessage, topic: string): Promise<number> {
    try {
      return await topics.publishTopic(this.db, message, topic);
    } catch (error) {
      if (isMessageIdTaken(error)) throw new StoreConflict("message_id", { cause: error });
      throw error;
    }
  }
  topicOffset(appId: string, topic: string): Promise<number> {
    return topics.topicOffset(this.db, appId, topic);
  }
  readTopic(appId: string, topic: string, afterOffset: number, limit: number): Promise<TopicMessage[]> {
    return topics.readTopic(this.db, appId, topic, afterOffset, limit);
  }

  // --- preferences ---
  getPreferences(appId: string, subject: Subject): Promise<Preferences | null> {
    return preferences.getPreferences(this.db, appId, subject);
  }
  putPreferences(appId: string, subject: Subject, prefs: Preferences, now?: number): Promise<void> {
    return preferences.putPreferences(this.db, appId, subject, prefs, now);
  }
  deletePreferences(appId: string, subject: Subject): Promise<boolean> {
    return preferences.deletePreferences(this.db, appId, subject);
  }

  // --- tracking ---
  messageApp(messageId: string): Promise<string | null> {
    return messageApp(this.db, messageId);
  }

  messageTargets(appId: string, messageId: string, limit: number): Promise<MessageTargets | null> {
    return messageTargets(this.db, appId, messageId, limit);
  }
  appCounts(appId: string, from: number, to: number, now: number): Promise<AppCounts> {
    return appCounts(this.db, appId, from, to, now);
  }

  // --- node registry ---
  upsertNode(node: NodeRecord): Promise<void> {
    return registry.upsertNode(this.db, node);
  }
  recordRelaySample(sample: RelaySample, pruneBefore: number): Promise<void> {
    return registry.recordRelaySample(this.db, sample, pruneBefore);
  }

  relaySamples(since: number): Promise<RelaySample[]> {
    return registry.listRelaySamples(this.db, since);
  }

  reportNodeLoad(id: string, connections: number, now = Date.now()): Promise<{ draining: boolean } | null> {
    return registry.reportNodeLoad(this.db, id, connections, now);
  }
  setNodeDraining(id: string, draining: boolean, by: "operator" | "shutdown" = "operator"): Promise<boolean> {
    return registry.setNodeDraining(this.db, id, draining, by);
  }
  listNodes(): Promise<NodeRecord[]> {
    return registry.listNodes(this.db);
  }
}
