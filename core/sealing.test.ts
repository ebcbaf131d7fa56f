import { expect, test } from "bun:test";
import { sealerFor } from "./sealing.ts";

test("sealed credentials open with the same secret only, and two seals of one value differ", async () => {
  const sealer = await sealerFor("mesh-secret");
  const value = { privateKey: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", keyId: "K1" };
  const a = await sealer.seal(value);
  const b = await sealer.seal(value);
  expect(a).not.toBe(b);
  expect(a).not.toContain("abc");
  expect(await sealer.open(a)).toEqual(value);
  await expect((await sealerFor("another-secret")).open(a)).rejects.toThrow();
  const [iv, data] = a.split(".");
  await expect(sealer.open(`${iv}.${data!.slice(0, -2)}AA`)).rejects.toThrow();
});
