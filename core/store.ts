// The store as the product sees it: every question it asks of durable state, by concern, and
// nothing about how the answers are kept. The libSQL implementation is store/libsql-store.ts, and
// store/store.contract.ts runs these calls against a libSQL file, a sqld primary and an embedded
// replica. Nothing outside store/ holds a database handle.
import type { TargetState } from "./lifecycle.ts";
import type { EffectivePreferences, FrequencyCap, Preferences } from "./preferences.ts";
import type { NewMessage, Payload, Subject } from "./message.ts";
import type { PriorityCode } from "./protocol.ts";
import type { LastMileStore } from "./last-mile-store.ts";
import type { WebhookStore } from "./webhooks.ts";
import type { RetentionStore } from "./retention.ts";
import type { DeviceMoves, HomeDirectory } from "./homes-store.ts";
export type { DeviceMove, DeviceMoves, HomeDirectory } from "./homes-store.ts";

export type { NewMessage, Payload, Subject, SubjectType } from "./message.ts";

export type Scope = "send" | "read" | "admin";
export type ApiKeyIdentity = { keyId: string; appId: string; scopes: Scope[] };
export type AppRecord = { id: string; name: string; tokenSecret: string; createdAt: number };
/** An API key as listed: never the key itself, which is shown once when it is made. */
export type ApiKeyRecord = { keyId: string; name: string; scopes: Scope[]; createdAt: number; revokedAt: number | null };

export type DeviceRecord = {
  appId: string;
  deviceId: string;
  userId: string | null;
  platform: string | null;
  /** For templates: a locale tag such as pt-BR; null: the template's default. */
  locale: string | null;
  epoch: number;
  lastSeq: number;
  ackedSeq: number;
  /** Tokens issued at or before this time are refused (TOKEN_REVOKED); null: none revoked. */
  tokensRevokedAt: number | null;
  /** The device's home region (set at registration); null: registered before homes existed. */
  home: string | null;
  createdAt: number;
};

/** One device, as a many-device read names it. */
export type DeviceRef = { appId: string; deviceId: string };

/** What a HELLO reads once the session's presence is registered. */
export type HelloState = { latestSeq: number | null; subscriptions: { topic: string; startOffset: number }[] };


/** A message as it sits in one device's inbox, ready to become a PUSH frame. */
export type InboxMessage = {
  seq: number;
  messageId: string;
  priority: PriorityCode;
  data: Payload;
  collapseKey: string | null;
  createdAt: number;
  expiresAt: number | null;
};

export type TopicMessage = {
  offset: number;
  messageId: string;
  priority: PriorityCode;
  data: Payload;
  createdAt: number;
  expiresAt: number | null;
};

/** A device a message goes to, with what its owner asked for. */
export type TargetDevice = { deviceId: string; userId: string | null; prefs: EffectivePreferences };

export type DeferReason = "schedule" | "quiet_hours" | "muted" | "frequency_cap" | "ttl";
/** A target kept out of the inbox for now (scheduled, held) or for good (suppressed, expired). */
export type DeferredTarget = {
  deviceId: string;
  state: "scheduled" | "held" | "suppressed" | "expired";
  reason: DeferReason;
  /** Due time for scheduled and held targets; the time of the decision for the final states. */
  releaseAt: number;
};

/**
 * One message's durable write, atomic on its own: the message row (unless `release`), an inbox row
 * with the next sequence for each device in `deliver`, a row for each deferred target, and the
 * idempotency key with the send's answer. The store may commit concurrent writes together, in the
 * order they were made.
 */
export type MessageWrite = {
  message: NewMessage;
  /** Targets of the whole send; written with a new message's row. */
  targetCount: number;
  deliver: string[];
  deferred: DeferredTarget[];
  /** A scheduled or held message whose time came: the row exists, and each released target may be released only once. */
  release?: boolean;
  idempotency?: { key: string; requestHash: string; answer: unknown };
  /** When the write is decided: recorded with the idempotency key, the release and the deferred rows. */
  at: number;
};

/**
 * A write lost a race it is allowed to lose: its idempotency key was taken by a concurrent request
 * (read the winner's answer), a target it releases was released by another scheduler, or its
 * message id is written already (an edge spool's forward made a second time).
 */
export class StoreConflict extends Error {
  override readonly name = "StoreConflict";
  constructor(
    readonly kind: "idempotency_key" | "release" | "message_id",
    options?: { cause?: unknown },
  ) {
    super(CONFLICTS[kind], options);
  }
}

