// Configuration: one schema, parsed once at start-up. Only the typed object travels from here.
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    /** libSQL URL: `file:path` for the embedded default, `libsql://` / `http://` for sqld or Turso. */
    db: z.string().min(1).default("file:pushmesh.db"),
    dbAuthToken: z.string().optional(),
    /** `full` fsyncs every commit (no accepted message lost on power loss); `normal` survives process crashes only. */
    dbSync: z.enum(["full", "normal"]).default("full"),
    /** With a `file:` db: that file is an embedded replica of this server (a regional sqld); writes go through it. */
    dbSyncUrl: z.string().min(1).optional(),
    /** Where reads and writes go while the sync URL does not answer (the primary sqld). */
    dbPrimaryUrl: z.string().min(1).optional(),
    dbSyncIntervalMs: z.coerce.number().int().min(50).default(1000),
    /** A local file's sends commit on a connection of their own, off the event loop (see relay/store-client.ts); false runs them on the client's. */
    dbLocalWriter: z
      .preprocess((v) => (v === "false" || v === "0" ? false : v === "true" || v === "1" ? true : v), z.boolean())
      .default(true),
    /**
     * A mesh with a store per region: `db` is this region's home store (its devices' sequences and
     * inbox), and this is the global database (apps, keys, the node registry, the directory of
     * homes) — a `file:` embedded replica with the two below, as `db` takes them.
     */
    globalDb: z.string().min(1).optional(),
    globalDbSyncUrl: z.string().min(1).optional(),
    globalDbPrimaryUrl: z.string().min(1).optional(),
    /**
     * Every region's edge, {"eu":"https://eu.example"}: with a store per region, a send for a device
     * homed elsewhere is handed to its home's edge, which writes it there and signals that region.
     */
    homeEdges: z
      .preprocess((v) => (typeof v === "string" ? JSON.parse(v) : v), z.record(z.string(), z.string().url()))
      .default({}),
    /** Apply migrations/ at start; a cluster runs them once against the primary instead. */
    migrateOnStart: z
      .preprocess((v) => (v === "false" || v === "0" ? false : v === "true" || v === "1" ? true : v), z.boolean())
      .default(true),
    /** memory: one process; redis: relays and edges over Redis (TCP); rest: an edge over Upstash-style REST. */
    engine: z.enum(["memory", "redis", "rest"]).default("memory"),
    redisUrl: z.string().min(1).optional(),
    restUrl: z.string().min(1).optional(),
    restToken: z.string().min(1).optional(),
    host: z.string().min(1).default("127.0.0.1"),
    /** Host name devices are told to connect to; defaults to `host`. */
    publicHost: z.string().min(1).optional(),
    edgePort: port.default(7700),
    wsPort: port.default(7701),
    tcpPort: port.default(7702),
    nodeId: z.string().min(1).max(64).default("relay-1"),
    region: z.string().min(1).max(64).default("local"),
    capacity: z.coerce.number().int().positive().default(100_000),
    /**
     * `relay`: worker processes sharing its ports, each a sibling node of one host; 0 = one per core.
     * Workers need a shared engine (Redis): with the memory engine the host runs one.
     */
    workers: z.coerce.number().int().min(0).max(256).default(0),
    /** Share of new devices this relay gets among equals (0 takes none); canaries run with a small one. */
    weight: z.coerce.number().int().min(0).max(10_000).default(100),
    heartbeat: z
      .object({ min: seconds.default(5), default: seconds.default(30), max: seconds.default(600) })
      .default({ min: 5, default: 30, max: 600 })
      .refine((h) => h.min <= h.default && h.default <= h.max, "heartbeat bounds must satisfy min <= default <= max"),
    /** A connection is dead after this many announced intervals without a frame. */
    heartbeatGrace: z.coerce.number().min(1.5).max(10).default(2.5),
    maxFrameBytes: z.coerce.number().int().min(256).max(2 ** 28).default(64 * 1024),
    /** Largest message `data`, measured as the CBOR it is stored and pushed as. */
    maxPayloadBytes: z.coerce.number().int().min(16).max(1024 * 1024).default(32 * 1024),
    maxTargetsPerSend: z.coerce.number().int().positive().max(10_000).default(1000),
    tokenTtlSeconds: seconds.default(30 * 24 * 3600),
    /** Acks are written to the store in batches at most this far apart. */
    ackFlushMs: z.coerce.number().int().min(1).max(5000).default(25),
    /** Connections the kernel queues for a relay's and an edge's listeners before they are accepted (Linux; capped by net.core.somaxconn); 0 keeps Bun's 512. */
    listenBacklog: z.coerce.number().int().min(0).max(65_535).default(4096),
    /** Topic subscribers' delivered offsets are written in batches at most this far apart (a row per subscriber per batch). */
    topicMarkFlushMs: z.coerce.number().int().min(1).max(60_000).default(1000),
    /** How often a relay reports its load and reads its drain flag: a drain shows within about this long. */
    nodeReportMs: z.coerce.number().int().min(100).default(1000),
    /** How often a relay writes its current minute's figures for the dashboard's charts (GET /v1/nodes/samples). */
    relaySampleMs: z.coerce.number().int().min(100).max(60_000).default(60_000),
    /** A node that has not reported for this long is left out of /v1/nodes. */
    nodeStaleMs: z.coerce.number().int().min(500).default(15_000),
    /** A low-priority message goes out only within this long after the device's own last frame. */
    lowPriorityWakeMs: z.coerce.number().int().min(0).default(2000),
    /** Past this many connections the handshake answer is delayed; default 80% of capacity. */
    softCapacity: z.coerce.number().int().positive().optional(),
    /** Handshake delay per 2.5% of capacity over the soft mark. */
    softDelayMs: z.coerce.number().int().min(0).default(50),
    // Generous on purpose: carriers put many phones behind one NAT address.
    connectRatePerIp: z.coerce.number().positive().default(50),
    connectBurstPerIp: z.coerce.number().int().positive().default(500),
    /** Connections per second a draining node sends away. */
    drainRate: z.coerce.number().positive().default(1000),
    /** How long SIGTERM may take to drain before the rest are closed. */
    shutdownGraceMs: z.coerce.number().int().min(0).default(10_000),
    /** A connection whose buffer stays past its high-water mark this long is closed. */
    stallTimeoutMs: z.coerce.number().int().min(100).default(30_000),
    maxTopicsPerConnection: z.coerce.number().int().positive().default(256),
    /** PEM files; with both, every relay listener serves TLS (wss:// and TLS over raw TCP). */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    // --- The edge: batches, schedules, idempotency, per-app limits, node ranking ---
    /** Messages per POST /v1/messages/batch. */
    maxBatchMessages: z.coerce.number().int().positive().max(1000).default(100),
    /** How often the scheduler looks for due scheduled and held targets; it also wakes on sends in its process. */
    schedulerPollMs: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** How long an idempotency key answers repeats with the first result. */
    idempotencyTtlSeconds: seconds.default(24 * 3600),
    // Retention: the defaults an app's own (PUT /v1/app/retention) overrides. Undelivered messages
    // within their TTL are never purged, whatever these say.
    /** Settled inbox rows (delivered, expired, collapsed, suppressed, failed) and messages nobody references, after this long. */
    retentionSettledSeconds: seconds.default(7 * 24 * 3600),
    /** Topic stream entries older than this, once every subscriber has had them or they expired. */
    retentionTopicSeconds: seconds.default(7 * 24 * 3600),
    /** Topic stream entries beyond this many newest per topic, under the same condition. */
    retentionTopicMaxEntries: z.coerce.number().int().positive().default(10_000),
    /** How often the purge looks for rows past their retention. */
    purgeIntervalSeconds: seconds.default(60),
    /** Rows one purge statement looks at: the bound on how long it holds the store's write lock. */
    purgeBatchRows: z.coerce.number().int().min(10).max(100_000).default(100),
    /** Seals the apps' provider credentials at rest; absent: a secret the store makes once and keeps (mesh_secrets). */
    credentialsKey: z.string().min(16).optional(),
    /** How long a provider (Web Push service, FCM, APNs, SMTP server) may take to answer before the attempt counts as a retry. */
    providerTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Where FCM HTTP v1, Google's OAuth2 token endpoint and APNs (production, sandbox) are; other values reach a private or test deployment. */
    fcmUrl: z.string().url().default("https://fcm.googleapis.com"),
    fcmTokenUrl: z.string().url().default("https://oauth2.googleapis.com/token"),
    apnsUrl: z.string().url().default("https://api.push.apple.com"),
    apnsSandboxUrl: z.string().url().default("https://api.sandbox.push.apple.com"),
    /** A PEM file of extra CAs to trust for providers (a private push service, a test's receiver); absent: the system's. */
    providerCaFile: z.string().min(1).optional(),
    /** Webhook retries start this long after a failed delivery and double, to an hour, for a day. */
    webhookRetryBaseMs: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
    /** How often the webhook worker looks for deliveries due. */
    webhookPollMs: z.coerce.number().int().min(10).max(60_000).default(500),
    /** A fallback the provider asked to retry waits this long (or its Retry-After), doubling to an hour, for a day. */
    fallbackRetryBaseMs: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
    /** How often the fallback worker looks for due last-mile deliveries; sends in its process wake it early. */
    fallbackPollMs: z.coerce.number().int().min(10).max(60_000).default(250),
    /** Authenticated requests per app per window; past it, 429 RATE_LIMITED. */
    rateLimitRequests: z.coerce.number().int().positive().default(10_000),
    rateLimitWindowSeconds: seconds.default(1),
    /** Messages accepted per app per window; past it, 429 QUOTA_EXCEEDED. Absent: no quota. */
    quotaMessages: z.coerce.number().int().positive().optional(),
    quotaWindowSeconds: seconds.default(24 * 3600),
    /**
     * An edge far from the store's primary: the URL of the edge beside it. Every write request
     * (any method but GET and HEAD under /v1/) goes there in one trip between regions instead of
     * paying one per store write and engine call. Absent: this edge serves writes itself.
     */
    forwardWritesTo: z.string().url().optional(),
    /**
     * The edge's spool: a local libSQL file where sends wait, answered 202 "queued", while the
     * store does not take writes; forwarded in order once it does. Absent: an `edge` process keeps
     * it beside its embedded replica (`<db file>.spool`); `dev` and edges without a local file keep none.
     */
    spoolPath: z.string().min(1).optional(),
    /** Sends the spool holds at most; past it (or spoolMaxBytes), 503 SPOOL_FULL. */
    spoolMaxEntries: z.coerce.number().int().positive().default(100_000),
    spoolMaxBytes: z.coerce.number().int().positive().default(256 * 1024 * 1024),
    /** How long the spool remembers a send the store refused when it was forwarded, for tracking. */
    spoolKeepRefusedSeconds: seconds.default(24 * 3600),
    /** How long a forwarded write may take before the caller gets 503 FORWARD_FAILED. */
    forwardTimeoutMs: z.coerce.number().int().min(100).default(15_000),
    /** Estimated round trips between regions in ms, looked up in either direction: {"eu":{"us":90}}. */
    rttTable: z
      .preprocess((v) => (typeof v === "string" ? JSON.parse(v) : v), z.record(z.string(), z.record(z.string(), z.number().nonnegative())))
      .default({}),
    rttSameRegionMs: z.coerce.number().nonnegative().default(5),
    /** Assumed for region pairs missing from the table. */
    rttUnknownMs: z.coerce.number().nonnegative().default(200),
    /** What a full node costs in ranking, in ms of RTT: at 100, a half-full node ranks as if 50 ms further away. */
    loadPenaltyMs: z.coerce.number().nonnegative().default(100),
    /** Nodes per GET /v1/nodes answer. */
    nodeListLimit: z.coerce.number().int().positive().max(100).default(8),
    /** Raw IPs devices may reach this relay on when DNS fails; default: `publicHost` or `host` when it is an IP. */
    publicIps: z
      .preprocess((v) => (typeof v === "string" ? v.split(",").filter((s) => s.trim() !== "").map((s) => s.trim()) : v), z.array(z.string().min(1)))
      .default([]),
    /**
     * Origins whose browser pages may call the edge's unauthenticated device-facing routes (`GET /`,
     * `GET /v1/nodes`, the browser SDK), comma-separated; `*` for any. Routes that take an API key
     * follow the app's own list (`PUT /v1/app/cors`).
     */
    corsOrigins: z
      .preprocess((v) => (typeof v === "string" ? v.split(",").filter((s) => s.trim() !== "").map((s) => s.trim()) : v), z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, "an origin is scheme://host[:port] with no path, or *")))
      .default([]),
    /**
     * Operator credentials (po_…), comma-separated: what the fleet routes (node registry, drain,
     * apps) take, never an app's key. Several while one is being replaced. The one-process mesh
     * derives one from its store when none is given and prints it.
     */
    operatorKeys: z
      .preprocess((v) => (typeof v === "string" ? v.split(",").filter((s) => s.trim() !== "").map((s) => s.trim()) : v), z.array(z.string().regex(/^po_[A-Za-z0-9_-]{16,}$/, "operator keys look like po_ followed by at least 16 of [A-Za-z0-9_-]")))
      .default([]),
    /** Take the operator credential over plain HTTP from other machines too (a trusted network); default: only over TLS or loopback. */
    allowPlainOperator: z
      .preprocess((v) => (v === "false" || v === "0" ? false : v === "true" || v === "1" ? true : v), z.boolean())
      .default(false),
    version: z.string().default("0.1.0"),
  })
  .strict()
  .refine((c) => (c.tlsCert === undefined) === (c.tlsKey === undefined), "tlsCert and tlsKey go together")
  .refine((c) => c.maxPayloadBytes + 1024 <= c.maxFrameBytes, "maxFrameBytes must exceed maxPayloadBytes by at least 1024 for the PUSH envelope");

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

export function parseConfig(input: ConfigInput | Record<string, unknown>): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`invalid configuration: ${z.prettifyError(result.error)}`, { cause: result.error });
  }
  return result.data;
}
