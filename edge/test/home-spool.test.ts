// With a store per region, a home whose edge cannot be reached holds back only the sends for its
// own devices: they wait in this edge's spool (202 queued) while sends for devices homed here are
// written at once, and what waited is handed over, in order, once that edge answers.
import { expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../ops/free-port.ts";
import type { LibsqlStore } from "../../store/libsql-store.ts";
import { meshSecrets } from "../../store/schema.ts";
import { HANDOVER_SECRET } from "../routes/handover.ts";
import { connectDevice, startTestMesh, tempDir, until } from "../../test-support/harness.ts";

test("a home whose edge is away holds back only its own devices' sends; they are handed over in order when it is back", async () => {
  using dir = tempDir();
  const farPort = await freePort();
  for (const d of ["near", "far"]) mkdirSync(join(dir.path, d));
  await using mesh = await startTestMesh({ region: "near", spoolPath: join(dir.path, "near.spool"), homeEdges: { far: `http://127.0.0.1:${farPort}` } }, join(dir.path, "near"));
  const near = await mesh.device("near-phone");
  await mesh.store.upsertDevice(mesh.appId, { deviceId: "far-phone", home: "far" });
  await mesh.store.setDeviceHome(mesh.appId, "near-phone", "near");
  await mesh.store.setDeviceHome(mesh.appId, "far-phone", "far");
  await using device = await connectDevice(mesh.ws, near);

  const send = async (deviceId: string, n: number) => (await mesh.api("POST", "/v1/messages", { to: { deviceId }, data: { n } })).body;
  const queued = [await send("far-phone", 1), await send("far-phone", 2)];
  for (const q of queued) expect(q).toMatchObject({ state: "queued" });
  // The spool holds sends for the far home, not for this one: written now, delivered now.
  expect(await send("near-phone", 3)).toMatchObject({ targets: 1, states: { pending: 1 } });
  await device.waitFor(1);
  expect(device.received.map((m) => (m.data as { n: number }).n)).toEqual([3]);
  // A send split over both homes: written here, queued for the far one.
  const split = (await mesh.api("POST", "/v1/messages", { to: { deviceIds: ["near-phone", "far-phone"] }, data: { n: 4 } })).body;
  expect(split.homes.map((h: { home: string; result: { state?: string } }) => [h.home, h.result.state ?? "written"])).toEqual([
    ["near", "written"],
    ["far", "queued"],
  ]);
  await device.waitFor(2);
  expect(await mesh.store.latestSeq(mesh.appId, "far-phone")).toBe(0);

  // The far home's edge comes up on its port (here over the same store, which holds its devices
  // and the mesh's hand-over secret): what waited reaches it, in the order it was taken.
  await using back = await startTestMesh({ region: "far", edgePort: farPort, db: `file:${join(dir.path, "near", "mesh.db")}` }, join(dir.path, "far"));
  // (Both homes share one file in this test, so the split's far part, under the message id its near
  // part was written with, counts as written already; in a mesh each home has its own store.)
  await until(async () => (await back.store.latestSeq(mesh.appId, "far-phone")) === 2, "the far home to hold 2 messages", 20_000);
  const inbox = await back.store.readInbox(mesh.appId, "far-phone", 0, 10);
  expect(inbox.map((m) => m.messageId)).toEqual([queued[0].messageId, queued[1].messageId]);
}, 60_000);

test("a kept send whose device moved home meanwhile follows it there instead of being refused", async () => {
  using dir = tempDir();
  const farPort = await freePort();
  for (const d of ["near", "far"]) mkdirSync(join(dir.path, d));
  await using mesh = await startTestMesh({ region: "near", spoolPath: join(dir.path, "near.spool"), homeEdges: { far: `http://127.0.0.1:${farPort}` } }, join(dir.path, "near"));
  await mesh.store.setDeviceHome(mesh.appId, "traveller", "far");
  const kept = (await mesh.api("POST", "/v1/messages", { to: { deviceId: "traveller" }, data: { n: 1 } })).body;
  expect(kept).toMatchObject({ state: "queued" });
  // Meanwhile the device's home became this region (as a move leaves it).
  await mesh.store.upsertDevice(mesh.appId, { deviceId: "traveller", home: "near" });
  await mesh.store.setDeviceHome(mesh.appId, "traveller", "near");
  // The far home's edge answers again, and holds no such device: the send comes home instead.
  await using far = await startTestMesh({ region: "far", edgePort: farPort }, join(dir.path, "far"));
  const secret = await mesh.store.meshSecret(HANDOVER_SECRET);
  await (far.store as LibsqlStore).db.insert(meshSecrets).values({ name: HANDOVER_SECRET, value: secret, createdAt: Date.now() }).onConflictDoUpdate({ target: meshSecrets.name, set: { value: secret } });
  await until(async () => (await mesh.store.latestSeq(mesh.appId, "traveller")) === 1, "the send written at its new home", 20_000);
  expect((await mesh.store.readInbox(mesh.appId, "traveller", 0, 10)).map((m) => m.messageId)).toEqual([kept.messageId]);
  expect((await mesh.api("GET", `/v1/messages/${kept.messageId}`)).body).toMatchObject({ targets: 1 });
}, 60_000);
