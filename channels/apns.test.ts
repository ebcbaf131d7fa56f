import { expect, test } from "bun:test";
import { exportPKCS8, generateKeyPair } from "jose";
import { startApnsReceiver } from "../test-support/receivers/apns-receiver.ts";
import { createApnsAdapter } from "./apns.ts";
import { channelContract, sampleMessage } from "./channel.contract.ts";
import type { ApnsEndpoint } from "../core/channels.ts";

async function keys() {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  return { publicKey, credentials: { keyId: "KEY1234567", teamId: "TEAM123456", privateKey: await exportPKCS8(privateKey) } };
}
const device = (n: number, sandbox = false): ApnsEndpoint => ({ kind: "apns", token: n.toString(16).padStart(64, "a"), topic: "com.example.app", sandbox });

channelContract("apns", async () => {
  const { publicKey, credentials } = await keys();
  const receiver = await startApnsReceiver({ publicKey, ...credentials });
  const adapter = createApnsAdapter({ credentials, host: receiver.origin, sandboxHost: receiver.origin, ca: receiver.ca, timeoutMs: 1500 });
  const down = createApnsAdapter({ credentials, host: "https://127.0.0.1:9", ca: receiver.ca, timeoutMs: 1500 });
  receiver.goneToken(device(2).token);
  return {
    adapter,
    endpoint: device(1),
    goneEndpoint: device(2),
    sendWhileDown: (m) => down.send(device(1), m),
    failNext: receiver.failNext,
    received: () => {
      expect(receiver.failures).toEqual([]);
      return receiver.received();
    },
    retryAfter: true,
    async [Symbol.asyncDispose]() {
      await adapter.close();
      await down.close();
      await receiver[Symbol.asyncDispose]();
    },
  };
});

test("alert and background pushes, priority, expiration and collapse id follow Apple's rules; sandbox tokens go to the sandbox host", async () => {
  const { publicKey, credentials } = await keys();
  await using production = await startApnsReceiver({ publicKey, ...credentials });
  await using sandbox = await startApnsReceiver({ publicKey, ...credentials });
  const adapter = createApnsAdapter({ credentials, host: production.origin, sandboxHost: sandbox.origin, ca: production.ca + sandbox.ca });
  try {
    expect((await adapter.send(device(1), sampleMessage({ priority: "high", ttlSeconds: 60, collapseKey: "x".repeat(100) }))).kind).toBe("accepted");
    expect((await adapter.send(device(1, true), sampleMessage({ title: null, body: null, priority: "high" }))).kind).toBe("accepted");
    expect(production.failures).toEqual([]);
    expect(sandbox.failures).toEqual([]);
    const [alert] = production.accepted;
    expect([alert!.headers["apns-push-type"], alert!.headers["apns-priority"], alert!.headers["apns-topic"]]).toEqual(["alert", "10", "com.example.app"]);
    expect(Number(alert!.headers["apns-expiration"])).toBeGreaterThan(Date.now() / 1000);
    expect(String(alert!.headers["apns-collapse-id"])).toHaveLength(64);
    const [background] = sandbox.accepted;
    expect([background!.headers["apns-push-type"], background!.headers["apns-priority"]]).toEqual(["background", "5"]);
    expect(background!.body).toMatchObject({ aps: { "content-available": 1 } });
  } finally {
    await adapter.close();
  }
});

test("the provider token is reused, made again when APNs says it expired; a token from another key is refused", async () => {
  const { publicKey, credentials } = await keys();
  await using receiver = await startApnsReceiver({ publicKey, ...credentials });
  const adapter = createApnsAdapter({ credentials, host: receiver.origin, ca: receiver.ca });
  try {
    for (let i = 0; i < 3; i++) await adapter.send(device(1), sampleMessage({ messageId: `m-${i}` }));
    expect(receiver.tokens.size).toBe(1);
    receiver.expireTokens();
    // A burst of sends all told the token expired makes one new token, not one each.
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => adapter.send(device(1), sampleMessage({ messageId: `m-after-${i}` }))));
    expect(burst.every((o) => o.kind === "accepted")).toBe(true);
    expect(receiver.tokens.size).toBe(2);
    const stranger = createApnsAdapter({ credentials: (await keys()).credentials, host: receiver.origin, ca: receiver.ca });
    expect(await stranger.send(device(1), sampleMessage())).toMatchObject({ kind: "rejected", reason: "auth_failed: InvalidProviderToken" });
    await stranger.close();
  } finally {
    await adapter.close();
  }
});
