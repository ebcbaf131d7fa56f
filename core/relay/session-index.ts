// A relay's sessions: those still in their handshake, and the authenticated ones by app and
// device. Each session is held in exactly one place, and the devices in two levels rather than
// one map keyed by "app/device": every entry and key string is held once per idle connection, and
// each app's entry gives its sessions one shared copy of the app id.

type Indexed = { appId: string; deviceId: string; readonly conn: { readonly transport: "ws" | "tcp" } };

export class SessionIndex<S extends Indexed> {
  private readonly handshaking = new Set<S>();
  private readonly apps = new Map<string, { appId: string; devices: Map<string, S> }>();
  /** Attached sessions, including one replaced on its device until it is removed. */
  private attachedCount = 0;
  /** Counted as they come and go: the load report reads this every few seconds. */
  private wsCount = 0;

  get size(): number {
    return this.handshaking.size + this.attachedCount;
  }

  get transports(): { ws: number; tcp: number } {
    return { ws: this.wsCount, tcp: this.size - this.wsCount };
  }

  /** A new connection, before its HELLO is accepted. */
  add(session: S): void {
    this.handshaking.add(session);
    if (session.conn.transport === "ws") this.wsCount++;
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
    if (this.handshaking.delete(session)) this.ended(session);
  }

  /** An attached session that ended; true if it was still its device's one. */
  detach(session: S): boolean {
    this.attachedCount--;
    this.ended(session);
    const app = this.apps.get(session.appId);
    if (app?.devices.get(session.deviceId) !== session) return false;
    app.devices.delete(session.deviceId);
    if (app.devices.size === 0) this.apps.delete(session.appId);
    return true;
  }

  private ended(session: S): void {
    if (session.conn.transport === "ws") this.wsCount--;
  }

  /** Visits every session; the relay's sweep calls this for every connection it holds, so no generator and no copy. */
  forEach(visit: (session: S) => void): void {
    for (const session of this.handshaking) visit(session);
    this.forEachAttached(visit);
  }

  private forEachAttached(visit: (session: S) => void): void {
    for (const app of this.apps.values()) for (const session of app.devices.values()) visit(session);
  }

  /** Every session, as a copy: ending sessions while going through it is safe. */
  list(): S[] {
    const all: S[] = [];
    this.forEach((session) => all.push(session));
    return all;
  }

  /** The authenticated sessions, as a copy. */
  attached(): S[] {
    const attached: S[] = [];
    this.forEachAttached((session) => attached.push(session));
    return attached;
  }
}
