// A webhook receiver as an app would run one: it checks Pushmesh-Signature with node:crypto's own
// HMAC (not the mesh's code) against the secrets it was given, and records each event. It can be
// told to answer 503 for a while, as a receiver that is down.
import { createHmac, timingSafeEqual } from "node:crypto";

export type ReceivedEvent = { id: string; type: string; appId: string; createdAt: number; data: Record<string, unknown>; signatures: number };

export async function startWebhookReceiver() {
  let secrets: string[] = [];
  let down = 0;
  const events: ReceivedEvent[] = [];
  const refused: string[] = [];
  let attempts = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      attempts++;
      const body = await req.text();
      if (down > 0) {
        down--;
        return new Response("down", { status: 503 });
      }
      const header = req.headers.get("pushmesh-signature") ?? "";
      const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
      const given = [...header.matchAll(/v1=([0-9a-f]{64})/g)].map((m) => Buffer.from(m[1]!, "hex"));
      const valid = (secret: string) => {
        const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
        return given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
      };
      if (!t || Math.abs(Date.now() / 1000 - Number(t)) > 300 || !secrets.some(valid)) {
        refused.push(header);
        return new Response("bad signature", { status: 400 });
      }
      const event = JSON.parse(body) as ReceivedEvent;
      if (event.id !== req.headers.get("pushmesh-event-id")) {
        refused.push("event id header differs");
        return new Response("bad id", { status: 400 });
      }
      events.push({ ...event, signatures: given.length });
      return new Response(null, { status: 204 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hooks`,
    events,
    refused,
    attempts: () => attempts,
    trust(...s: string[]) {
      secrets = s;
    },
    failNext(n: number) {
      down = n;
    },
    async [Symbol.asyncDispose]() {
      server.stop(true);
    },
  };
}
