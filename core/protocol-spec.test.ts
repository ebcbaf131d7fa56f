// docs/protocol.md must name every wire code and every frame type that core/protocol.ts defines:
// §6.1 with the code's reason word for word, §5 with the frame's direction.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEVICE_FRAMES, FrameType, SERVER_FRAMES, WireError } from "./protocol.ts";

const doc = readFileSync(join(import.meta.dir, "..", "docs", "protocol.md"), "utf8");
const between = (from: string, to: string) => doc.slice(doc.indexOf(from), doc.indexOf(to)).split("\n");

test("§6.1 lists every wire code with its reason", () => {
  const rows = between("### 6.1 Codes", "### 6.2 GOAWAY");
  const missing = Object.entries(WireError)
    .filter(([name, { code, reason }]) => !rows.some((r) => r.startsWith(`| ${code} | \`${name}\` | ${reason} |`)))
    .map(([name]) => name);
  expect(missing).toEqual([]);
});

test("§5 lists every frame type with its direction", () => {
  const rows = between("## 5. Frames", "Field meanings:");
  const wrong = Object.entries(FrameType).filter(([name, code]) => {
    const direction = DEVICE_FRAMES.has(code) ? "device → relay" : SERVER_FRAMES.has(code) ? "relay → device" : "?";
    return !rows.some((r) => r.startsWith(`| ${code} | \`${name}\` | ${direction} |`));
  });
  expect(wrong).toEqual([]);
});
