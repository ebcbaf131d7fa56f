import { expect, test } from "bun:test";
import { completeFlags, integer, json, list, oneOf, parseLine, text } from "./args.ts";
import { CliError, nearest } from "./errors.ts";

const flags = {
  ttl: integer("S", "seconds", 1, 100),
  offset: integer("N", "an offset", -10, 10),
  priority: oneOf(["high", "normal", "low"], "priority"),
  data: json("JSON", "the message", { required: true }),
  device: list("ID[,ID…]", "devices"),
  name: text("N", "a name", { env: "TEST_NAME" }),
};

const failure = (run: () => unknown): CliError => {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("did not throw");
};

test("values are parsed and range-checked; a negative number is a value, not a flag", () => {
  const line = parseLine(["--offset", "-5", "--ttl=7", "--data", '{"a":1}', "--device", "a,b", "--device", "c", "--", "--x"], flags, "t");
  expect(line.flags).toEqual({ offset: -5, ttl: 7, data: { a: 1 }, device: ["a", "b", "c"] });
  expect(line.args).toEqual(["--x"]);
  expect(failure(() => parseLine(["--ttl", "-5"], flags, "t"))).toMatchObject({ code: "INVALID_ARGUMENT", message: "--ttl takes a number from 1 to 100, not -5" });
  expect(failure(() => parseLine(["--ttl", "abc"], flags, "t")).message).toBe("--ttl takes a whole number, not 'abc'");
  expect(failure(() => parseLine(["--ttl", "1.5"], flags, "t")).code).toBe("INVALID_ARGUMENT");
  expect(failure(() => parseLine(["--priority", "urgent"], flags, "t")).message).toBe("--priority takes high, normal or low, not 'urgent'");
  expect(failure(() => parseLine(["--data", "{nope"], flags, "t")).code).toBe("INVALID_ARGUMENT");
  expect(failure(() => parseLine(["--device", "a,,b"], flags, "t")).code).toBe("INVALID_ARGUMENT");
});

test("unknown, repeated and valueless flags are named errors that point to the command's help", () => {
  expect(failure(() => parseLine(["--tll", "5"], flags, "send"))).toMatchObject({ code: "UNKNOWN_FLAG", helpFor: "send", message: "send takes no flag --tll; did you mean --ttl?" });
  expect(failure(() => parseLine(["-x"], flags, "send")).code).toBe("UNKNOWN_FLAG");
  expect(failure(() => parseLine(["--ttl", "5", "--ttl", "6"], flags, "send")).message).toBe("--ttl is given twice");
  expect(failure(() => parseLine(["--ttl"], flags, "send")).code).toBe("MISSING_ARGUMENT");
  expect(failure(() => parseLine(["--data", "--ttl", "5"], flags, "send")).code).toBe("MISSING_ARGUMENT");
  expect(parseLine(["--db", "file:x"], flags, "dev", ["db"]).config).toEqual({ db: "file:x" });
});

test("required flags are required; an absent flag is read from its environment variable", () => {
  const parsed: Record<string, unknown> = {};
  expect(failure(() => completeFlags(parsed, flags, "send", {}))).toMatchObject({ code: "MISSING_ARGUMENT", message: "send needs --data JSON" });
  const withData: Record<string, unknown> = { data: 1 };
  completeFlags(withData, flags, "send", { TEST_NAME: "from-env" });
  expect(withData.name).toBe("from-env");
});

test("nearest suggests a likely typo and nothing for an unrelated word", () => {
  expect(nearest("sned", ["send", "listen", "dev"])).toBe("send");
  expect(nearest("lsiten", ["send", "listen", "dev"])).toBe("listen");
  expect(nearest("banana", ["send", "listen", "dev"])).toBeUndefined();
});
