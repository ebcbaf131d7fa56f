// The engine's contract, run against every engine: memory, Redis over TCP, Redis over REST.
// A setup has two sides, as a cluster has: `node` is the relay's engine (it subscribes and holds
// presence), `edge` the one sends go through. For memory both are one object; for Redis they are
// two clients of one server, so every test also shows the two sides understand each other.
import { encodeData } from "../core/codec.ts";
import { describe, expect, test } from "bun:test";
import type { DeliverSignal, Engine, Signal, TopicSignal } from "../core/engine.ts";

export type EngineSetup = { node: Engine; edge: Engine } & AsyncDisposable;

/** Polls until `check` holds; fails the test with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const deliver = (seq: number, deviceId = "d"): Signal => ({
  kind: "deliver",
  appId: "app",
  deviceId,
  message: { seq, messageId: "m", priority: 1, data: encodeData({ seq }), collapseKey: null, createdAt: 1, expiresAt: null },
});
const kick: Signal = { kind: "kick", appId: "app", deviceId: "d", sessionId: "s" };
const revoked: Signal = { kind: "revoked", appId: "app", deviceId: "d", revokedAt: 1_767_225_600_123 };
const subscription: Signal = { kind: "subscription", appId: "app", deviceId: "d", topic: "news", startOffset: null };
const topicSignal = (offset: number): TopicSignal => ({
  appId: "app",
  topic: "news",
  offset,
  message: { messageId: "m", priority: 1, data: encodeData(null), createdAt: 1 },
});

export function engineContract(name: string, open: () => Promise<EngineSetup>): void {
  describe(`engine contract: ${name}`, () => {
    test("presence: set returns what it replaced; clear only removes the matching session; either side reads it", async () => {
      await using setup = await open();
      const { node, edge } = setup;
      expect(await node.setPresence("app/d", { nodeId: "n1", sessionId: "s1" })).toBeNull();
      expect(await edge.getPresence(["app/d"])).toEqual([{ nodeId: "n1", sessionId: "s1" }]);
      expect(await node.setPresence("app/d", { nodeId: "node two", sessionId: "s2" })).toEqual({ nodeId: "n1", sessionId: "s1" });
      await node.clearPresence("app/d", "s1");
      expect(await edge.getPresence(["app/d", "app/none"])).toEqual([{ nodeId: "node two", sessionId: "s2" }, null]);
      await edge.clearPresence("app/d", "s2");
      expect(await node.getPresence(["app/d"])).toEqual([null]);
      expect(await edge.getPresence([])).toEqual([]);
      await node.clearPresence("app/never-set", "s1");
    });

    test("signals reach the subscribed node only, in order, until it unsubscribes", async () => {
      await using setup = await open();
      const { node, edge } = setup;
      const got: Signal[] = [];
      const other: Signal[] = [];
      const stop = await node.subscribe("n1", (s) => got.push(s));
      await node.subscribe("n2", (s) => other.push(s));
      await edge.publish("n1", [deliver(1), deliver(2)]);
      await edge.publish("n1", [kick, subscription, revoked]);
      await eventually(() => got.length === 5, "five signals on n1");
      expect(got).toEqual([deliver(1), deliver(2), kick, subscription, revoked]);
      await stop();
      await edge.publish("n1", [deliver(3)]);
      // n2's marker was published after n1's signal, so once it is in, n1's would be too.
      await edge.publish("n2", [deliver(9)]);
      await eventually(() => other.length === 1, "the marker on n2");
      expect(other).toEqual([deliver(9)]);
      expect(got).toHaveLength(5);
    });

    test("signalling holders in one step reaches each held device's node, and says which were held", async () => {
      await using setup = await open();
      const { node, edge } = setup;
      const got: Signal[] = [];
      await node.subscribe("n1", (s) => got.push(s));
      await node.setPresence("app/d", { nodeId: "n1", sessionId: "s1" });
      await node.setPresence("app/e", { nodeId: "n1", sessionId: "s2" });
      const signals = [deliver(1, "d"), deliver(2, "absent"), deliver(3, "e")] as DeliverSignal[];
      expect(await edge.signalHolders(signals)).toEqual([true, false, true]);
      expect(await edge.signalHolders([])).toEqual([]);
      await eventually(() => got.length === 2, "two signals on n1");
      expect(got).toEqual([deliver(1, "d"), deliver(3, "e")]);
    });

    test("a deliver signal carries the whole message; one message to many devices arrives for each", async () => {
      await using setup = await open();
      const { node, edge } = setup;
      const got: Signal[] = [];
      await node.subscribe("n1", (s) => got.push(s));
      const message = {
        messageId: "0190a5b4-7c2e-7000-8000-000000000001",
        priority: 0 as const,
        data: encodeData({ text: "héllo ✓", nested: [1, 2.5, null, true], empty: {} }),
        collapseKey: "score",
        createdAt: 1_720_000_000_123,
        expiresAt: 1_720_000_060_123,
      };
      const signals: Signal[] = [
        { kind: "deliver", appId: "app", deviceId: "d1", message: { ...message, seq: 7 } },
        { kind: "deliver", appId: "app", deviceId: "d2", message: { ...message, seq: 2 ** 40 } },
        { kind: "deliver", appId: "app", deviceId: "d3", message: { ...message, messageId: "other", data: encodeData("x"), seq: 1 } },
      ];
      await edge.publish("n1", signals);
      await eventually(() => got.length === 3, "three signals");
      expect(got).toEqual(signals);
    });

    test("topic broadcasts reach every listener until it stops listening", async () => {
      await using setup = await open();
      const { node, edge } = setup;
      const a: TopicSignal[] = [];
      const b: TopicSignal[] = [];
      const stopA = await node.onTopic((s) => a.push(s));
      await node.onTopic((s) => b.push(s));
      await edge.broadcast(topicSignal(1));
      await eventually(() => a.length === 1 && b.length === 1, "the first broadcast on both listeners");
      await stopA();
      await edge.broadcast({ ...topicSignal(2), message: { messageId: "m2", priority: 2, data: encodeData({ big: "y".repeat(4096) }), createdAt: 2 ** 41 } });
      await eventually(() => b.length === 2, "the second broadcast");
      expect(a).toEqual([topicSignal(1)]);
      expect(b[1]).toEqual({ ...topicSignal(2), message: { messageId: "m2", priority: 2, data: encodeData({ big: "y".repeat(4096) }), createdAt: 2 ** 41 } });
    });
  });
}
