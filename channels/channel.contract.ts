// The channel contract, run against every adapter with a real receiver standing in for the
// provider: the receiver checks the request against the provider's published format, verifies
// its signature or encryption with an independent library, and hands back what it decoded.
import { describe, expect, test } from "bun:test";
import type { ChannelAdapter, ChannelEndpoint, ChannelMessage, ChannelOutcome } from "../core/channels.ts";

/** What the receiver decoded from one accepted request. */
export type ReceivedNotification = {
  messageId: string;
  seq: number | null;
  title: string | null;
  body: string | null;
  data: unknown;
};

/** How the receiver answers the next request it gets (then it goes back to accepting). */
export type ReceiverFault = { kind: "throttle"; retryAfterSeconds: number } | { kind: "unavailable" } | { kind: "hang" };

export type ChannelHarness<E extends ChannelEndpoint = ChannelEndpoint> = {
  adapter: ChannelAdapter<E>;
  /** An endpoint the receiver accepts. */
  endpoint: E;
  /** An endpoint the receiver answers as its provider answers a dead one. */
  goneEndpoint: E;
  /** Sends the sample message where no provider is listening (a closed port): a provider that is down. */
  sendWhileDown(message: ChannelMessage): Promise<ChannelOutcome>;
  failNext(fault: ReceiverFault): void;
  received(): ReceivedNotification[];
  /** False where the provider has no Retry-After (SMTP). */
  retryAfter: boolean;
} & AsyncDisposable;

export const sampleMessage = (over: Partial<ChannelMessage> = {}): ChannelMessage => ({
  appId: "app",
  deviceId: "dev-1",
  messageId: "m-contract-1",
  seq: 7,
  priority: "high",
  sentAt: 1_767_225_600_000,
  ttlSeconds: 3600,
  collapseKey: "score",
  title: "Goal",
  body: "2 – 1, Ünïcode ✓",
  data: { match: 42, tags: ["a", "b"] },
  ...over,
});

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function channelContract<E extends ChannelEndpoint>(name: string, open: () => Promise<ChannelHarness<E>>): void {
  describe(`channel contract: ${name}`, () => {
    test("an accepted message arrives once, with its id, seq, title, body and data intact", async () => {
      await using h = await open();
      const outcome = await h.adapter.send(h.endpoint, sampleMessage());
      expect(outcome.kind).toBe("accepted");
      await eventually(() => h.received().length > 0, "the receiver to get the message");
      expect(h.received()).toEqual([{ messageId: "m-contract-1", seq: 7, title: "Goal", body: "2 – 1, Ünïcode ✓", data: { match: 42, tags: ["a", "b"] } }]);
    });

    test("a topic message (no seq) and a message without title or body still arrive", async () => {
      await using h = await open();
      const outcome = await h.adapter.send(h.endpoint, sampleMessage({ messageId: "m-topic", seq: null, title: null, body: null, data: null }));
      expect(outcome.kind).toBe("accepted");
      await eventually(() => h.received().length > 0, "the receiver to get the message");
      expect(h.received()[0]).toMatchObject({ messageId: "m-topic", seq: null, data: null });
    });

    test("a dead endpoint is reported gone", async () => {
      await using h = await open();
      const outcome = await h.adapter.send(h.goneEndpoint, sampleMessage());
      expect(outcome.kind).toBe("gone");
      expect(h.received()).toEqual([]);
    });

    test("throttling is a retry, with the provider's Retry-After where it has one", async () => {
      await using h = await open();
      h.failNext({ kind: "throttle", retryAfterSeconds: 7 });
      const outcome = await h.adapter.send(h.endpoint, sampleMessage());
      expect(outcome.kind).toBe("retry");
      if (h.retryAfter && outcome.kind === "retry") expect(outcome.afterMs).toBe(7000);
      const again = await h.adapter.send(h.endpoint, sampleMessage());
      expect(again.kind).toBe("accepted");
    });

    test("a provider error is a retry, and so is a provider that is down", async () => {
      await using h = await open();
      h.failNext({ kind: "unavailable" });
      expect((await h.adapter.send(h.endpoint, sampleMessage())).kind).toBe("retry");
      expect((await h.sendWhileDown(sampleMessage())).kind).toBe("retry");
    });

    test("a provider that never answers is a retry within the adapter's timeout, not a hang", async () => {
      await using h = await open();
      h.failNext({ kind: "hang" });
      const outcome = await h.adapter.send(h.endpoint, sampleMessage());
      expect(outcome.kind).toBe("retry");
    }, 30_000);

    test("concurrent sends are each accepted and each arrive once", async () => {
      await using h = await open();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.adapter.send(h.endpoint, sampleMessage({ messageId: `m-${i}`, seq: i + 1 }))),
      );
      expect(outcomes.every((o) => o.kind === "accepted")).toBe(true);
      await eventually(() => h.received().length === 20, "20 messages");
      expect(new Set(h.received().map((r) => r.messageId)).size).toBe(20);
    });
  });
}
