// A forward made twice writes once: the edge died after the store committed a spooled send and
// before the spool let it go. The forward finds the message id taken, clears the spool, and the
// device gets the message once, before the one spooled after it.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { type ForwardResult, SpoolForwarder } from "../../core/spool-forwarder.ts";
import { sendMessage } from "../../core/send/send.ts";
import { openSpoolFile } from "../../spool/spool-file.ts";
import { storeFailure } from "../../store/group-commit.ts";
import { connectDevice, startTestMesh, tempDir, until } from "../../test-support/harness.ts";
import { parseConfig } from "../../core/config.ts";

test("a spooled send forwarded a second time is written once, and order holds", async () => {
  using dir = tempDir();
  await using mesh = await startTestMesh();
  const creds = await mesh.device("phone");
  await using device = await connectDevice(mesh.ws, creds);
  const spool = await openSpoolFile(join(dir.path, "edge.spool"), { maxEntries: 100, maxBytes: 1 << 20 });
  const now = Date.now();
  const first = { appId: mesh.appId, messageId: crypto.randomUUID(), acceptedAt: now, request: { to: { deviceId: "phone" }, data: { n: 1 } } };
  const second = { appId: mesh.appId, messageId: crypto.randomUUID(), acceptedAt: now + 1, request: { to: { deviceId: "phone" }, data: { n: 2 } } };
  await spool.append(first);
  await spool.append(second);
  const deps = { store: mesh.store, engine: mesh.engine, config: parseConfig({}) };
  // The earlier forward of the first send: committed, then the edge died before the spool's delete.
  await sendMessage(deps, first.appId, first.request, first.acceptedAt, first.messageId);
  await device.waitFor(1);

  const results: [ForwardResult, number][] = [];
  const forwarder = new SpoolForwarder({ ...deps, spool, isStoreOutage: storeFailure, onForward: (r, n) => void results.push([r, n]) });
  forwarder.start();
  try {
    await until(() => spool.size().entries === 0, "the spool to empty");
    await device.waitFor(2);
    await Bun.sleep(200);
    expect(results.sort()).toEqual([["replayed", 1], ["written", 1]]);
    expect(device.received.map((m) => [m.messageId, m.seq])).toEqual([
      [first.messageId, 1],
      [second.messageId, 2],
    ]);
    expect((await mesh.api("GET", `/v1/messages/${first.messageId}`)).body.targets).toBe(1);
  } finally {
    await forwarder.stop();
    spool.close();
  }
});