const CONFLICTS = {
  idempotency_key: "the idempotency key was taken by a concurrent request",
  release: "a target was released already",
  message_id: "a message with this id is written already",
} as const;

/** A device's sequence for a written message; `collapsed` when a later write of the same group replaced it. */
export type Assigned = { deviceId: string; seq: number; collapsed: boolean };

export type IdempotencyRecord = { requestHash: string; messageId: string; answer: unknown | null; createdAt: number };

/** A scheduled or held target whose time has come. */
export type DueTarget = { messageId: string; appId: string; deviceId: string };

export type DeliveryMark = { appId: string; deviceId: string; seq: number };
/** A row the relay could not deliver, and why (e.g. frame_too_large, undeliverable_payload). */
export type FailureMark = DeliveryMark & { reason: string };
/** The highest topic offset a relay wrote to a subscriber's connection (or the device reported in HELLO). */
export type TopicMark = { appId: string; deviceId: string; topic: string; offset: number };


/** One target of a message as the store records it; tracking turns it into what a reader sees. */
export type TargetRecord = {
  deviceId: string;
  state: TargetState;
  seq: number | null;
  reason: string | null;
  queuedAt: number | null;
  deliveredAt: number | null;
  at: number | null;
};
export type StateCount = { state: TargetState; reason: string | null; count: number };

export type MessageRecord = {
  messageId: string;
  /** For a topic message: its topic and offset. */
  topic: { name: string; offset: number } | null;
  createdAt: number;
  expiresAt: number | null;
  priority: PriorityCode;
  category: string | null;
  targetCount: number;
};

/** A message's targets: counts of all of them by state and reason, and the first `limit` + 1 in device order. */
export type MessageTargets = { message: MessageRecord; counts: StateCount[]; targets: TargetRecord[] };

