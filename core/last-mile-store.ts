// What the last mile keeps in the store: channel endpoints of devices and users, each app's sealed
// provider credentials, the fallback queue and, per target and channel, what happened.
import type { ChannelEndpoint, ChannelKind, FallbackPolicy } from "./channels.ts";
import type { NewMessage, Subject } from "./message.ts";
import type { Template } from "./templates.ts";

export type StoredEndpoint = { subject: Subject; endpoint: ChannelEndpoint; createdAt: number };

/** One target whose socket delivery has a fallback, due now. */
export type FallbackJob = {
  messageId: string;
  appId: string;
  deviceId: string;
  seq: number;
  channels: ChannelKind[];
  dueAt: number;
  attempts: number;
};

/** A due job with what the worker decides on, read with it: has the socket got there first, and the message (null: purged). */
export type DueFallback = FallbackJob & { row: InboxRowState; message: NewMessage | null };

export type FallbackEnd = { job: FallbackJob; outcome: FallbackOutcome; delivery?: ChannelDelivery };

export type FallbackOutcome = "acked" | "sent" | "expired" | "no_endpoint" | "exhausted";

/** A provider's answer: accepted, rejected, gone (the endpoint was removed), or retrying (it asked for later, or did not answer). */
export type ChannelDeliveryState = "accepted" | "rejected" | "gone" | "retrying";

/** A target's fallback as tracking shows it: waiting for `dueAt`, or how it ended. */
export type FallbackStatus = { deviceId: string; state: "waiting" | FallbackOutcome; dueAt: number; channels: ChannelKind[]; attempts: number };
export type ChannelDelivery = { deviceId: string; kind: ChannelKind; state: ChannelDeliveryState; reason: string | null; at: number };

/** A row's state as the fallback reads it: has the socket got there first? */
export type InboxRowState = "pending" | "delivered" | "other" | "missing";

export type StoredTemplate = Template & { updatedAt: number };

export interface LastMileStore {
  /** A `message.refused` event for the app's endpoints that want it: a spooled send the store refused when it was forwarded. */
  recordRefusal(appId: string, refusal: { messageId: string; queuedAt: number; error: { code: string; message: string } }, now?: number): Promise<void>;
  /** The app's default fallback, for sends that give none; cached briefly (a change shows within seconds). */
  appFallback(appId: string): Promise<FallbackPolicy | null>;
  setAppFallback(appId: string, policy: FallbackPolicy | null, now?: number): Promise<void>;
  putTemplate(appId: string, template: Template, now?: number): Promise<void>;
  getTemplate(appId: string, name: string): Promise<StoredTemplate | null>;
  listTemplates(appId: string): Promise<StoredTemplate[]>;
  deleteTemplate(appId: string, name: string): Promise<boolean>;

  /** Replaces the subject's endpoints of every kind with `endpoints`. */
  putEndpoints(appId: string, subject: Subject, endpoints: ChannelEndpoint[], now?: number): Promise<void>;
  /** The subject's endpoints, oldest first. */
  endpointsOf(appId: string, subject: Subject): Promise<ChannelEndpoint[]>;
  /** The device's endpoints, then its user's. */
  endpointsForDevice(appId: string, deviceId: string): Promise<ChannelEndpoint[]>;
  /** The same for many devices in one read, in the order asked. */
  endpointsForDevices(devices: { appId: string; deviceId: string }[]): Promise<ChannelEndpoint[][]>;
  /** Removes one endpoint wherever it is registered in the app (a provider said it is gone, `reason`). */
  removeEndpoint(appId: string, endpoint: ChannelEndpoint, reason: string, now?: number): Promise<void>;

  /** Stores an app's credentials for a provider, sealed by the caller, with what may be shown. */
  putCredentials(appId: string, kind: ChannelKind, sealed: string, shown: Record<string, unknown>, now?: number): Promise<void>;
  credentialsOf(appId: string, kind: ChannelKind): Promise<{ sealed: string; shown: Record<string, unknown>; updatedAt: number } | null>;
  configuredChannels(appId: string): Promise<{ kind: ChannelKind; shown: Record<string, unknown>; updatedAt: number }[]>;
  deleteCredentials(appId: string, kind: ChannelKind): Promise<boolean>;

  /** Waiting jobs due by `now`, high priority first, then oldest, each with its inbox row's state and its message, in one read. */
  dueFallbacks(now: number, limit: number): Promise<DueFallback[]>;
  /** The earliest due time of a waiting job; null: none waits. */
  nextFallbackAt(): Promise<number | null>;
  /** Jobs of `deviceIds` for the message become due at `at` (the device had no socket). */
  advanceFallbacks(messageId: string, deviceIds: string[], at: number): Promise<void>;
  retryFallback(job: FallbackJob, dueAt: number): Promise<void>;
  /** Ends the job; with `delivery`, records the channel's last answer in the same transaction. */
  finishFallback(job: FallbackJob, outcome: FallbackOutcome, delivery?: ChannelDelivery): Promise<void>;
  /** Ends many jobs in one transaction (a page of the worker's). */
  finishFallbacks(ends: FallbackEnd[]): Promise<void>;
  waitingFallbacks(): Promise<number>;

  recordChannelDelivery(messageId: string, delivery: ChannelDelivery): Promise<void>;
  channelDeliveries(messageId: string, deviceIds: string[]): Promise<ChannelDelivery[]>;
  fallbacksOf(messageId: string, deviceIds: string[]): Promise<FallbackStatus[]>;
}
