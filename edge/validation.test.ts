// Schema failures in plain words with full paths: unions name the branch the value meant, unknown
// fields and parameters are named one by one, a rule is reported once per field.
import { expect, test } from "bun:test";
import { query, queryInteger, UserIdSchema } from "./fields.ts";
import { sendMessageSchema } from "./schemas.ts";
import { describeIssues } from "./validation.ts";

const send = sendMessageSchema({ maxTargetsPerSend: 3, maxBatchMessages: 2 });

function issues(value: unknown) {
  const result = send.safeParse(value);
  if (result.success) throw new Error("expected a failure");
  return describeIssues(result.error.issues, "body", value);
}

test("a union names the field inside the branch the value meant, or the union when none or several fit", () => {
  expect(issues({ to: { deviceId: "a b" }, data: 1 })).toEqual([
    { path: "body.to.deviceId", message: "must be 1 to 128 characters: letters, digits and . _ : @ -" },
  ]);
  expect(issues({ to: { deviceIds: ["a", "b", "c", "d"] }, data: 1 })).toEqual([
    { path: "body.to.deviceIds", message: "must be a list of 1 to 3 device ids" },
  ]);
  expect(issues({ to: { deviceId: "a", cc: 1 }, data: 1 })).toEqual([{ path: "body.to.cc", message: "is not a field of this object" }]);
  const rule = "must hold exactly one of deviceId, deviceIds, userId or topic";
  expect(issues({ to: {}, data: 1 })).toEqual([{ path: "body.to", message: rule }]);
  expect(issues({ to: { deviceId: "a", userId: "b" }, data: 1 })).toEqual([{ path: "body.to", message: rule }]);
  expect(issues({ data: 1 })).toEqual([{ path: "body.to", message: "is required" }]);
});

test("every failing field is listed once, unknown fields one by one, each rule in plain words", () => {
  expect(issues({ to: { userId: "" }, data: 1, ttl: 0, deliverAt: "soon", extra: 1, more: 2 })).toEqual([
    { path: "body.to.userId", message: "must be 1 to 128 printable characters (no control characters)" },
    { path: "body.ttl", message: "must be an integer from 1 to 315360000" },
    { path: "body.deliverAt", message: "must be an RFC 3339 date-time with a time zone, or milliseconds since the epoch" },
    { path: "body.extra", message: "is not a field of this object" },
    { path: "body.more", message: "is not a field of this object" },
  ]);
});

test("rules across fields: deliverAt or delay, and no per-device field on a topic message", () => {
  expect(issues({ to: { deviceId: "a" }, data: 1, deliverAt: 0, delay: 5 })).toEqual([
    { path: "body.delay", message: "cannot be given with deliverAt: give one or the other" },
  ]);
  expect(issues({ to: { topic: "t" }, data: 1, delay: 5, idempotencyKey: "k", collapseKey: "c" })).toEqual([
    { path: "body.delay", message: "cannot be used with to.topic" },
    { path: "body.idempotencyKey", message: "cannot be used with to.topic" },
    { path: "body.collapseKey", message: "cannot be used with to.topic" },
  ]);
  const tooFar = Date.now() + 11 * 365 * 24 * 3600 * 1000;
  expect(issues({ to: { deviceId: "a" }, data: 1, deliverAt: tooFar })).toEqual([
    { path: "body.deliverAt", message: "must be at most ten years ahead" },
  ]);
});

test("printable ids: control characters and lone surrogates are refused, lengths count code points", () => {
  const rule = "must be 1 to 128 printable characters (no control characters)";
  for (const bad of ["a\u0000b", "tab\there", "del\u007f", "c1\u0085", "lone\ud800", "x".repeat(129), ""]) {
    expect(UserIdSchema.safeParse(bad).error?.issues.map((i) => i.message)).toContain(rule);
  }
  for (const good of ["user 7", "Zoë", "😀".repeat(128), "用户"]) expect(UserIdSchema.safeParse(good).success).toBe(true);
});

test("a query refuses parameters it does not name, and reads integers from plain digits only", () => {
  const schema = query({ limit: queryInteger(0, 10) });
  const failing = (value: Record<string, unknown>) => describeIssues(schema.safeParse(value).error!.issues, "query", value);
  const rule = "must be an integer from 0 to 10";
  for (const text of ["null", "", "1e1", "0x5", " 5", "-1", "11", "2.5"]) {
    expect(failing({ limit: text })).toEqual([{ path: "query.limit", message: rule }]);
  }
  expect(failing({ limit: ["1", "2"] })).toEqual([{ path: "query.limit", message: "must be given once" }]);
  expect(failing({ limit: "5", lmit: "5", page: "2" })).toEqual([
    { path: "query.lmit", message: "is not a parameter of this route" },
    { path: "query.page", message: "is not a parameter of this route" },
  ]);
  expect(schema.parse({ limit: "10" })).toEqual({ limit: 10 });
});