export type Percentiles = { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null };
/** Figures of the messages an app created in [from, to); `lapsed` as core/lifecycle.ts `isLapsed` at `now`. */
export type AppCounts = {
  messages: number;
  targets: number;
  counts: (StateCount & { lapsed: boolean; inInbox: boolean })[];
  /** From entering the inbox to the recorded acknowledgement. */
  latencyMs: Percentiles;
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

/** Who did something: the operator, an app's key, or the CLI with the store opened directly. */
export type AuditActor = { kind: "operator" | "app_key" | "cli"; keyId?: string; appId?: string };
export type NewAuditEntry = {
  at: number;
  actor: AuditActor;
  /** The app the action belongs to; null for a fleet action. */
  appId: string | null;
  /** e.g. key.created, key.rotated, key.revoked, node.drained, node.undrained, app.created, device.erased, user.erased, device.tokens_revoked */
  action: string;
  target: string;
  details: Record<string, unknown>;
  /** The client's address as the edge saw it; null when it did not know. */
  from: string | null;
};
export type AuditEntry = NewAuditEntry & { id: number };

export interface AuditStore {
  /** Appends one entry; entries are never changed or removed. */
  appendAudit(entry: NewAuditEntry): Promise<void>;
  /** Newest first; `before` an entry id to page on; `appId` only that app's entries. */
  readAudit(query: { appId?: string; before?: number; limit: number }): Promise<AuditEntry[]>;
}

export interface AppStore {
  /** A new app with a fresh token secret and a key with every scope. */
  createApp(name: string, now?: number): Promise<{ appId: string; apiKey: string }>;
  /** A new key with these scopes; the key itself is in the answer and nowhere else. */
  createApiKey(appId: string, name: string, scopes: Scope[], now?: number): Promise<{ keyId: string; key: string }>;
  listApiKeys(appId: string): Promise<ApiKeyRecord[]>;
  /** The key stops working at `at` (now, or later for a rotation's grace); an earlier revocation stands. Null: no such key in the app. */
  revokeApiKey(appId: string, keyId: string, at: number): Promise<ApiKeyRecord | null>;
  /** Stores the hash of a key the caller made (the demo key is derived, not random); a known key is left as it is. */
  insertApiKey(appId: string, key: string, name: string, scopes: Scope[], now?: number): Promise<void>;
  findApp(appId: string): Promise<AppRecord | null>;
  listApps(): Promise<AppRecord[]>;
  /** The app's token secret; cached briefly, so a rotated secret is seen within APP_SECRET_CACHE_MS. */
  appSecret(appId: string, now?: number): Promise<string | null>;
  /** The key's app and scopes; answers are cached briefly (API_KEY_CACHE_MS), so elsewhere a revocation takes effect within that. */
  authenticate(key: string, now?: number): Promise<ApiKeyIdentity | null>;
  /** A random secret of the mesh's own, made at first use and the same ever after (it derives the one-process mesh's operator key). */
  meshSecret(name: string): Promise<string>;
  /** The origins whose pages may call this app's device-facing routes (CORS), sorted. */
  appCorsOrigins(appId: string): Promise<string[]>;
  /** Replaces the app's allowed origins with these. */
  setAppCorsOrigins(appId: string, origins: string[]): Promise<void>;
  /** Whether any app allows this origin (or `*`): what a preflight, which carries no key, can check. */
  corsOriginAllowedByAnyApp(origin: string): Promise<boolean>;
}

/** What erasing devices removed. */
export type ErasedCounts = {
  /** The devices that existed and are gone. */
  deviceIds: string[];
  inboxRows: number;
  waitingTargets: number;
  /** Messages only these devices were sent (topic messages stay with their topic). */
  messages: number;
  subscriptions: number;
  preferences: number;
  /** Channel endpoints removed: the devices' own, and the user's for a user erase. */
  endpoints: number;
};

export interface DeviceStore {
  /** Creates the device, or returns the existing one with the userId/platform given; `home` is set only when it is created. */
  upsertDevice(
    appId: string,
    input: { deviceId: string; userId?: string | null; platform?: string | null; locale?: string | null; home?: string },
    now?: number,
  ): Promise<{ device: DeviceRecord; created: boolean }>;
  /** Creates many devices at once, each with a fresh epoch; existing ones stay as they are. Returns how many were new. */
  registerDevices(appId: string, deviceIds: string[], now?: number): Promise<number>;
  getDevice(appId: string, deviceId: string): Promise<DeviceRecord | null>;
  /** Throws DEVICE_NOT_FOUND naming every id that is not a device of the app. */
  requireDevices(appId: string, deviceIds: string[]): Promise<void>;
  devicesOfUser(appId: string, userId: string): Promise<string[]>;
  /** Refuses the device's tokens issued at or before `at`; false when there is no such device. */
  revokeDeviceTokens(appId: string, deviceId: string, at: number): Promise<boolean>;
  /** Removes the devices and every row that names them, and the messages only they were sent, in one transaction. */
  eraseDevices(appId: string, deviceIds: string[]): Promise<ErasedCounts>;
  latestSeq(appId: string, deviceId: string): Promise<number | null>;
  /** Many devices' latest seqs in one read, in the order asked; null for no such device (a relay's polls while the engine is away). */
  latestSeqs(devices: DeviceRef[]): Promise<(number | null)[]>;
  helloState(appId: string, deviceId: string): Promise<HelloState>;
  /**
   * Catches up with writes made elsewhere now (a replica pulls from its primary); false where
   * there is nothing to catch up with. Callers use it when a read missed something another process
   * may just have written.
   */
  freshen(): Promise<boolean>;
}

export interface SendStore {
  /** The app's devices among `deviceIds` (unknown ones left out), each with its effective preferences. */
  loadTargets(appId: string, deviceIds: string[]): Promise<TargetDevice[]>;
  /** Takes a cap slot per device, atomically per device; returns the devices that got one. Repeating is a no-op. */
  reserveFrequency(
    input: { appId: string; messageId: string; category: string; now: number },
    entries: { deviceId: string; cap: FrequencyCap }[],
  ): Promise<Set<string>>;
  /** Gives back the slots of a write that failed. */
  releaseFrequency(appId: string, messageId: string, deviceIds: string[]): Promise<void>;
  /**
   * Resolves once the write is durable, with each delivered device's sequence. Fails with
   * DEVICE_NOT_FOUND (writing nothing) for an unknown device, with a unique violation for an
   * idempotency key or a release taken already, and with a store failure when it cannot write.
   */
  writeMessage(write: MessageWrite): Promise<Assigned[]>;
  findIdempotencyKey(appId: string, key: string): Promise<IdempotencyRecord | null>;
}

export interface ScheduleStore {
  /** Scheduled and held targets due by `now`, oldest first. */
  dueTargets(now: number, limit: number): Promise<DueTarget[]>;
  /** The earliest due time of any scheduled or held target; null when none waits. */
  nextDueAt(): Promise<number | null>;
  /** How many targets wait (scheduled or held), due or not: the scheduler's queue depth. */
  waitingTargets(): Promise<number>;
  loadMessages(messageIds: string[]): Promise<NewMessage[]>;
}

export interface DeliveryStore {
  /** Pushable inbox rows after `afterSeq`, oldest first; expired, collapsed, suppressed and failed rows are left out. */
  readInbox(appId: string, deviceId: string, afterSeq: number, limit: number): Promise<InboxMessage[]>;
  /** Marks every pending row up to each mark's seq delivered at `now`; one atomic write for many devices. */
  markDelivered(marks: DeliveryMark[], now?: number): Promise<void>;
  /** Marks exactly the listed rows expired, if they are still pending. */
  markExpired(marks: DeliveryMark[]): Promise<void>;
  /** Marks exactly the listed rows failed with their reason, if they are still pending: they are never pushed again. */
  markFailed(marks: FailureMark[]): Promise<void>;
  /** Raises each subscription's delivered offset (never lowers it). */
  markTopicDelivered(marks: TopicMark[]): Promise<void>;
}

export interface TopicStore {
  /** Subscribes devices (idempotent); returns the offset new subscriptions start after. */
  subscribeTopic(appId: string, topic: string, deviceIds: string[], now?: number): Promise<number>;
  unsubscribeTopic(appId: string, topic: string, deviceIds: string[]): Promise<void>;
  topicSubscriberCount(appId: string, topic: string): Promise<number>;
  /** Stores the message once, counting the topic's subscribers as its targets, and gives it the topic's next offset, atomically. */
  publishTopic(message: NewMessage, topic: string): Promise<number>;
  topicOffset(appId: string, topic: string): Promise<number>;
  readTopic(appId: string, topic: string, afterOffset: number, limit: number): Promise<TopicMessage[]>;
}

export interface PreferenceStore {
  getPreferences(appId: string, subject: Subject): Promise<Preferences | null>;
  /** Replaces the subject's preferences as a whole. */
  putPreferences(appId: string, subject: Subject, prefs: Preferences, now?: number): Promise<void>;
  deletePreferences(appId: string, subject: Subject): Promise<boolean>;
}

export interface TrackingStore {
  messageTargets(appId: string, messageId: string, limit: number): Promise<MessageTargets | null>;
  /** The app that created a message, or null: for the operator's lookup across apps. */
  messageApp(messageId: string): Promise<string | null>;
  appCounts(appId: string, from: number, to: number, now: number): Promise<AppCounts>;
}

/** A relay's minute: PUSH and TOPIC_PUSH frames sent, acks timed, and their delivery latency. */
export type RelaySample = { nodeId: string; region: string; at: number; pushed: number; delivered: number; p50Ms: number | null; p99Ms: number | null };

export interface RegistryStore {
  /** Records a relay's sample (again for the same minute: replaced) and drops every sample older than `pruneBefore`. */
  recordRelaySample(sample: RelaySample, pruneBefore: number): Promise<void>;
  /** Every relay's samples from `since` on, oldest first. */
  relaySamples(since: number): Promise<RelaySample[]>;
  /** Records a node; a restarting node keeps an operator's drain flag. */
  upsertNode(node: NodeRecord): Promise<void>;
  /** Records the node's connection count; answers its drain flag, or null for an unknown node. */
  reportNodeLoad(id: string, connections: number, now?: number): Promise<{ draining: boolean } | null>;
  /**
   * Sets or clears the drain flag; false for an unknown node. An operator's drain outlives the
   * node's restart; a graceful stop's (`by: "shutdown"`) is cleared when the node starts again.
   */
  setNodeDraining(id: string, draining: boolean, by?: "operator" | "shutdown"): Promise<boolean>;
  listNodes(): Promise<NodeRecord[]>;
}

export interface Store
  extends AppStore,
    HomeDirectory,
    DeviceMoves,
    AuditStore,
    DeviceStore,
    SendStore,
    ScheduleStore,
    DeliveryStore,
    TopicStore,
    PreferenceStore,
    TrackingStore,
    RegistryStore,
    RetentionStore,
    LastMileStore,
    WebhookStore {
  close(): void;
}
