// What the store does for a mesh with a store per region: the directory of homes (global data) and
// a device's move from one home to another (store/device-homes.ts, store/device-moves.ts).

/**
 * A device on its way between homes (store/device-moves.ts): everything that goes with it, as rows
 * of the tables they come from; JSON-safe once its bytes are encoded (core/move-codec.ts).
 */
export type DeviceMove = {
  appId: string;
  deviceId: string;
  /** The new home. */
  to: string;
  at: number;
  /** Its topic subscriptions, by name: each home has its own streams, so offsets do not travel. */
  topics: string[];
  rows: {
    device: Record<string, unknown>[];
    messages: Record<string, unknown>[];
    inbox: Record<string, unknown>[];
    deferredTargets: Record<string, unknown>[];
    fallbackJobs: Record<string, unknown>[];
    preferences: Record<string, unknown>[];
    channelEndpoints: Record<string, unknown>[];
  };
};

export interface DeviceMoves {
  /** Seals the device for a move to `to` and answers what moves with it; a sealed device (a move resumed) answers the same. Null: not here. */
  sealDevice(appId: string, deviceId: string, to: string, now?: number): Promise<DeviceMove | null>;
  /** The new home refused the device: it is served here again as it was. */
  unsealDevice(appId: string, deviceId: string): Promise<void>;
  /** Writes a device moved here; a repeat writes nothing twice. Its topics are subscribed at this home's offsets. */
  moveIn(move: DeviceMove): Promise<void>;
  /** The new home holds the device: what was kept here goes. */
  finishMoveOut(appId: string, deviceId: string): Promise<void>;
}

/** Which region's store holds each device: global data, read from every region's replica. */
export interface HomeDirectory {
  /** The named devices' homes; a device the directory does not know is left out. */
  deviceHomes(appId: string, deviceIds: string[]): Promise<Map<string, string>>;
  /** The homes of the user's devices, sorted. */
  userHomes(appId: string, userId: string): Promise<string[]>;
  /** Records the device's home (and its user, unless undefined); a second call moves it. */
  setDeviceHome(appId: string, deviceId: string, home: string, userId?: string | null, now?: number): Promise<void>;
  forgetDeviceHomes(appId: string, deviceIds: string[]): Promise<void>;
  /** Lets a home store hold rows naming an app whose record is in the global database (a row with the id alone). */
  adoptApp(appId: string): Promise<void>;
}


/** A move as JSON between edges: bytes (a message's data) as base64. */
export function moveToJson(move: DeviceMove): string {
  // `this[key]`, not `value`: a Buffer has turned itself into JSON before a replacer sees it.
  return JSON.stringify(move, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array ? { $bytes: raw.toBase64() } : value;
  });
}

export function moveFromJson(text: string): DeviceMove {
  return JSON.parse(text, (_key, value: unknown) =>
    value !== null && typeof value === "object" && typeof (value as { $bytes?: unknown }).$bytes === "string" ? Uint8Array.fromBase64((value as { $bytes: string }).$bytes) : value,
  ) as DeviceMove;
}
