// Which address the SDK tries next. The transport here is an in-memory stand-in, so a test can say
// which nodes are dead (their sockets never open) and which are up but busy (they open, then close).
import { expect, test } from "bun:test";
import { encodeFrame } from "../codec.ts";
import { FrameType } from "../protocol.ts";
import { PushClient } from "./client.ts";
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
