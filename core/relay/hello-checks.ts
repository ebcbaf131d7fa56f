// What a HELLO must prove before the relay opens a session: the protocol version, a token this
// mesh signed for this device, not past its expiry nor revoked, and a device that exists; and
// where the session resumes the device's stream.
import { isRevoked, peekTokenApp, verifyDeviceToken } from "../auth.ts";
import { FrameError, type HelloFrame, PROTOCOL_VERSION, WireError } from "../protocol.ts";
import type { DeviceRecord, Store } from "../store.ts";

export type CheckedHello = { appId: string; device: DeviceRecord; tokenExpiresAt: number; tokenIssuedAt: number };

/** A device this home's store does not hold, homed in another region: sent there with a GOAWAY. */
export class HomeElsewhere extends FrameError {
  constructor(readonly home: string) {
    super("HOME_ELSEWHERE", `the device's home is region ${home}`);
  }
}

/** The device's home, when the directory names one other than `region`; caught up once first, for a move a moment ago. */
export async function homeElsewhere(store: Pick<Store, "deviceHomes" | "freshen">, region: string, appId: string, deviceId: string, fresh = false): Promise<string | null> {
  const home = (await store.deviceHomes(appId, [deviceId])).get(deviceId);
  if (home !== undefined && home !== region) return home;
  return !fresh && (await store.freshen()) ? homeElsewhere(store, region, appId, deviceId, true) : null;
}

export async function checkHello(store: Store, frame: HelloFrame, now: number, region: string): Promise<CheckedHello> {
  if (frame.version !== PROTOCOL_VERSION) {
    throw new FrameError("UNSUPPORTED_VERSION", `protocol ${frame.version} is not supported; this server speaks ${PROTOCOL_VERSION}`);
  }
  const appId = peekTokenApp(frame.token);
  const secret = appId === null ? null : await store.appSecret(appId);
  if (appId === null || secret === null) throw new FrameError("TOKEN_INVALID", "token not issued by this mesh");
  const check = await verifyDeviceToken(secret, frame.token, now);
  if (!check.ok) throw new FrameError(check.reason, WireError[check.reason].reason);
  if (check.claims.deviceId !== frame.deviceId) throw new FrameError("TOKEN_INVALID", "token is for another device");
  // A valid token for a missing device usually means it was registered a moment ago at an edge
  // whose write this node's replica has not pulled yet: catch up once before refusing.
  const device = (await store.getDevice(appId, frame.deviceId)) ?? ((await store.freshen()) ? await store.getDevice(appId, frame.deviceId) : null);
  if (!device) {
    const home = await homeElsewhere(store, region, appId, frame.deviceId, true);
    throw home ? new HomeElsewhere(home) : new FrameError("DEVICE_UNKNOWN", "device not found");
  }
  if (isRevoked(check.claims.issuedAt, device.tokensRevokedAt)) throw new FrameError("TOKEN_REVOKED", WireError.TOKEN_REVOKED.reason);
  return { appId, device, tokenExpiresAt: check.claims.expiresAt, tokenIssuedAt: check.claims.issuedAt };
}

/**
 * Where a session resumes: the device's latest sequence, and the last one it has (`lastSeq`),
 * which counts only under the epoch it was earned in: epoch 0 (no state) or another epoch (the
 * history was reset) means the device gets everything there is. `latest` is the node's reading.
 */
export async function resumePoint(store: Store, appId: string, frame: HelloFrame, device: DeviceRecord, latest: number | null): Promise<{ latestSeq: number; lastSeq: number }> {
  let latestSeq = latest ?? device.lastSeq;
  // A device ahead of this node's replica (it was served by another node a moment ago) is not
  // clamped to a stale latest: the replica catches up first. Clamping would make the device
  // lower its own mark and take the same messages again.
  if (frame.epoch === device.epoch && frame.lastSeq > latestSeq && (await store.freshen())) {
    latestSeq = (await store.latestSeq(appId, frame.deviceId)) ?? latestSeq;
  }
  return { latestSeq, lastSeq: frame.epoch === device.epoch ? Math.min(frame.lastSeq, latestSeq) : 0 };
}
