// A push service standing in for a browser vendor's (RFC 8030), over TLS: it makes subscriptions
// (a P-256 key pair and an auth secret, as a browser does), checks every request as RFC 8291 and
// RFC 8292 say, verifies the VAPID JWT with jose against the key the test configured, and
// decrypts the body with the independent http_ece package.
import { createECDH, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ece from "http_ece";
import { importJWK, jwtVerify } from "jose";
import type { ReceivedNotification, ReceiverFault } from "../../channels/channel.contract.ts";
import type { WebPushEndpoint } from "../../core/channels.ts";
import { selfSigned } from "../tls.ts";

/** `at`: when the request came in, ms since the epoch. */
export type PushRequest = { subscription: string; headers: Headers; notification: ReceivedNotification; at: number };

/** `vapidPublicKey`: the key requests must be signed with; settable later (`expectVapidKey`) for a key the app makes after the receiver is up. */
export async function startWebPushReceiver(vapidPublicKey: string | null = null) {
  let expectedKey = vapidPublicKey;
  const dir = mkdtempSync(join(tmpdir(), "webpush-"));
  const tls = await selfSigned(dir);
  const subscriptions = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: Buffer }>();
  const accepted: PushRequest[] = [];
  const failures: string[] = [];
  let fault: ReceiverFault | null = null;
  /** Every answer waits this long (a slow push service); Infinity: none comes. */
  let delayMs = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: Bun.file(tls.cert), key: Bun.file(tls.key) },
    async fetch(req) {
      const id = new URL(req.url).pathname.replace(/^\/push\//, "");
      if (delayMs === Infinity) return new Promise<Response>(() => {});
      if (delayMs > 0) await Bun.sleep(delayMs);
      const f = fault;
      fault = null;
      if (f?.kind === "hang") return new Promise<Response>(() => {});
      if (f?.kind === "throttle") return new Response("slow down", { status: 429, headers: { "retry-after": String(f.retryAfterSeconds) } });
      if (f?.kind === "unavailable") return new Response("down", { status: 503 });
      const sub = subscriptions.get(id);
      if (!sub) return new Response("gone", { status: 410 });
      const problem = expectedKey === null ? "no VAPID key is expected yet" : await check(req, expectedKey, `https://${new URL(req.url).host}`);
      if (problem) {
        failures.push(problem);
        return new Response(problem, { status: 400 });
      }
      const body = Buffer.from(await req.arrayBuffer());
      let plain: Buffer;
      try {
        plain = ece.decrypt(body, { version: "aes128gcm", privateKey: sub.ecdh, authSecret: sub.auth.toString("base64url") });
      } catch (error) {
        failures.push(`undecryptable: ${(error as Error).message}`);
        return new Response("undecryptable", { status: 400 });
      }
      const { messageId, seq, title, body: text, data } = JSON.parse(plain.toString()) as ReceivedNotification;
      accepted.push({ subscription: id, headers: req.headers, notification: { messageId, seq, title, body: text, data }, at: performance.timeOrigin + performance.now() });
      return new Response(null, { status: 201, headers: { location: `https://${new URL(req.url).host}/message/${accepted.length}` } });
    },
  });
  const origin = `https://127.0.0.1:${server.port}`;
  return {
    ca: tls.pem,
    caFile: tls.cert,
    expectVapidKey(key: string) {
      expectedKey = key;
    },
    origin,
    accepted,
    failures,
    subscribe(): WebPushEndpoint {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(8).toString("hex");
      subscriptions.set(id, { ecdh, auth });
      return { kind: "webpush", endpoint: `${origin}/push/${id}`, p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") };
    },
    unsubscribe(endpoint: WebPushEndpoint) {
      subscriptions.delete(endpoint.endpoint.split("/push/")[1]!);
    },
    failNext(f: ReceiverFault) {
      fault = f;
    },
    setDelay(ms: number) {
      delayMs = ms;
    },
    received: () => accepted.map((a) => a.notification),
    async [Symbol.asyncDispose]() {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What RFC 8030, 8291 and 8292 ask of a request; null when it passes. */
async function check(req: Request, vapidPublicKey: string, audience: string): Promise<string | null> {
  if (req.headers.get("content-encoding") !== "aes128gcm") return "Content-Encoding must be aes128gcm";
  if (!/^\d+$/.test(req.headers.get("ttl") ?? "")) return "TTL must be present and numeric";
  const urgency = req.headers.get("urgency");
  if (urgency !== null && !["very-low", "low", "normal", "high"].includes(urgency)) return `Urgency ${urgency} is not one of RFC 8030's`;
  const topic = req.headers.get("topic");
  if (topic !== null && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return `Topic ${topic} is not 1-32 URL-safe base64 characters`;
  const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.get("authorization") ?? "");
  if (!auth) return "Authorization must be vapid t=…, k=…";
  if (auth[2] !== vapidPublicKey) return "k is not the VAPID public key the app configured";
  const point = Buffer.from(auth[2]!, "base64url");
  const key = await importJWK({ kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33, 65).toString("base64url") }, "ES256");
  try {
    const { payload } = await jwtVerify(auth[1]!, key, { algorithms: ["ES256"], audience });
    if (typeof payload.exp !== "number" || payload.exp * 1000 > Date.now() + 24 * 3600_000) return "exp must be within 24 hours";
    if (typeof payload.sub !== "string" || !/^(mailto:|https:)/.test(payload.sub)) return "sub must be a mailto: or https: URL";
  } catch (error) {
    return `VAPID JWT refused: ${(error as Error).message}`;
  }
  return null;
}
