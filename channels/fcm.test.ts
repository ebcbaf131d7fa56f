import { expect, test } from "bun:test";
import { exportPKCS8, generateKeyPair } from "jose";
import { startFcmReceiver } from "../test-support/receivers/fcm-receiver.ts";
import { channelContract, sampleMessage } from "./channel.contract.ts";
import { createFcmAdapter } from "./fcm.ts";

async function serviceAccount() {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { publicKey, credentials: { projectId: "pushmesh-test", clientEmail: "sender@pushmesh-test.iam.gserviceaccount.com", privateKey: await exportPKCS8(privateKey) } };
}

channelContract("fcm", async () => {
  const { publicKey, credentials } = await serviceAccount();
  const receiver = await startFcmReceiver({ publicKey, ...credentials });
  const adapter = createFcmAdapter({ credentials, baseUrl: receiver.origin, tokenUrl: receiver.tokenUrl, ca: receiver.ca, timeoutMs: 1500 });
  const down = createFcmAdapter({ credentials, baseUrl: "https://127.0.0.1:9", tokenUrl: "https://127.0.0.1:9/token", ca: receiver.ca, timeoutMs: 1500 });
  receiver.goneToken("token-gone");
  return {
    adapter,
    endpoint: { kind: "fcm", token: "token-1" },
    goneEndpoint: { kind: "fcm", token: "token-gone" },
    sendWhileDown: (m) => down.send({ kind: "fcm", token: "token-1" }, m),
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

test("one access token serves many sends, a new one when FCM refuses it; priority, ttl and collapse key map onto android", async () => {
  const { publicKey, credentials } = await serviceAccount();
  await using receiver = await startFcmReceiver({ publicKey, ...credentials });
  const adapter = createFcmAdapter({ credentials, baseUrl: receiver.origin, tokenUrl: receiver.tokenUrl, ca: receiver.ca });
  try {
    await Promise.all(Array.from({ length: 5 }, (_, i) => adapter.send({ kind: "fcm", token: "t" }, sampleMessage({ messageId: `m-${i}`, priority: "low", ttlSeconds: 90 }))));
    expect(receiver.tokenRequests()).toBe(1);
    receiver.forgetTokens();
    expect((await adapter.send({ kind: "fcm", token: "t" }, sampleMessage())).kind).toBe("accepted");
    expect(receiver.tokenRequests()).toBe(2);
    expect(receiver.failures).toEqual([]);
    expect(receiver.accepted[0]!.message).toMatchObject({ android: { priority: "NORMAL", ttl: "90s", collapse_key: "score" } });
    // Apple refuses priority 10 for a push without an alert, even a high one.
    await adapter.send({ kind: "fcm", token: "t" }, sampleMessage({ messageId: "quiet", priority: "high", title: null, body: null }));
    expect(receiver.accepted.at(-1)!.message).toMatchObject({ apns: { headers: { "apns-priority": "5" } } });
    const stranger = createFcmAdapter({ credentials: (await serviceAccount()).credentials, baseUrl: receiver.origin, tokenUrl: receiver.tokenUrl, ca: receiver.ca });
    expect((await stranger.send({ kind: "fcm", token: "t" }, sampleMessage())).kind).toBe("rejected");
    expect(receiver.failures[0]).toContain("token:");
    await stranger.close();
  } finally {
    await adapter.close();
  }
});

test("credentials of another project, or a project id FCM does not know, are rejected and remove no token", async () => {
  const { publicKey, credentials } = await serviceAccount();
  await using receiver = await startFcmReceiver({ publicKey, ...credentials });
  const adapter = createFcmAdapter({ credentials, baseUrl: receiver.origin, tokenUrl: receiver.tokenUrl, ca: receiver.ca });
  const wrongProject = createFcmAdapter({ credentials: { ...credentials, projectId: "not-the-app" }, baseUrl: receiver.origin, tokenUrl: receiver.tokenUrl, ca: receiver.ca });
  try {
    const mismatch = await adapter.send({ kind: "fcm", token: "other-project-t" }, sampleMessage());
    expect(mismatch.kind).toBe("rejected");
    expect((mismatch as { reason: string }).reason).toStartWith("sender_mismatch: ");
    expect((await wrongProject.send({ kind: "fcm", token: "t" }, sampleMessage())).kind).toBe("rejected");
  } finally {
    await adapter.close();
    await wrongProject.close();
  }
});
