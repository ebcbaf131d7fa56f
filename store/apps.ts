// Apps and their API keys. Every HELLO needs an app's token secret and every request resolves a
// key, so both answers are cached briefly: a rotation or revocation is seen within the cache's life.
import { asc, eq } from "drizzle-orm";
import { hashApiKey, newApiKey, newSecret } from "../core/auth.ts";
import { randomId } from "../core/ids.ts";
import type { ApiKeyIdentity, AppRecord, Scope } from "../core/store.ts";
import type { DeviceReads } from "./device-reads.ts";
import { ExpiringCache } from "./expiring-cache.ts";
import { apiKeys, apps } from "./schema.ts";
import type { Db } from "./statement.ts";

const API_KEY_CACHE_MS = 30_000;
const API_KEY_CACHE_MAX = 10_000;
/** How long a relay trusts a cached app secret: a rotated secret is seen within this. */
export const APP_SECRET_CACHE_MS = 30_000;
const APP_SECRET_CACHE_MAX = 10_000;

export class AppRecords {
  private readonly secrets = new ExpiringCache<string, string>(APP_SECRET_CACHE_MS, APP_SECRET_CACHE_MAX);
  private readonly keyCache = new ExpiringCache<string, ApiKeyIdentity | null>(API_KEY_CACHE_MS, API_KEY_CACHE_MAX);

  constructor(
    private readonly db: Db,
    private readonly reads: DeviceReads,
  ) {}

  async createApp(name: string, now = Date.now()): Promise<{ appId: string; apiKey: string }> {
    const appId = randomId("app");
    await this.db.insert(apps).values({ id: appId, name, tokenSecret: newSecret(), createdAt: now });
    const apiKey = await this.createApiKey(appId, "default", ["send", "read", "admin"], now);
    return { appId, apiKey };
  }

  async createApiKey(appId: string, name: string, scopes: Scope[], now = Date.now()): Promise<string> {
    const key = newApiKey();
    await this.insertApiKey(appId, key, name, scopes, now);
    return key;
  }

  async insertApiKey(appId: string, key: string, name: string, scopes: Scope[], now = Date.now()): Promise<void> {
    await this.db
      .insert(apiKeys)
      .values({ id: randomId("key"), appId, keyHash: await hashApiKey(key), name, scopes: scopes.join(","), createdAt: now })
      .onConflictDoNothing();
  }

  async findApp(appId: string): Promise<AppRecord | null> {
    const [row] = await this.db.select({ id: apps.id, name: apps.name, tokenSecret: apps.tokenSecret }).from(apps).where(eq(apps.id, appId));
    return row ?? null;
  }

  listApps(): Promise<AppRecord[]> {
    return this.db.select({ id: apps.id, name: apps.name, tokenSecret: apps.tokenSecret }).from(apps).orderBy(asc(apps.createdAt));
  }

  async appSecret(appId: string, now = Date.now()): Promise<string | null> {
    const cached = this.secrets.get(appId, now);
    if (cached !== undefined) return cached;
    const secret = await this.reads.tokenSecret(appId);
    if (secret !== null) this.secrets.set(appId, secret, now);
    return secret;
  }

  /**
   * The cache is keyed by the key as sent, not its hash: hashing it on every request was 5–7 % of
   * a single send's CPU. The keys held are only those seen in the last 30 s, in this process.
   */
  async authenticate(key: string, now = Date.now()): Promise<ApiKeyIdentity | null> {
    const cached = this.keyCache.get(key, now);
    if (cached !== undefined) return cached;
    const hash = await hashApiKey(key);
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.keyHash, hash));
    const identity = row && row.revokedAt === null ? { keyId: row.id, appId: row.appId, scopes: row.scopes.split(",") as Scope[] } : null;
    this.keyCache.set(key, identity, now);
    return identity;
  }
}
