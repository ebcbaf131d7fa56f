// The Redis payload formats on their own: what a relay and an edge of the same version write and
// read, how compact a batch is, and that anything else is refused by name rather than half-read.
import { describe, expect, test } from "bun:test";
import type { Signal } from "../core/engine.ts";
import { decodePresence, decodeSignals, decodeTopicSignal, encodePresence, encodeSignals, encodeTopicSignal, SignalFormatError } from "./redis-keyspace.ts";

const message = {
  messageId: "0190a5b4-7c2e-7000-8000-000000000001",
  priority: 1 as const,
  data: new TextEncoder().encode("x".repeat(4096)),
  collapseKey: null,
  createdAt: 1_720_000_000_000,
  expiresAt: null,
};

describe("signal batches", () => {
  test("one message sent to many devices on a node carries its data once", () => {
    const signals: Signal[] = Array.from({ length: 100 }, (_, i) => ({
      kind: "deliver",
      appId: "app",
      deviceId: `device-${i}`,
      message: { ...message, seq: i + 1 },
    }));
    const text = encodeSignals(signals);
    const body = message.data.toBase64();
    expect(text.split(body)).toHaveLength(2);
    expect(text.length).toBeLessThan(body.length + 100 * 40);
    expect(decodeSignals(text)).toEqual(signals);
  });

  test("every kind survives; signals that share a message id but not the message are kept apart", () => {
    const signals: Signal[] = [
      { kind: "deliver", appId: "app", deviceId: "d", message: { ...message, data: new Uint8Array([0xa1, 0x61, 0x61, 0x01]), seq: 1 } },
      { kind: "deliver", appId: "app", deviceId: "d", message: { ...message, data: new Uint8Array([0xa1, 0x61, 0x61, 0x02]), seq: 2 } },
      { kind: "kick", appId: "app", deviceId: "d", sessionId: "s_1" },
      { kind: "subscription", appId: "app", deviceId: "d", topic: "news", startOffset: 12 },
      { kind: "subscription", appId: "app", deviceId: "d", topic: "news", startOffset: null },
      { kind: "erased", appId: "app", deviceId: "d" },
      { kind: "revoked", appId: "app", deviceId: "d", revokedAt: 1_767_225_600_123 },
    ];
    expect(decodeSignals(encodeSignals(signals))).toEqual(signals);
  });

  test("anything but a version 2 batch is refused with SignalFormatError", () => {
    const bad = [
      "",
      "{}",
      "[3,[],[]]",
      "[1,[],[]]", // version 1 carried bodies as JSON values
      "[2,[],{}]",
      '[2,[],[[0,"app","d",1,0]]]', // points at a message that is not there
      '[2,[["m",3,1,null,null,"oA=="]],[[0,"app","d",1,0]]]', // priority 3
      '[2,[["m",1,1,"soon",null,"oA=="]],[[0,"app","d",1,0]]]',
      '[2,[["m",1,1,null,null,{"a":1}]],[[0,"app","d",1,0]]]', // a body that is not base64 text
      '[2,[["m",1,1,null,null,"not base64!"]],[[0,"app","d",1,0]]]',
      '[2,[],[[1,"app","d"]]]',
      '[2,[],[[7,"app","d","s"]]]',
      '[2,[],[[2,"app","d","news",-3]]]',
      '[2,[["m",1,1,null,null,"oA=="]],[[0,"app","d",-1,0]]]',
    ];
    for (const text of bad) expect(() => decodeSignals(text), text).toThrow(SignalFormatError);
  });
});

describe("topic signals", () => {
  test("round trip, and malformed ones refused", () => {
    const signal = { appId: "app", topic: "news.eu", offset: 42, message: { messageId: "m", priority: 2 as const, data: new Uint8Array([0x82, 0x01, 0x63, 0x74, 0x77, 0x6f]), createdAt: 5 } };
    expect(decodeTopicSignal(encodeTopicSignal(signal))).toEqual(signal);
    expect(() => decodeTopicSignal('[1,"app","t",-1,"m",1,5,null]')).toThrow(SignalFormatError);
    expect(() => decodeTopicSignal("[1]")).toThrow(SignalFormatError);
  });
});

describe("presence values", () => {
  test("node ids may hold spaces; the session id is after the last one", () => {
    expect(decodePresence(encodePresence({ nodeId: "eu west 1", sessionId: "s_ABC" }))).toEqual({ nodeId: "eu west 1", sessionId: "s_ABC" });
    for (const bad of [null, 7, "", "nospace", " leading", "trailing "]) expect(decodePresence(bad)).toBeNull();
  });
});
