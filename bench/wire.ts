// Wire benchmark: bytes per frame against the same content as JSON with named fields, and the
// codec's encode/decode cost against JSON.stringify/parse, measured in the same run.
import { decodeFrame, encodeFrame, encodeTcpFrame } from "../core/codec.ts";
import { bytesToUuid, DEVICE_FRAMES, type Frame, FRAME_NAMES, FrameType, PRIORITY_NAMES, SERVER_FRAMES, uuidToBytes } from "../core/protocol.ts";
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

export type WireResult = {
  sizes: { frame: string; cbor: number; tcp: number; json: number; ratio: number }[];
  codec: { op: string; cborNs: number; jsonNs: number; ratio: number }[];
};

export function runWire(quick: boolean): WireResult {
  const sizes = SAMPLE_FRAMES.map((frame) => {
    const cbor = encodeFrame(frame).length;
    const json = new TextEncoder().encode(JSON.stringify(asJson(frame))).length;
    return { frame: FRAME_NAMES[frame.type], cbor, tcp: encodeTcpFrame(frame).length, json, ratio: cbor / json };
  });
  const iterations = quick ? 20_000 : 300_000;
  const push = SAMPLE_FRAMES[2]!;
  const pushJson = asJson(push);
  const pushBytes = encodeFrame(push);
  const pushText = JSON.stringify(pushJson);
  const encode = { cbor: nsPerOp(iterations, () => encodeFrame(push)), json: nsPerOp(iterations, () => JSON.stringify(pushJson)) };
  const decode = { cbor: nsPerOp(iterations, () => decodeFrame(pushBytes, ALL)), json: nsPerOp(iterations, () => JSON.parse(pushText)) };
  return {
    sizes,
    codec: [
      { op: "encode PUSH", cborNs: encode.cbor, jsonNs: encode.json, ratio: encode.cbor / encode.json },
      { op: "decode + validate PUSH", cborNs: decode.cbor, jsonNs: decode.json, ratio: decode.cbor / decode.json },
    ],
  };
}

export function wireMarkdown(r: WireResult): string {
  const rows = r.sizes.map((s) => `| ${s.frame} | ${s.cbor} | ${s.tcp} | ${s.json} | ${s.ratio.toFixed(2)} |`);
  const codec = r.codec.map((c) => `| ${c.op} | ${c.cborNs.toFixed(0)} | ${c.jsonNs.toFixed(0)} | ${c.ratio.toFixed(2)} |`);
  return [
    "| frame | CBOR bytes (WebSocket message) | bytes on raw TCP | same content as JSON | CBOR / JSON |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    "| operation | pushmesh codec ns/op | JSON ns/op | ratio |",
    "| --- | ---: | ---: | ---: |",
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
    baseline: `JSON ${c?.jsonNs.toFixed(0)} ns (${ratio(c?.ratio ?? Number.NaN)})`,
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
