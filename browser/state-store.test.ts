import { expect, test } from "bun:test";
import { LocalStorageStateStore, type StorageLike } from "./state-store.ts";

function memoryStorage(): StorageLike & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) };
}

test("the state round-trips under its key, topics included, and clear forgets it", () => {
  const storage = memoryStorage();
  const store = new LocalStorageStateStore("pushmesh:d1", storage);
  expect(store.load()).toBeNull();
  store.save({ lastSeq: 7, epoch: 3, topics: { news: 2 } });
  expect(new LocalStorageStateStore("pushmesh:d1", storage).load()).toEqual({ lastSeq: 7, epoch: 3, topics: { news: 2 } });
  expect(new LocalStorageStateStore("pushmesh:d2", storage).load()).toBeNull();
  store.clear();
  expect(store.load()).toBeNull();
});

test("an unreadable or foreign value loads as no state rather than throwing", () => {
  const storage = memoryStorage();
  const store = new LocalStorageStateStore("k", storage);
  storage.setItem("k", "{not json");
  expect(store.load()).toBeNull();
  storage.setItem("k", JSON.stringify({ lastSeq: "7" }));
  expect(store.load()).toBeNull();
  storage.setItem("k", JSON.stringify({ lastSeq: 1, epoch: 2 }));
  expect(store.load()).toEqual({ lastSeq: 1, epoch: 2, topics: {} });
});
