// Is a frame body one well-formed CBOR item (RFC 8949 §3, Appendix C) of the kinds pushmesh
// decodes? Checked before cbor-x decodes, because cbor-x returns a value for some bytes the RFC
// calls not well-formed: a break `ff` outside an indefinite-length item comes back as an empty
// object, and `f8 14` … `f8 17` as false … undefined. docs/protocol.md §4.1 lists what is taken.
// It builds nothing; decoding stays cbor-x's.

/** Items nest at most this deep, the frame's own array counting as level 1 (data may take 32). */
export const MAX_CBOR_NESTING = 64;

/** The bytes are not one well-formed CBOR item, or hold an item the decoder does not take. */
export class CborFormatError extends Error {
  override name = "CborFormatError";
}

/** Throws CborFormatError unless `bytes` are exactly one item that cbor-x may decode. */
export function checkCbor(bytes: Uint8Array): void {
  const end = checkItem(bytes, 0, 1);
  if (end !== bytes.length) throw new CborFormatError(`${bytes.length - end} bytes after the CBOR item`);
}

/** Checks the item at `p` and returns where it ends. */
function checkItem(b: Uint8Array, p: number, depth: number): number {
  if (p >= b.length) throw truncated();
  const start = p;
  const initial = b[p++]!;
  const major = initial >> 5;
  const ai = initial & 0x1f;
  if (ai === 31) return checkIndefinite(b, p, major, depth, start);
  let n = ai;
  if (ai >= 24) {
    if (ai > 27) throw new CborFormatError(`reserved header byte 0x${hex(initial)} at ${start}`);
    const size = 1 << (ai - 24);
    if (size > b.length - p) throw truncated();
    n = 0;
    // Only compared against lengths below 2^32, so rounding above 2^53 does not matter.
    for (let i = 0; i < size; i++) n = n * 256 + b[p + i]!;
    p += size;
  }
  switch (major) {
    case 0:
    case 1:
      return p;
    case 2:
    case 3:
      if (n > b.length - p) throw truncated();
      return p + n;
    case 4:
      // Every element takes at least one byte, so a huge count ends in truncated() after at most
      // b.length steps, and nothing is allocated for it.
      for (let i = 0; i < n; i++) p = checkItem(b, p, deeper(depth, start));
      return p;
    case 5:
      for (let i = 0; i < n; i++) {
        p = checkItem(b, p, deeper(depth, start));
        p = checkItem(b, p, deeper(depth, start));
      }
      return p;
    case 6:
      return checkItem(b, p, deeper(depth, start));
    default:
      // Major type 7: false, true, null, undefined and the three float widths are taken.
      if ((ai >= 20 && ai <= 23) || ai >= 25) return p;
      if (ai === 24 && n < 32) throw new CborFormatError(`simple value ${n} in the two-byte form at ${start}`);
      throw new CborFormatError(`unassigned simple value ${n} at ${start}`);
  }
}

function checkIndefinite(b: Uint8Array, p: number, major: number, depth: number, start: number): number {
  if (major === 7) throw new CborFormatError(`break byte ff outside an indefinite-length item at ${start}`);
  if (major === 2 || major === 3) throw new CborFormatError(`indefinite-length string at ${start}`);
  if (major !== 4 && major !== 5) throw new CborFormatError(`major type ${major} cannot have an indefinite length (at ${start})`);
  for (let items = 0; ; items++) {
    if (p >= b.length) throw truncated();
    if (b[p] === 0xff) {
      if (major === 5 && items % 2 === 1) throw new CborFormatError(`map at ${start} ends after a key without its value`);
      return p + 1;
    }
    p = checkItem(b, p, deeper(depth, start));
  }
}

function deeper(depth: number, at: number): number {
  if (depth >= MAX_CBOR_NESTING) throw new CborFormatError(`items nested deeper than ${MAX_CBOR_NESTING} levels at ${at}`);
  return depth + 1;
}

function truncated(): CborFormatError {
  return new CborFormatError("unexpected end of CBOR data");
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
