// An FCM HTTP v1 stand-in over HTTP/2 and TLS: the OAuth2 token endpoint (it verifies the
// service account's JWT bearer assertion with jose: RS256, issuer, scope, audience, an hour at
// most) and messages:send (a bearer it issued, the project, the message's shape, data values as
// strings), answering errors in FCM's documented format.
import http2 from "node:http2";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jwtVerify } from "jose";
import type { ReceivedNotification, ReceiverFault } from "../../channels/channel.contract.ts";
import { selfSigned } from "../tls.ts";

export type FcmRequest = { message: Record<string, unknown>; notification: ReceivedNotification };

const fcmError = (code: number, status: string, errorCode: string, message: string) =>
  JSON.stringify({ error: { code, status, message, details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] } });

export async function startFcmReceiver(expect: { publicKey: CryptoKey; clientEmail: string; projectId: string }) {
  const dir = mkdtempSync(join(tmpdir(), "fcm-"));
  const tls = await selfSigned(dir);
  const issued = new Set<string>();
  const gone = new Set<string>();
  const accepted: FcmRequest[] = [];
  const failures: string[] = [];
  let tokenRequests = 0;
  let fault: ReceiverFault | null = null;
  const server = http2.createSecureServer({ key: await Bun.file(tls.key).text(), cert: tls.pem });
  const origin = () => `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  server.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (text += chunk));
    stream.on("end", async () => {
      const answer = (status: number, body: string, extra: Record<string, string> = {}) => {
        if (stream.closed) return;
        stream.respond({ ":status": status, "content-type": "application/json", ...extra });
        stream.end(body);
      };
      const path = String(headers[":path"]);
      if (path === "/token") {
        tokenRequests++;
        const form = new URLSearchParams(text);
        try {
          if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") throw new Error("grant_type");
          const { payload } = await jwtVerify(form.get("assertion") ?? "", expect.publicKey, { algorithms: ["RS256"], issuer: expect.clientEmail, audience: `${origin()}/token` });
          if (payload.scope !== "https://www.googleapis.com/auth/firebase.messaging") throw new Error("scope");
          if ((payload.exp ?? 0) - (payload.iat ?? 0) > 3600) throw new Error("lifetime");
        } catch (error) {
          failures.push(`token: ${(error as Error).message}`);
          return answer(400, JSON.stringify({ error: "invalid_grant" }));
        }
        const token = `ya29.${crypto.randomUUID()}`;
        issued.add(token);
        return answer(200, JSON.stringify({ access_token: token, expires_in: 3599, token_type: "Bearer" }));
      }
      const f = fault;
      fault = null;
      if (f?.kind === "hang") return;
      if (f?.kind === "throttle") return answer(429, fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "quota"), { "retry-after": String(f.retryAfterSeconds) });
      if (f?.kind === "unavailable") return answer(503, fcmError(503, "UNAVAILABLE", "UNAVAILABLE", "try later"));
      if (path !== `/v1/projects/${expect.projectId}/messages:send`) return answer(404, fcmError(404, "NOT_FOUND", "UNSPECIFIED_ERROR", "no such project"));
      const bearer = /^Bearer (\S+)$/.exec(String(headers.authorization ?? ""))?.[1];
      if (!bearer || !issued.has(bearer)) return answer(401, fcmError(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "bad token"));
      const problem = check(text);
      if (problem) {
        failures.push(problem);
        return answer(400, fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", problem));
      }
      const { message } = JSON.parse(text) as { message: { token: string; notification?: { title?: string; body?: string }; data: { pushmesh: string } } };
      if (gone.has(message.token)) return answer(404, fcmError(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."));
      // A token another Firebase project issued: FCM's answer when the app's credentials are not its project's.
      if (message.token.startsWith("other-project-")) return answer(403, fcmError(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch"));
      const sdk = JSON.parse(message.data.pushmesh) as { messageId: string; seq: number | null; data: unknown };
      accepted.push({ message, notification: { messageId: sdk.messageId, seq: sdk.seq, title: message.notification?.title ?? null, body: message.notification?.body ?? null, data: sdk.data } });
      answer(200, JSON.stringify({ name: `projects/${expect.projectId}/messages/${accepted.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    origin: origin(),
    tokenUrl: `${origin()}/token`,
    ca: tls.pem,
    accepted,
    failures,
    tokenRequests: () => tokenRequests,
    forgetTokens: () => issued.clear(),
    goneToken: (token: string) => gone.add(token),
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

/** The v1 message's shape as FCM documents it; null when it passes. */
function check(text: string): string | null {
  let body: { message?: Record<string, unknown> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return "body is not JSON";
  }
  const m = body.message as { token?: unknown; data?: Record<string, unknown>; android?: { priority?: string; ttl?: string } } | undefined;
  if (!m || typeof m.token !== "string" || m.token === "") return "message.token is required";
  if (m.data && Object.values(m.data).some((v) => typeof v !== "string")) return "message.data values must be strings";
  if (m.android?.priority !== undefined && !["HIGH", "NORMAL"].includes(m.android.priority)) return "android.priority must be HIGH or NORMAL";
  if (m.android?.ttl !== undefined && !/^\d+(\.\d+)?s$/.test(m.android.ttl)) return "android.ttl must be a duration such as 3600s";
  return null;
}
