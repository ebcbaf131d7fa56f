// A device token's expiry holds on an open session too, not only at HELLO: when it passes, the
// relay sends ERROR TOKEN_EXPIRED and closes, on both transports.
import { expect, test } from "bun:test";
import { signDeviceToken } from "../../core/auth.ts";
import { FrameType, WireError } from "../../core/protocol.ts";
import { startTestMesh } from "../../test-support/harness.ts";
import { helloFrame, rawPeer, TRANSPORTS } from "../../test-support/raw.ts";

for (const transport of TRANSPORTS) {
  test(`${transport}: a session ends with TOKEN_EXPIRED when its token expires, though the device keeps talking`, async () => {
    await using mesh = await startTestMesh();
    await mesh.device("short-lived");
    const secret = (await mesh.store.appSecret(mesh.appId))!;
    const expiresAt = Date.now() + 1_500;
    const token = await signDeviceToken(secret, { appId: mesh.appId, deviceId: "short-lived", expiresAt });
    const peer = await rawPeer(transport, mesh);
    peer.sendFrames(helloFrame("short-lived", token, { heartbeat: 5 }));
    expect((await peer.nextFrame()).type).toBe(FrameType.WELCOME);
    // Heartbeats keep the connection alive: only the token's expiry can end it.
    const beating = setInterval(() => peer.sendFrames({ type: FrameType.HEARTBEAT, interval: 5 }), 200);
    try {
      const closed = await peer.closed;
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
      const error = peer.frames.find((f) => f.type === FrameType.ERROR);
      expect(error).toMatchObject({ code: WireError.TOKEN_EXPIRED.code });
      if (transport === "ws") expect(closed.code).toBe(WireError.TOKEN_EXPIRED.code);
    } finally {
      clearInterval(beating);
    }
  });
}
