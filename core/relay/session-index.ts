// A relay's sessions: those still in their handshake, and the authenticated ones by app and
// device. Each session is held in exactly one place, and the devices in two levels rather than
// one map keyed by "app/device": every entry and key string is held once per idle connection, and
// each app's entry gives its sessions one shared copy of the app id.

type Indexed = { appId: string; deviceId: string };

export class SessionIndex<S extends Indexed> {
  private readonly handshaking = new Set<S>();
  private readonly apps = new Map<string, { appId: string; devices: Map<string, S> }>();
  /** Attached sessions, including one replaced on its device until it is removed. */
  private attachedCount = 0;

  get size(): number {
    return this.handshaking.size + this.attachedCount;
  }

  /** A new connection, before its HELLO is accepted. */
  add(session: S): void {
    this.handshaking.add(session);
  }

  /** Makes `session` its device's one; returns the one it replaces. Its appId becomes the shared copy. */
  attach(session: S): S | undefined {
    if (this.handshaking.delete(session)) this.attachedCount++;
    let app = this.apps.get(session.appId);
    if (!app) this.apps.set(session.appId, (app = { appId: session.appId, devices: new Map() }));
    session.appId = app.appId;
    const previous = app.devices.get(session.deviceId);
    app.devices.set(session.deviceId, session);
    return previous;
  }

  /** The device's session, if it is attached here. */
  get(appId: string, deviceId: string): S | undefined {
    return this.apps.get(appId)?.devices.get(deviceId);
  }

  /** A handshaking session that ended. */
  forget(session: S): void {
    this.handshaking.delete(session);
  }

  /** An attached session that ended; true if it was still its device's one. */
  detach(session: S): boolean {
    this.attachedCount--;
    const app = this.apps.get(session.appId);
    if (app?.devices.get(session.deviceId) !== session) return false;
    app.devices.delete(session.deviceId);
    if (app.devices.size === 0) this.apps.delete(session.appId);
    return true;
  }

  /** Every session; ending sessions while iterating is safe. */
  *[Symbol.iterator](): IterableIterator<S> {
    yield* this.handshaking;
    yield* this.attached();
  }

  *attached(): IterableIterator<S> {
    for (const app of this.apps.values()) yield* app.devices.values();
  }
}
