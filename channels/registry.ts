// Adapters per app and channel, made from the app's sealed credentials and kept while those stay
// the same: one HTTP/2 session or SMTP pool per app and provider, not one per message. A change of
// credentials is seen within CHECK_MS; the old adapter is closed.
import type { ChannelAdapter, ChannelKind } from "../core/channels.ts";
import type { AdapterSource } from "../core/fallback.ts";
import type { Sealer } from "../core/sealing.ts";
import type { Store } from "../core/store.ts";

export type AdapterFactory = (credentials: Record<string, string>) => ChannelAdapter;
export type AdapterFactories = Partial<Record<ChannelKind, AdapterFactory>>;

const CHECK_MS = 5_000;

type Entry = { updatedAt: number; checkedAt: number; adapter: ChannelAdapter | null };

export function adapterSource(
  store: Pick<Store, "credentialsOf">,
  sealer: () => Promise<Sealer>,
  factories: AdapterFactories,
  now: () => number = Date.now,
): AdapterSource & { close(): Promise<void> } {
  const entries = new Map<string, Promise<Entry>>();
  const load = async (appId: string, kind: ChannelKind, previous: Entry | null): Promise<Entry> => {
    const stored = await store.credentialsOf(appId, kind);
    const factory = factories[kind];
    if (previous && stored?.updatedAt === previous.updatedAt) return { ...previous, checkedAt: now() };
    await previous?.adapter?.close().catch(() => undefined);
    if (!stored || !factory) return { updatedAt: stored?.updatedAt ?? 0, checkedAt: now(), adapter: null };
    const credentials = await (await sealer()).open<Record<string, string>>(stored.sealed);
    return { updatedAt: stored.updatedAt, checkedAt: now(), adapter: factory(credentials) };
  };
  const source = async (appId: string, kind: ChannelKind): Promise<ChannelAdapter | null> => {
    const key = `${appId}\u0000${kind}`;
    let entry = entries.get(key);
    const known = entry ? await entry.catch(() => null) : null;
    if (!entry || !known || now() - known.checkedAt > CHECK_MS) {
      entry = load(appId, kind, known);
      entries.set(key, entry);
      entry.catch(() => entries.delete(key));
    }
    return (await entry).adapter;
  };
  return Object.assign(source, {
    async close() {
      const all = await Promise.all([...entries.values()].map((e) => e.catch(() => null)));
      entries.clear();
      await Promise.all(all.map((e) => e?.adapter?.close().catch(() => undefined)));
    },
  });
}
