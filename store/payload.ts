// Message bodies as the store keeps them: CBOR bytes since migration 0003; JSON text in rows
// written before it. Reads turn both into what the relay pushes, and never fail for one row: a
// body the codec refuses comes back as undeliverable, so one damaged row cannot stop a page.
import { encodeData } from "../core/codec.ts";
import type { Payload } from "../core/store.ts";

export function payloadOf(stored: unknown): Payload {
  if (stored instanceof Uint8Array) return stored;
  if (stored instanceof ArrayBuffer) return new Uint8Array(stored);
  if (typeof stored === "string") {
    try {
      return encodeData(JSON.parse(stored) as unknown);
    } catch (error) {
      return { undeliverable: `undeliverable_payload: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { undeliverable: "undeliverable_payload: the message has no body" };
}

/** The bytes to store for a new message's body; a body that is not bytes is a caller's bug. */
export function bytesToStore(data: Payload): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError(`a message body to store must be CBOR bytes (${data.undeliverable})`);
  return data;
}
