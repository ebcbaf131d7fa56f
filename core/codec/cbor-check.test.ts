import { describe, expect, test } from "bun:test";
import { CborFormatError, checkCbor, MAX_CBOR_NESTING } from "./cbor-check.ts";
import { decodeFrame, decodeValue } from "../codec.ts";
import { DEVICE_FRAMES, type FrameError, SERVER_FRAMES } from "../protocol.ts";

const bytesOf = (hex: string) => Uint8Array.from(hex.split(" ").filter(Boolean), (h) => Number.parseInt(h, 16));
const code = (bytes: Uint8Array, accept: ReadonlySet<number>) => {
  try {
    decodeFrame(bytes, accept);
    return "ok";
  } catch (e) {
    return (e as FrameError).code;
  }
};

const refusal = (hex: string) => {
  try {
    checkCbor(bytesOf(hex));
    return null;
  } catch (e) {
    return e instanceof CborFormatError ? e.name : String(e);
  }
};

// RFC 8949 Appendix F.1, every example of a not-well-formed item, grouped as there.
const NOT_WELL_FORMED = {
  "end of input in a head": ["18", "19", "1a", "1b", "19 01", "1a 01 02", "1b 01 02 03 04 05 06 07", "38", "58", "78", "98", "9a 01 ff 00", "b8", "d8", "f8", "f9 00", "fa 00 00", "fb 00 00 00"],
  "definite-length strings with short data": ["41", "61", "5a ff ff ff ff 00", "5b ff ff ff ff ff ff ff ff 01 02 03", "7a ff ff ff ff 00", "7b 7f ff ff ff ff ff ff ff 01 02 03"],
  "definite-length maps and arrays without enough items": ["81", "81 81 81 81 81 81 81 81 81", "82 00", "a1", "a2 01 02", "a1 00", "a2 00 00 00"],
  "a tag without content": ["c0"],
  "indefinite-length strings without a break": ["5f 41 00", "7f 61 00"],
  "indefinite-length maps and arrays without a break": ["9f", "9f 01 02", "bf", "bf 01 02 01 02", "81 9f", "9f 80 00", "9f 9f 9f 9f 9f ff ff ff ff", "9f 81 9f 81 9f 9f ff ff ff"],
  "reserved additional information": ["1c", "1d", "1e", "3c", "3d", "3e", "5c", "5d", "5e", "7c", "7d", "7e", "9c", "9d", "9e", "bc", "bd", "be", "dc", "dd", "de", "fc", "fd", "fe"],
  "two-byte encodings of simple values below 32": ["f8 00", "f8 01", "f8 18", "f8 1f"],
  "indefinite-length string chunks of the wrong type": ["5f 00 ff", "5f 21 ff", "5f 61 00 ff", "5f 80 ff", "5f a0 ff", "5f c0 00 ff", "5f e0 ff", "7f 41 00 ff"],
  "indefinite-length string chunks of indefinite length": ["5f 5f 41 00 ff ff", "7f 7f 61 00 ff ff"],
  "a break on its own": ["ff"],
  "a break in a definite-length array or map or a tag": ["81 ff", "82 00 ff", "a1 ff", "a1 ff 00", "a1 00 ff", "a2 00 00 ff", "9f 81 ff", "9f 82 9f 81 9f 9f ff ff ff ff"],
  "a break in the value position of an indefinite-length map": ["bf 00 ff", "bf 00 00 00 ff"],
  "major types 0, 1 and 6 with additional information 31": ["1f", "3f", "df"],
};

