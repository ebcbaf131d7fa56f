// Apps and their API keys. Every HELLO needs an app's token secret and every request resolves a
// key, so both answers are cached briefly: a rotation or revocation is seen within the cache's life.
import { and, asc, eq, isNull, or, gt } from "drizzle-orm";
import { hashApiKey, newApiKey, newSecret } from "../core/auth.ts";
import { randomId } from "../core/ids.ts";
import type { ApiKeyIdentity, ApiKeyRecord, AppRecord, Scope } from "../core/store.ts";
import type { DeviceReads } from "./device-reads.ts";
import { ExpiringCache } from "./expiring-cache.ts";
import { apiKeys, apps, meshSecrets } from "./schema.ts";
import type { Db } from "./statement.ts";

/** How long a process trusts a cached key answer: elsewhere, a revoked key stops working within this. */
export const API_KEY_CACHE_MS = 30_000;
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
    const { key } = await this.createApiKey(appId, "default", ["send", "read", "admin"], now);
    return { appId, apiKey: key };
  }

  async createApiKey(appId: string, name: string, scopes: Scope[], now = Date.now()): Promise<{ keyId: string; key: string }> {
    const key = newApiKey();
    const keyId = randomId("key");
    await this.db.insert(apiKeys).values({ id: keyId, appId, keyHash: await hashApiKey(key), name, scopes: scopes.join(","), createdAt: now });
    return { keyId, key };
  }

  async listApiKeys(appId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db.select().from(apiKeys).where(eq(apiKeys.appId, appId)).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
    return rows.map(keyRecord);
  }

  async revokeApiKey(appId: string, keyId: string, at: number): Promise<ApiKeyRecord | null> {
    const mine = and(eq(apiKeys.appId, appId), eq(apiKeys.id, keyId));
    await this.db.update(apiKeys).set({ revokedAt: at }).where(and(mine, or(isNull(apiKeys.revokedAt), gt(apiKeys.revokedAt, at))));
    const [row] = await this.db.select().from(apiKeys).where(mine);
    if (!row) return null;
    // This process forgets the key's answer now; others within API_KEY_CACHE_MS.
    this.keyCache.forget((identity) => identity?.keyId === keyId);
    return keyRecord(row);
  }

  /**
   * Made at first use: the insert that loses a race leaves the winner's value, which both then
   * read. A secret never changes, so it is read once per process, and written only when missing:
   * a hand-over signs with one on every send, and must not need the primary for it.
   */
  meshSecret(name: string): Promise<string> {
    let known = this.meshSecrets.get(name);
    if (!known) {
      known = this.readOrMakeMeshSecret(name);
      this.meshSecrets.set(name, known);
      known.catch(() => this.meshSecrets.delete(name));
    }
    return known;
  }

  private readonly meshSecrets = new Map<string, Promise<string>>();

  private async readOrMakeMeshSecret(name: string): Promise<string> {
    const read = async () => (await this.db.select({ value: meshSecrets.value }).from(meshSecrets).where(eq(meshSecrets.name, name)))[0]?.value;
    const found = await read();
    if (found !== undefined) return found;
    await this.db.insert(meshSecrets).values({ name, value: newSecret(), createdAt: Date.now() }).onConflictDoNothing();
    const made = await read();
    if (made === undefined) throw new Error(`mesh secret ${name} was not written`);
    return made;
  }

  async insertApiKey(appId: string, key: string, name: string, scopes: Scope[], now = Date.now()): Promise<void> {
    await this.db
      .insert(apiKeys)
      .values({ id: randomId("key"), appId, keyHash: await hashApiKey(key), name, scopes: scopes.join(","), createdAt: now })
      .onConflictDoNothing();
  }

  /** A row naming the app and nothing more: no secret is copied, and no read here uses it. */
  async adoptApp(appId: string): Promise<void> {
    await this.db.insert(apps).values({ id: appId, name: "", tokenSecret: "", createdAt: Date.now() }).onConflictDoNothing();
  }

  async findApp(appId: string): Promise<AppRecord | null> {
    const [row] = await this.db.select().from(apps).where(eq(apps.id, appId));
    return row ?? null;
  }

  listApps(): Promise<AppRecord[]> {
    return this.db.select().from(apps).orderBy(asc(apps.createdAt), asc(apps.id));
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
    const live = row && (row.revokedAt === null || row.revokedAt > now);
    const identity = live ? { keyId: row.id, appId: row.appId, scopes: row.scopes.split(",") as Scope[] } : null;
    // A key that stops working later (a rotation's grace) is not trusted past that moment.
    this.keyCache.set(key, identity, now, live && row.revokedAt !== null ? row.revokedAt : Infinity);
    return identity;
  }
}

const keyRecord = (row: typeof apiKeys.$inferSelect): ApiKeyRecord => ({
  keyId: row.id,
  name: row.name,
  scopes: row.scopes.split(",") as Scope[],
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});
