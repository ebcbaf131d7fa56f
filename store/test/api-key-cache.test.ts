// API keys on the request path: a key seen recently is answered without hashing it again, and a
// revoked key stops working once its cached answer (30 s) runs out.
import { expect, spyOn, test } from "bun:test";
import { join } from "node:path";
import { apiKeys } from "../schema.ts";
import { openStore } from "../open.ts";
import { tempDir } from "../../test-support/harness.ts";

test("a key seen within 30 s is not hashed again; a revocation shows once that runs out", async () => {
  using dir = tempDir();
  const store = await openStore({ db: `file:${join(dir.path, "store.db")}`, dbSync: "full" });
  try {
    const { appId, apiKey } = await store.createApp("keys");
    const now = Date.now();
    const digest = spyOn(crypto.subtle, "digest");
    try {
      expect(await store.authenticate(apiKey, now)).toMatchObject({ appId });
      const hashed = digest.mock.calls.length;
      expect(hashed).toBe(1);
      expect(await store.authenticate(apiKey, now + 1000)).toMatchObject({ appId });
      expect(digest.mock.calls.length).toBe(hashed);
      // Another key is looked up on its own, never answered from this one's entry.
      expect(await store.authenticate(`${apiKey}x`, now)).toBeNull();
    } finally {
      digest.mockRestore();
    }

    await store.db.update(apiKeys).set({ revokedAt: now });
    expect(await store.authenticate(apiKey, now + 29_000)).toMatchObject({ appId });
    expect(await store.authenticate(apiKey, now + 30_001)).toBeNull();
  } finally {
    store.close();
  }
});
