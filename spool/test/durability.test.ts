// Every send the spool said it kept is there after the process is killed with -9, in order.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../../test-support/harness.ts";
import { openSpoolFile } from "../spool-file.ts";

test("a spool killed with -9 keeps every append it acknowledged, in order", async () => {
  using dir = tempDir();
  const path = join(dir.path, "edge.spool");
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "append-child.ts"), path], { stdout: "pipe", stderr: "inherit" });
  const acked: string[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of child.stdout) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    acked.push(...lines);
    if (acked.length >= 200) break;
  }
  child.kill("SIGKILL");
  await child.exited;

  const spool = await openSpoolFile(path, { maxEntries: 1_000_000, maxBytes: 1 << 30 });
  try {
    const kept = (await spool.oldest(1_000_000)).map((s) => s.messageId);
    expect(kept.slice(0, acked.length)).toEqual(acked);
    // What it appended after the last line the test read is there too, or was never acknowledged.
    expect(kept.length).toBeGreaterThanOrEqual(acked.length);
    expect(spool.size().entries).toBe(kept.length);
  } finally {
    spool.close();
  }
});
