// An APNs stand-in over HTTP/2 and TLS: it checks each request as Apple documents it (path, topic,
// push type against the body, priority, expiration, collapse id, payload size) and verifies the
// provider JWT with jose against the public half of the test's .p8 key.
import http2 from "node:http2";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, jwtVerify } from "jose";
import type { ReceivedNotification, ReceiverFault } from "../../channels/channel.contract.ts";
import { selfSigned } from "../tls.ts";

export type ApnsRequest = { headers: http2.IncomingHttpHeaders; body: Record<string, unknown>; notification: ReceivedNotification };

export async function startApnsReceiver(expect: { publicKey: CryptoKey; keyId: string; teamId: string }) {
  const dir = mkdtempSync(join(tmpdir(), "apns-"));
  const tls = await selfSigned(dir);
  const gone = new Set<string>();
  const accepted: ApnsRequest[] = [];
  const failures: string[] = [];
  const tokens = new Set<string>();
  let fault: ReceiverFault | null = null;
  const expired = new Set<string>();
  const server = http2.createSecureServer({ key: await Bun.file(tls.key).text(), cert: tls.pem });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (text += chunk));
    stream.on("end", async () => {
      const answer = (status: number, reason?: string, extra: Record<string, string> = {}) => {
        if (stream.closed) return;
        stream.respond({ ":status": status, "content-type": "application/json", ...extra });
        stream.end(reason ? JSON.stringify({ reason, ...(status === 410 ? { timestamp: Date.now() } : {}) }) : undefined);
      };
      const f = fault;
      fault = null;
      if (f?.kind === "hang") return;
      if (f?.kind === "throttle") return answer(429, "TooManyRequests", { "retry-after": String(f.retryAfterSeconds) });
      if (f?.kind === "unavailable") return answer(503, "ServiceUnavailable");
      const token = /^\/3\/device\/([0-9a-fA-F]{64,200})$/.exec(String(headers[":path"]))?.[1];
      const problem = await check(headers, text, token, expect);
      if (problem === "ExpiredProviderToken") return answer(403, "ExpiredProviderToken");
      if (problem) {
        failures.push(problem);
        return answer(problem === "InvalidProviderToken" ? 403 : 400, problem);
      }
      const jwt = String(headers.authorization).slice("bearer ".length);
      if (expired.has(jwt)) return answer(403, "ExpiredProviderToken");
      tokens.add(jwt);
      if (gone.has(token!)) return answer(410, "Unregistered");
      const body = JSON.parse(text) as { aps: { alert?: { title?: string; body?: string } }; pushmesh: { messageId: string; seq: number | null; data: unknown } };
      accepted.push({
        headers,
        body: body as unknown as Record<string, unknown>,
        notification: { messageId: body.pushmesh.messageId, seq: body.pushmesh.seq, title: body.aps.alert?.title ?? null, body: body.aps.alert?.body ?? null, data: body.pushmesh.data },
      });
      answer(200, undefined, { "apns-id": String(headers["apns-id"]) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    ca: tls.pem,
    accepted,
    failures,
    tokens,
    goneToken: (token: string) => gone.add(token),
    /** Every token seen so far is answered ExpiredProviderToken from here on. */
    expireTokens: () => {
      for (const t of tokens) expired.add(t);
    },
    failNext(f: ReceiverFault) {
      fault = f;
    },
    received: () => accepted.map((a) => a.notification),
    async [Symbol.asyncDispose]() {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function check(h: http2.IncomingHttpHeaders, text: string, token: string | undefined, expect: { publicKey: CryptoKey; keyId: string; teamId: string }): Promise<string | null> {
  if (h[":method"] !== "POST" || !token) return "BadPath";
  const auth = /^bearer (\S+)$/.exec(String(h.authorization ?? ""))?.[1];
  if (!auth) return "MissingProviderToken";
  try {
    if (decodeProtectedHeader(auth).kid !== expect.keyId) return "InvalidProviderToken";
    const { payload } = await jwtVerify(auth, expect.publicKey, { algorithms: ["ES256"], issuer: expect.teamId });
    if (typeof payload.iat !== "number" || Date.now() / 1000 - payload.iat > 3600) return "ExpiredProviderToken";
  } catch {
    return "InvalidProviderToken";
  }
  if (!h["apns-topic"]) return "MissingTopic";
  if (Buffer.byteLength(text) > 4096) return "PayloadTooLarge";
  let body: { aps?: { alert?: unknown; "content-available"?: number } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return "PayloadEmpty";
  }
  if (!body.aps) return "BadPayload: no aps";
  const type = h["apns-push-type"];
  if (type !== "alert" && type !== "background") return "InvalidPushType";
  if (type === "alert" && !body.aps.alert) return "BadPayload: alert push without aps.alert";
  if (type === "background" && (body.aps.alert || body.aps["content-available"] !== 1)) return "BadPayload: background push must be content-available only";
  if (h["apns-priority"] !== "10" && h["apns-priority"] !== "5") return "BadPriority";
  if (type === "background" && h["apns-priority"] !== "5") return "BadPriority: background pushes must be 5";
  if (h["apns-expiration"] !== undefined && !/^\d+$/.test(String(h["apns-expiration"]))) return "BadExpirationDate";
  if (h["apns-collapse-id"] !== undefined && Buffer.byteLength(String(h["apns-collapse-id"])) > 64) return "BadCollapseId";
  if (h["apns-id"] !== undefined && !/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i.test(String(h["apns-id"]))) return "BadMessageId";
  return null;
}
