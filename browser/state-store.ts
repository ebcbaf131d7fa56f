// The SDK's state (last sequence, epoch, topic offsets) in the page's localStorage. Writes are
// synchronous, so the state is saved before the message's ack leaves: a reload resumes exactly
// where the page was, without loss or duplicate.
import type { ClientState, ClientStateStore } from "../core/client/client.ts";

/** The part of the Web Storage API used; `localStorage` and `sessionStorage` fit. */
export type StorageLike = { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };

export class LocalStorageStateStore implements ClientStateStore {
  constructor(
    private readonly key: string,
    private readonly storage: StorageLike = globalThis.localStorage,
  ) {}

  load(): ClientState | null {
    const text = this.storage.getItem(this.key);
    if (text === null) return null;
    try {
      const state = JSON.parse(text) as Partial<ClientState>;
      if (typeof state.lastSeq !== "number" || typeof state.epoch !== "number") return null;
      return { lastSeq: state.lastSeq, epoch: state.epoch, topics: state.topics ?? {} };
    } catch {
      // Unreadable state is as good as none: the relay's epoch check keeps the restart safe.
      return null;
    }
  }

  save(state: ClientState): void {
    this.storage.setItem(this.key, JSON.stringify(state));
  }

  clear(): void {
    this.storage.removeItem(this.key);
  }
}
