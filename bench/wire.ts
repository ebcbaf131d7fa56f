// Wire benchmark: bytes per frame against the same content as JSON with named fields, and the
// codec's encode/decode cost against JSON.stringify/parse, measured back to back in the same run.
import { decodeFrame, decodeValue, encodeData, encodeFrame, encodePushFrame, encodeTcpFrame, encodeValue } from "../core/codec.ts";
import { bytesToUuid, DEVICE_FRAMES, type Frame, FRAME_NAMES, FrameType, PRIORITY_NAMES, type PushFrame, SERVER_FRAMES, uuidToBytes, validateFrame } from "../core/protocol.ts";
import { type Bar, barChart } from "./plot.ts";
import { type Headline, ratio } from "./headline.ts";

const ALL = new Set([...DEVICE_FRAMES, ...SERVER_FRAMES]);
const messageId = "01a1fd51-52ed-7120-8fe2-c5ba692d6d32";
const token = "eyJhIjoiYXBwX2Q3djU1cnQxdHE5cSIsImQiOiJwaG9uZS0xIiwiZSI6MTc5Nzg0MzMyNjE0OH0._GnthuXLwRB2Ps80-RrR3QozczG8VR0WEY6i9OoGEXY";

export const SAMPLE_FRAMES: Frame[] = [
  { type: FrameType.HELLO, version: 1, deviceId: "phone-1", token, lastSeq: 1041, heartbeat: 300, epoch: 1046371606, topics: {} },
  { type: FrameType.WELCOME, sessionId: "s_stc7ebes", nodeId: "relay-1", latestSeq: 1042, heartbeat: 300, heartbeatMin: 5, heartbeatMax: 600, epoch: 1046371606 },
  { type: FrameType.PUSH, seq: 1042, messageId: uuidToBytes(messageId), priority: 1, data: { title: "Order shipped", body: "Your parcel is on its way", orderId: 88123 }, sentAt: 1_795_000_000_000, collapseKey: null },
  { type: FrameType.ACK, seq: 1042 },
  { type: FrameType.HEARTBEAT, interval: 300 },
  { type: FrameType.HEARTBEAT_ACK, latestSeq: 1042 },
  { type: FrameType.FETCH, afterSeq: 1041 },
  { type: FrameType.GOAWAY, reason: 4040, alternatives: [["relay-2", "ws://10.0.0.2:7701", "10.0.0.2:7702"]], retryAfterMs: 0 },
  { type: FrameType.ERROR, code: 4010, message: "token is for another device" },
];

/** The same content a JSON protocol would carry: named fields, text ids and enums. */
export function asJson(frame: Frame): Record<string, unknown> {
  const named: Record<string, unknown> = { type: FRAME_NAMES[frame.type] };
  for (const [k, v] of Object.entries(frame)) {
    if (k === "type") continue;
    if (k === "messageId" && v instanceof Uint8Array) named[k] = bytesToUuid(v);
    else if (k === "priority" && typeof v === "number") named[k] = PRIORITY_NAMES[v];
    else named[k] = v;
  }
  return named;
}

function nsPerOp(iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(10_000, iterations); i++) fn();
  const start = Bun.nanoseconds();
  for (let i = 0; i < iterations; i++) fn();
  return (Bun.nanoseconds() - start) / iterations;
}

type CodecRow = { op: string; cborNs: number; jsonNs: number; ratio: number; ratioMin: number; ratioMax: number };

export type WireResult = {
  sizes: { frame: string; cbor: number; tcp: number; json: number; ratio: number }[];
  /** The first two rows are the headline figures: encode PUSH and decode + validate PUSH. */
  codec: CodecRow[];
  rounds: number;
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Each operation against its JSON baseline, measured back to back in several rounds: the machine
 * is shared, so the table gives the median of the rounds and the spread of their ratios.
 */
function compare(op: string, rounds: number, iterations: number, cbor: () => void, json: () => void): CodecRow {
  const c: number[] = [];
  const j: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    c.push(nsPerOp(iterations, cbor));
    j.push(nsPerOp(iterations, json));
    ratios.push(c[r]! / j[r]!);
  }
  return { op, cborNs: median(c), jsonNs: median(j), ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) };
}

