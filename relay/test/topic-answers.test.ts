// SUBSCRIBE and UNSUBSCRIBE are answered (SUBSCRIBED once the subscription is stored, with the
// offset after which this connection receives the topic; UNSUBSCRIBED once it is removed), and a
// bad topic name anywhere is TOPIC_INVALID. Both transports, raw frames and the SDK.
import { expect, test } from "bun:test";
import { FrameError, FrameType, WireError } from "../../core/protocol.ts";
import { connectDevice, startTestMesh, type TestMesh } from "../../test-support/harness.ts";
import { errorThenClose, helloFrame, type RawPeer, rawPeer, TRANSPORTS } from "../../test-support/raw.ts";

async function publish(mesh: TestMesh, topic: string, data: unknown): Promise<number> {
  const res = await mesh.api("POST", "/v1/messages", { to: { topic }, data });
  if (res.status !== 202) throw new Error(`topic send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.offset;
}

async function welcomed(mesh: TestMesh, transport: "ws" | "tcp", deviceId: string, topics: Record<string, number> = {}): Promise<RawPeer> {
  const creds = await mesh.device(deviceId);
  const peer = await rawPeer(transport, mesh);
  peer.sendFrames(helloFrame(deviceId, creds.token, { topics }));
  expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
  return peer;
}

const subscribers = async (mesh: TestMesh, topic: string) => (await mesh.api("GET", `/v1/topics/${topic}`)).body.subscribers;

for (const transport of TRANSPORTS) {
  test(`${transport}: SUBSCRIBED comes once the subscription is stored, before the topic's messages`, async () => {
    await using mesh = await startTestMesh();
    await publish(mesh, "scores", { n: 1 });
    await publish(mesh, "scores", { n: 2 });
    const peer = await welcomed(mesh, transport, "fan");

    peer.sendFrames({ type: FrameType.SUBSCRIBE, topic: "scores", lastOffset: null });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.SUBSCRIBED, topic: "scores", startOffset: 2 });
    expect(await subscribers(mesh, "scores")).toBe(1);
    await publish(mesh, "scores", { n: 3 });
    expect(await peer.nextFrame()).toMatchObject({ type: FrameType.TOPIC_PUSH, topic: "scores", offset: 3 });

    // The connection already has the topic: its cursor stays, and the answer says where it is.
    peer.sendFrames({ type: FrameType.SUBSCRIBE, topic: "scores", lastOffset: 0 });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.SUBSCRIBED, topic: "scores", startOffset: 3 });

    // A lastOffset behind the head: the catch-up follows the answer.
    peer.sendFrames({ type: FrameType.SUBSCRIBE, topic: "replay", lastOffset: 0 });
    await publish(mesh, "replay", { r: 1 });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.SUBSCRIBED, topic: "replay", startOffset: 0 });
    expect(await peer.nextFrame()).toMatchObject({ type: FrameType.TOPIC_PUSH, topic: "replay", offset: 1 });
    peer.close();
  });

  test(`${transport}: UNSUBSCRIBED comes once the subscription is removed; nothing of the topic follows it`, async () => {
    await using mesh = await startTestMesh();
    const peer = await welcomed(mesh, transport, "leaver");
    peer.sendFrames({ type: FrameType.SUBSCRIBE, topic: "scores", lastOffset: null }, { type: FrameType.SUBSCRIBE, topic: "other", lastOffset: null });
    expect((await peer.nextFrame()).type).toBe(FrameType.SUBSCRIBED);
    expect((await peer.nextFrame()).type).toBe(FrameType.SUBSCRIBED);
    peer.sendFrames({ type: FrameType.UNSUBSCRIBE, topic: "scores" });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.UNSUBSCRIBED, topic: "scores" });
    expect(await subscribers(mesh, "scores")).toBe(0);
    // Published in this order, a message of "scores" would come before the one of "other".
    await publish(mesh, "scores", { gone: true });
    await publish(mesh, "other", { still: true });
    expect(await peer.nextFrame()).toMatchObject({ type: FrameType.TOPIC_PUSH, topic: "other", data: { still: true } });
    // Leaving a topic the device does not have is answered too.
    peer.sendFrames({ type: FrameType.UNSUBSCRIBE, topic: "never" });
    expect(await peer.nextFrame()).toEqual({ type: FrameType.UNSUBSCRIBED, topic: "never" });
    peer.close();
  });

  test(`${transport}: an UNSUBSCRIBE right behind a SUBSCRIBE stops its catch-up: nothing of the topic after UNSUBSCRIBED`, async () => {
    await using mesh = await startTestMesh();
    for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => publish(mesh, "backlog", { n: i + j })));
    const peer = await welcomed(mesh, transport, "changed-mind");
    peer.sendFrames(
      { type: FrameType.SUBSCRIBE, topic: "backlog", lastOffset: 0 },
      { type: FrameType.UNSUBSCRIBE, topic: "backlog" },
      { type: FrameType.HEARTBEAT, interval: 30 },
    );
    while ((await peer.nextFrame()).type !== FrameType.HEARTBEAT_ACK);
    const types = peer.frames.map((f) => f.type);
    expect(types[1]).toBe(FrameType.SUBSCRIBED);
    expect(types.slice(types.indexOf(FrameType.UNSUBSCRIBED))).toEqual([FrameType.UNSUBSCRIBED, FrameType.HEARTBEAT_ACK]);
    peer.close();
  });

  test(`${transport}: a bad topic name in SUBSCRIBE, UNSUBSCRIBE or HELLO.topics gets TOPIC_INVALID`, async () => {
    await using mesh = await startTestMesh();
    const cases: [string, unknown[]][] = [
      ["SUBSCRIBE", [FrameType.SUBSCRIBE, "no spaces", null]],
      ["SUBSCRIBE, too long", [FrameType.SUBSCRIBE, "t".repeat(129), 3]],
      ["UNSUBSCRIBE", [FrameType.UNSUBSCRIBE, ""]],
    ];
    for (const [i, [name, frame]] of cases.entries()) {
      const peer = await welcomed(mesh, transport, `typo-${i}`);
      peer.sendFrames(frame);
      const { error, closeCode } = await errorThenClose(peer);
      expect({ name, error }).toMatchObject({ name, error: { type: FrameType.ERROR, code: WireError.TOPIC_INVALID.code } });
      if (transport === "ws") expect(closeCode).toBe(WireError.TOPIC_INVALID.code);
    }
    const creds = await mesh.device("bad-hello");
    const peer = await rawPeer(transport, mesh);
    peer.sendFrames([FrameType.HELLO, 1, "bad-hello", creds.token, 0, 30, 0, { news: 1, "match/7": 2 }]);
    const { error } = await errorThenClose(peer);
    expect(error).toMatchObject({ type: FrameType.ERROR, code: WireError.TOPIC_INVALID.code });
  });

  test(`${transport}: a topic field that is not a text string is INVALID_FRAME, as for any field`, async () => {
    await using mesh = await startTestMesh();
    const peer = await welcomed(mesh, transport, "typed");
    peer.sendFrames([FrameType.SUBSCRIBE, 42, null]);
    const { error } = await errorThenClose(peer);
    expect(error).toMatchObject({ type: FrameType.ERROR, code: WireError.INVALID_FRAME.code });
  });

  test(`${transport}: the SDK's subscribe and unsubscribe settle with the relay's answers`, async () => {
    await using mesh = await startTestMesh();
    const creds = await mesh.device(`sdk-${transport}`);
    await publish(mesh, "offers", { old: true });
    await using device = await connectDevice(transport === "ws" ? mesh.ws : mesh.tcp, creds, { transport });
    // Asked before WELCOME: sent after it, settled by the answer.
    expect(await device.client.subscribe("offers")).toBe(1);
    expect(await subscribers(mesh, "offers")).toBe(1);
    await publish(mesh, "offers", { fresh: 1 });
    await device.waitForTopic(1);
    await device.client.unsubscribe("offers");
    expect(await subscribers(mesh, "offers")).toBe(0);
    expect(device.topicMessages.map((m) => m.data)).toEqual([{ fresh: 1 }]);
    // A bad name is refused on the device; the connection stays.
    const refused = await device.client.subscribe("no spaces").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FrameError);
    expect((refused as FrameError).code).toBe("TOPIC_INVALID");
    expect(device.events.filter((e) => e.type === "connected")).toHaveLength(1);
  });
}

