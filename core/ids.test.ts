import { expect, test } from "bun:test";
import { randomId, uuidv7 } from "./ids.ts";

test("randomId: the prefix, an underscore, one Crockford base32 character per byte, never repeated", () => {
  const ids = Array.from({ length: 2000 }, () => randomId("s", 8));
  for (const id of ids) expect(id).toMatch(/^s_[0-9abcdefghjkmnpqrstvwxyz]{8}$/);
  expect(new Set(ids).size).toBe(ids.length);
  expect(randomId("app", 12)).toMatch(/^app_[0-9a-z]{12}$/);
});

test("uuidv7: version 7, variant 10, ordered by time", () => {
  const a = uuidv7(1_000);
  const b = uuidv7(2_000);
  expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(a < b).toBe(true);
});
