import { expect, test } from "bun:test";
import { SessionIndex } from "./session-index.ts";

type Fake = { appId: string; deviceId: string; conn: { transport: "ws" | "tcp" } };
const fake = (appId: string, deviceId: string, transport: "ws" | "tcp" = "ws"): Fake => ({ appId, deviceId, conn: { transport } });

test("sessions are counted by transport from their handshake to their end, a replaced one until it ends", () => {
  const index = new SessionIndex<Fake>();
  const a = fake("app", "d1");
  const b = fake("app", "d1", "tcp");
  const refused = fake("app", "d2");
  index.add(a);
  index.add(b);
  expect(index.size).toBe(2);
  expect(index.attach(a)).toBeUndefined();
  expect(index.attach(b)).toBe(a);
  expect(index.get("app", "d1")).toBe(b);
  expect(index.transports).toEqual({ ws: 1, tcp: 1 });
  // The replaced session ends: it no longer holds the device.
  expect(index.detach(a)).toBe(false);
  expect(index.get("app", "d1")).toBe(b);
  // A connection refused before it was indexed changes nothing.
  index.forget(refused);
  expect(index.transports).toEqual({ ws: 0, tcp: 1 });
  expect(index.detach(b)).toBe(true);
  expect(index.get("app", "d1")).toBeUndefined();
  expect(index.size).toBe(0);
  expect(index.list()).toEqual([]);
});

test("sessions of one app share one copy of its id", () => {
  const index = new SessionIndex<Fake>();
  const first = fake(["ap", "p"].join(""), "d1");
  const second = fake(["a", "pp"].join(""), "d2");
  index.add(first);
  index.add(second);
  index.attach(first);
  index.attach(second);
  expect(second.appId).toBe("app");
  expect(index.list().map((s) => s.deviceId)).toEqual(["d1", "d2"]);
  expect(index.attached()).toEqual([first, second]);
});