describe("RFC 8949 Appendix F: not well-formed, refused, and MALFORMED_FRAME on the wire", () => {
  for (const [group, examples] of Object.entries(NOT_WELL_FORMED)) {
    test(group, () => {
      for (const hex of examples) {
        expect({ hex, refused: refusal(hex) }).toEqual({ hex, refused: "CborFormatError" });
        expect({ hex, relay: code(bytesOf(hex), DEVICE_FRAMES), device: code(bytesOf(hex), SERVER_FRAMES) }).toEqual({ hex, relay: "MALFORMED_FRAME", device: "MALFORMED_FRAME" });
      }
    });
  }

  test("the outside report: a lone break, a break in a frame, a simple value in two bytes, trailing bytes", () => {
    for (const hex of ["ff", "82 04 ff", "83 04 01 ff", "82 04 f8 14", "82 04 18 2a 00", "9f 04 ff ff"]) {
      expect({ hex, code: code(bytesOf(hex), DEVICE_FRAMES) }).toEqual({ hex, code: "MALFORMED_FRAME" });
    }
  });
});

describe("what the decoder takes", () => {
  // RFC 8949 Appendix A examples of each kind, and indefinite-length arrays and maps.
  const taken: [string, unknown][] = [
    ["00", 0],
    ["17", 23],
    ["18 18", 24],
    ["19 03 e8", 1000],
    ["1a 00 0f 42 40", 1000000],
    ["1b 00 00 00 e8 d4 a5 10 00", 1000000000000],
    ["20", -1],
    ["38 63", -100],
    ["39 03 e7", -1000],
    ["f9 3c 00", 1],
    ["fa 47 c3 50 00", 100000],
    ["fb 3f f1 99 99 99 99 99 9a", 1.1],
    ["f4", false],
    ["f5", true],
    ["f6", null],
    ["f7", undefined],
    ["40", new Uint8Array(0)],
    ["64 49 45 54 46", "IETF"],
    ["83 01 82 02 03 82 04 05", [1, [2, 3], [4, 5]]],
    ["a2 61 61 01 61 62 82 02 03", { a: 1, b: [2, 3] }],
    ["9f ff", []],
    ["9f 01 82 02 03 9f 04 05 ff ff", [1, [2, 3], [4, 5]]],
    ["83 01 9f 02 03 ff 82 04 05", [1, [2, 3], [4, 5]]],
    ["bf 61 61 01 61 62 9f 02 03 ff ff", { a: 1, b: [2, 3] }],
    ["a1 01 61 61", { "1": "a" }],
  ];
  for (const [hex, value] of taken) {
    test(hex, () => {
      checkCbor(bytesOf(hex));
      expect(decodeValue(bytesOf(hex))).toEqual(value);
    });
  }

  test("indefinite-length strings and unassigned simple values are refused though well-formed", () => {
    for (const hex of ["5f 42 01 02 43 03 04 05 ff", "7f 65 73 74 72 65 61 64 6d 69 6e 67 ff", "e0", "f3", "f8 20", "f8 ff"]) {
      expect(() => checkCbor(bytesOf(hex))).toThrow(CborFormatError);
      expect(code(bytesOf(hex), SERVER_FRAMES)).toBe("MALFORMED_FRAME");
    }
  });

  test(`items nest at most ${MAX_CBOR_NESTING} levels deep, tags counting as a level`, () => {
    const nested = (levels: number, head = 0x81) => {
      const bytes = new Uint8Array(levels).fill(head);
      bytes[levels - 1] = 0x01; // the innermost item, at level `levels`
      return bytes;
    };
    expect(() => checkCbor(nested(MAX_CBOR_NESTING))).not.toThrow();
    expect(() => checkCbor(nested(MAX_CBOR_NESTING + 1))).toThrow(`nested deeper than ${MAX_CBOR_NESTING} levels`);
    expect(() => checkCbor(nested(MAX_CBOR_NESTING + 1, 0xc6))).toThrow(CborFormatError);
    // A whole frame of nesting is refused without exhausting the stack.
    expect(code(nested(64 * 1024), DEVICE_FRAMES)).toBe("MALFORMED_FRAME");
  });

  test("a huge count in a small frame is refused without allocating or looping past the end", () => {
    for (const hex of ["9b ff ff ff ff ff ff ff ff 00", "bb 00 00 00 01 00 00 00 00 00 00", "5b 00 00 00 01 00 00 00 00"]) {
      expect(() => checkCbor(bytesOf(hex))).toThrow("unexpected end");
    }
  });
});
