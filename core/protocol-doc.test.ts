// docs/protocol.md is what a stranger writes a client from: every byte example in its worked
// examples (§9) must decode as a valid frame and be exactly what the codec writes for that frame,
// and every example of how `data` is encoded (§4.4) must be exactly what encodeData writes.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeFrame, encodeData, encodeFrame, encodeTcpFrame, TcpFrameReader } from "./codec.ts";
import { DEVICE_FRAMES, SERVER_FRAMES } from "./protocol.ts";

const ALL_FRAMES = new Set([...DEVICE_FRAMES, ...SERVER_FRAMES]);
const doc = readFileSync(join(import.meta.dir, "..", "docs", "protocol.md"), "utf8");
const examples = doc.slice(doc.indexOf("## 9. Worked examples"));

const HEX = /^[0-9a-f]{2}( [0-9a-f]{2})*$/;
const bytesOf = (hex: string) => Uint8Array.from(hex.split(" "), (h) => Number.parseInt(h, 16));

/**
 * Every byte example of the worked examples: fenced blocks of hex (a block whose lines are
 * labelled, "WebSocket: …" and "TCP: …", is one example per line), and the hex cells of table
 * rows that name a frame (| `ACK [4, 42]` | `82 04 18 2a` | …).
 */
function byteExamples(): { where: string; bytes: Uint8Array }[] {
  const out: { where: string; bytes: Uint8Array }[] = [];
  let heading = "";
  let block: string[] | null = null;
  for (const line of examples.split("\n")) {
    if (line.startsWith("### ")) heading = line.slice(4);
    if (line.startsWith("```")) {
      if (block) {
        const labelled = block.filter((l) => /^[A-Za-z]+:/.test(l));
        if (labelled.length > 0) {
          for (const l of labelled) {
            const hex = l.slice(l.indexOf(":") + 1).trim();
            if (HEX.test(hex)) out.push({ where: `${heading} (${l.slice(0, l.indexOf(":"))})`, bytes: bytesOf(hex) });
          }
        } else {
          const hex = block.join(" ").trim().replace(/\s+/g, " ");
          if (HEX.test(hex)) out.push({ where: heading, bytes: bytesOf(hex) });
        }
        block = null;
      } else block = [];
      continue;
    }
    if (block) block.push(line);
    else if (/^\| `[A-Z_]+ \[/.test(line)) {
      for (const [, hex] of line.matchAll(/`([0-9a-f ]+)`/g)) if (HEX.test(hex!)) out.push({ where: `${heading}: ${line.split("|")[1]!.trim()}`, bytes: bytesOf(hex!) });
    }
  }
  return out;
}

/** A block is a TCP frame when its varint prefix gives exactly the rest of its length. */
function splitTcp(bytes: Uint8Array): Uint8Array | null {
  try {
    const frames = new TcpFrameReader().push(bytes);
    return frames.length === 1 && frames[0]!.length < bytes.length ? frames[0]! : null;
  } catch {
    return null;
  }
}

test("every worked example in docs/protocol.md decodes, and the codec writes exactly its bytes", () => {
  const blocks = byteExamples();
  expect(blocks.length).toBeGreaterThanOrEqual(20);
  for (const { where: heading, bytes } of blocks) {
    const tcpBody = splitTcp(bytes);
    const frame = decodeFrame(tcpBody ?? bytes, ALL_FRAMES);
    const again = tcpBody ? encodeTcpFrame(frame) : encodeFrame(frame);
    expect({ heading, hex: Buffer.from(again).toString("hex") }).toEqual({ heading, hex: Buffer.from(bytes).toString("hex") });
  }
});

test("every example in docs/protocol.md §4.4 is exactly what encodeData writes", () => {
  const section = doc.slice(doc.indexOf("### 4.4 `data`"), doc.indexOf("## 5. Frames"));
  // `<JSON>` → `<hex>`, e.g. `-25` → `38 18`, or `"\ud800"` → `63 ef bf bd`
  const pairs = [...section.matchAll(/`([^`]+)` → `([0-9a-f ]+)`/g)].map(([, json, hex]) => ({ json: json!, hex: hex! }));
  expect(pairs.length).toBeGreaterThanOrEqual(20);
  for (const { json, hex } of pairs) {
    expect({ json, hex: Buffer.from(encodeData(JSON.parse(json))).toString("hex").replace(/(..)(?!$)/g, "$1 ") }).toEqual({ json, hex });
  }
});