test("the SDK rejects a SUBSCRIBE the relay refuses with TOO_MANY_TOPICS, and keeps the topics it has", async () => {
  await using mesh = await startTestMesh({ maxTopicsPerConnection: 1 });
  const creds = await mesh.device("greedy");
  await using device = await connectDevice(mesh.tcp, creds, { transport: "tcp" });
  await device.waitForEvent("connected");
  expect(await device.client.subscribe("first")).toBe(0);
  const refused = await device.client.subscribe("second").catch((error: unknown) => error);
  expect((refused as FrameError).code).toBe("TOO_MANY_TOPICS");
  await device.waitForEvent("connected", 2);
  await publish(mesh, "first", { kept: true });
  await device.waitForTopic(1);
  expect(await subscribers(mesh, "second")).toBe(0);
});

test("the SDK rejects unanswered topic requests when it stops", async () => {
  await using mesh = await startTestMesh();
  const creds = await mesh.device("quitter");
  const device = await connectDevice("ws://127.0.0.1:9", creds, { addresses: ["ws://127.0.0.1:9"] });
  const pending = device.client.subscribe("news").catch((error: unknown) => error);
  await device.client.stop();
  expect(String(await pending)).toContain("stopped");
  expect(String(await device.client.subscribe("later").catch((error: unknown) => error))).toContain("stopped");
});
