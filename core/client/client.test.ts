// Which address the SDK tries next. The transport here is an in-memory stand-in, so a test can say
// which nodes are dead (their sockets never open) and which are up but busy (they open, then close).
import { expect, test } from "bun:test";
import { encodeFrame } from "../codec.ts";
import { FrameType } from "../protocol.ts";
import { type ClientEvent, PushClient } from "./client.ts";
import type { TransportFactory } from "./transport.ts";

type Node = { up: boolean; closesBeforeWelcome: number };

function network(nodes: Record<string, Node>) {
  const tried: string[] = [];
  const factory: TransportFactory = (address, handlers) => {
    tried.push(address);
    const node = nodes[address]!;
    setTimeout(() => {
      if (!node.up) return handlers.onClose(1006, "connection refused");
      handlers.onOpen();
      if (node.closesBeforeWelcome > 0) {
        node.closesBeforeWelcome--;
        return handlers.onClose(1006, "closed");
      }
      handlers.onFrame(
        encodeFrame({ type: FrameType.WELCOME, sessionId: "s_1", nodeId: address, latestSeq: 0, heartbeat: 30, heartbeatMin: 5, heartbeatMax: 600, epoch: 1 }),
      );
    }, 0);
    return { send() {}, close: () => handlers.onClose(1000, "closed by client") };
  };
  return { tried, factory };
}

const clientOn = (addresses: string[], transport: TransportFactory) =>
  new PushClient({ deviceId: "d", token: "t", addresses, transport, onMessage() {}, reconnect: { minMs: 1, maxMs: 10_000 } });

async function connectedTo(client: PushClient): Promise<string> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (client.connected) {
        clearInterval(poll);
        resolve("ok");
      }
    }, 1);
  });
}

test("a node whose socket never opens is passed over while another answers, instead of every other try", async () => {
  const { tried, factory } = network({ dead: { up: false, closesBeforeWelcome: 0 }, busy: { up: true, closesBeforeWelcome: 3 } });
  const client = clientOn(["dead", "busy"], factory);
  await client.start();
  await connectedTo(client);
  expect(tried).toEqual(["dead", "busy", "busy", "busy", "busy"]);
  await client.stop();
});

test("a dropped connection is retried once at the same node; a node that stops answering is then left", async () => {
  const nodes = { a: { up: true, closesBeforeWelcome: 0 }, b: { up: true, closesBeforeWelcome: 0 } };
  const { tried, factory } = network(nodes);
  const client = clientOn(["a", "b"], factory);
  await client.start();
  await connectedTo(client);
  nodes.a.up = false;
  client.dropConnection();
  await Bun.sleep(5);
  await connectedTo(client);
  expect(tried).toEqual(["a", "a", "b"]);
  await client.stop();
});

test("with every node unreachable the list is walked in turn", async () => {
  const nodes = { a: { up: false, closesBeforeWelcome: 0 }, b: { up: false, closesBeforeWelcome: 0 } };
  const { tried, factory } = network(nodes);
  const client = clientOn(["a", "b"], factory);
  await client.start();
  while (tried.length < 5) await Bun.sleep(2);
  nodes.b.up = true;
  await connectedTo(client);
  expect(tried.slice(0, 5)).toEqual(["a", "b", "a", "b", "a"]);
  expect(tried.at(-1)).toBe("b");
  await client.stop();
});

test("after SESSION_REPLACED the client says so and stays away instead of taking the device straight back", async () => {
  const opened: { address: string; close: (code: number, reason: string) => void }[] = [];
  const factory: TransportFactory = (address, handlers) => {
    opened.push({ address, close: handlers.onClose });
    setTimeout(() => {
      handlers.onOpen();
      handlers.onFrame(
        encodeFrame({ type: FrameType.WELCOME, sessionId: "s_1", nodeId: address, latestSeq: 0, heartbeat: 30, heartbeatMin: 5, heartbeatMax: 600, epoch: 1 }),
      );
    }, 0);
    return { send() {}, close: () => handlers.onClose(1000, "closed by client") };
  };
  const events: ClientEvent[] = [];
  const client = new PushClient({
    deviceId: "d",
    token: "t",
    addresses: ["a"],
    transport: factory,
    onMessage() {},
    onEvent: (e) => events.push(e),
    replacedBackoff: { minMs: 60_000, maxMs: 600_000 },
  });
  await client.start();
  await connectedTo(client);
  opened[0]!.close(4031, "the same device opened a newer connection");
  expect(events.slice(-2)).toEqual([
    { type: "disconnected", code: 4031, reason: "the same device opened a newer connection" },
    { type: "replaced", retryInMs: expect.any(Number) },
  ]);
  const { retryInMs } = events.at(-1) as { retryInMs: number };
  expect(retryInMs).toBeGreaterThanOrEqual(30_000);
  expect(retryInMs).toBeLessThanOrEqual(60_000);
  // A reconnect at once would be a zero-delay timer set before this one, so it would have run by now.
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(opened).toHaveLength(1);
  await client.stop();
});