export function runWire(quick: boolean): WireResult {
  const sizes = SAMPLE_FRAMES.map((frame) => {
    const cbor = encodeFrame(frame).length;
    const json = new TextEncoder().encode(JSON.stringify(asJson(frame))).length;
    return { frame: FRAME_NAMES[frame.type], cbor, tcp: encodeTcpFrame(frame).length, json, ratio: cbor / json };
  });
  const iterations = quick ? 20_000 : 100_000;
  const rounds = quick ? 3 : 15;
  const push = SAMPLE_FRAMES[2] as PushFrame;
  const pushJson = asJson(push);
  const pushBytes = encodeFrame(push);
  const pushText = JSON.stringify(pushJson);
  // What the relay does per push: the edge encoded `data` once, the relay writes the envelope around it.
  const fields = { ...push, data: encodeData(push.data) };
  // The same PUSH with its texts and numbers different in every frame, as real traffic is: the
  // reader's cache of short texts then misses (JSON.parse has no such cache to lose).
  const varied = Array.from({ length: 4096 }, (_, i) => {
    const frame: PushFrame = { ...push, seq: push.seq + i, sentAt: push.sentAt + i, data: { title: `Order ${100_000 + i} shipped`, body: `Your parcel ${(i * 7919) % 100_000} is on its way`, orderId: 88_123 + i } };
    return { bytes: encodeFrame(frame), text: JSON.stringify(asJson(frame)) };
  });
  let next = 0;
  // The same frame through cbor-x alone, what the hand-written envelope writer and reader replace.
  const pushArray = [push.type, push.seq, push.messageId, push.priority, push.data, BigInt(push.sentAt)];
  const codec = [
    compare("encode PUSH around data encoded once", rounds, iterations, () => encodePushFrame(fields), () => JSON.stringify(pushJson)),
    compare("decode + validate PUSH", rounds, iterations, () => decodeFrame(pushBytes, ALL), () => JSON.parse(pushText)),
    compare("decode + validate PUSH, texts different in every frame", rounds, iterations, () => decodeFrame(varied[next++ & 4095]!.bytes, ALL), () => JSON.parse(varied[next++ & 4095]!.text)),
    compare("encode PUSH with cbor-x alone, from the data value", rounds, iterations, () => encodeValue(pushArray), () => JSON.stringify(pushJson)),
    compare("decode + validate PUSH with cbor-x alone", rounds, iterations, () => validateFrame(decodeValue(pushBytes), ALL), () => JSON.parse(pushText)),
    compare("encode data once at the edge (encodeData)", rounds, iterations, () => encodeData(push.data), () => JSON.stringify(push.data)),
    compare("encode PUSH from a data value (encodeFrame)", rounds, iterations, () => encodeFrame(push), () => JSON.stringify(pushJson)),
  ];
  return { sizes, codec, rounds };
}

export function wireMarkdown(r: WireResult): string {
  const rows = r.sizes.map((s) => `| ${s.frame} | ${s.cbor} | ${s.tcp} | ${s.json} | ${s.ratio.toFixed(2)} |`);
  const codec = r.codec.map((c) => `| ${c.op} | ${c.cborNs.toFixed(0)} | ${c.jsonNs.toFixed(0)} | ${c.ratio.toFixed(2)} | ${c.ratioMin.toFixed(2)}–${c.ratioMax.toFixed(2)} |`);
  return [
    "| frame | CBOR bytes (WebSocket message) | bytes on raw TCP | same content as JSON | CBOR / JSON |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Codec cost, median of ${r.rounds} rounds, each round the codec and JSON back to back. "encode PUSH around data encoded once" is what the relay does per push: \`encodePushFrame\` around \`data\` bytes that \`encodeData\` wrote once at the edge; its baseline is \`JSON.stringify\` of the whole frame as a named-field object. "decode + validate PUSH" is \`decodeFrame\` (what a device does per push) against \`JSON.parse\` alone. The "cbor-x alone" rows are the same frame without the hand-written envelope writer and reader (see "Codec decision" below).`,
    "",
    "| operation | pushmesh codec ns/op | JSON ns/op | ratio (median) | ratio range |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...codec,
  ].join("\n");
}

export function wireChart(r: WireResult): string {
  const bars: Bar[] = r.sizes.flatMap((s) => [
    { group: s.frame, series: "CBOR on raw TCP", value: s.tcp },
    { group: s.frame, series: "same content as JSON", value: s.json },
  ]);
  return barChart(bars, "bytes per frame →");
}

export function wireHeadlines(r: WireResult): Headline[] {
  const worst = r.sizes.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  const heartbeat = r.sizes.find((s) => s.frame === "HEARTBEAT");
  const [encode, decode] = r.codec;
  const codec = (c: WireResult["codec"][number] | undefined): Headline => ({
    figure: `${c?.op ?? "codec"} cost`,
    measured: `${c?.cborNs.toFixed(0)} ns`,
    baseline: `JSON ${c?.jsonNs.toFixed(0)} ns (${ratio(c?.ratio ?? Number.NaN)}; ${c?.ratioMin.toFixed(2)}–${c?.ratioMax.toFixed(2)} over ${r.rounds} rounds)`,
    target: "≤ 1.0× JSON",
    met: (c?.ratio ?? Number.POSITIVE_INFINITY) <= 1,
  });
  return [
    { figure: "frame bytes vs the same content as JSON (largest ratio)", measured: `${worst.frame}: ${worst.cbor} B`, baseline: `${worst.json} B (${ratio(worst.ratio)})`, target: "≤ 0.6×", met: worst.ratio <= 0.6 },
    { figure: "heartbeat on raw TCP", measured: `${heartbeat?.tcp} B`, baseline: `JSON ${heartbeat?.json} B`, target: "≤ 8 B", met: (heartbeat?.tcp ?? 99) <= 8 },
    codec(encode),
    codec(decode),
  ];
}
