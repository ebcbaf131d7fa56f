// A small HTTP server that speaks Upstash's Redis REST protocol in front of a real Redis, so an
// edge on @upstash/redis runs against a local cluster and in tests. It serves what that client
// uses and what Upstash documents:
//   POST /            ["SET","k","v"]                 one command as a JSON array
//   GET|POST /set/k/v[?EX=100]                        the path form; a POST body is the last argument
//   POST /pipeline    [["SET","k","v"],["GET","k"]]   → [{"result":"OK"},{"result":"v"}], errors per entry
//   POST /multi-exec  same body, run in MULTI/EXEC    → the same shape, atomically
// Answers are {"result": …} (200) or {"error": "…"} (400 refused command, 401 bad token, 405 method,
// 503 Redis unreachable). With `Upstash-Encoding: base64`, every string in a result is base64 of its
// UTF-8 bytes except a plain "OK", as @upstash/redis asks by default. Replies are shaped as RESP2
// gives them (Bun speaks RESP3): maps become flat arrays, doubles strings, booleans 1/0.
import { timingSafeEqual } from "node:crypto";
import { EngineCommandRejected, EngineUnavailable } from "../engines/errors.ts";
import type { Log } from "../core/log.ts";
import { classify, RedisLink } from "../engines/redis-link.ts";

export type UpstashBridgeOptions = {
  redisUrl: string;
  /** Callers must send `Authorization: Bearer <token>` (or `?_token=<token>`). */
  token: string;
  hostname?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  commandTimeoutMs?: number;
  log?: Log;
};

export type UpstashBridge = {
  /** Base URL for @upstash/redis's `url`. */
  url: string;
  token: string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

type Command = [string, ...string[]];
type Entry = { result: unknown } | { error: string };

/** A request the bridge refuses before Redis sees it: 400 with this message. */
class BadRequest extends Error {}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT"]);

/**
 * Commands that would change or block the shared connection every request rides on. Transactions
 * have their own endpoint; subscribing is not possible over request/response HTTP.
 */
const REFUSED = new Set(
  (
    "SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE MONITOR MULTI EXEC DISCARD WATCH UNWATCH " +
    "SELECT SWAPDB QUIT RESET HELLO AUTH CLIENT SYNC PSYNC REPLICAOF SLAVEOF SHUTDOWN DEBUG WAIT WAITAOF " +
    "BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP"
  ).split(" "),
);

export function startUpstashBridge(options: UpstashBridgeOptions): UpstashBridge {
  const linkOptions = { url: options.redisUrl, log: options.log, commandTimeoutMs: options.commandTimeoutMs };
  const shared = new RedisLink({ ...linkOptions, name: "bridge" });
  // MULTI puts a connection in a state other requests must not see: transactions get their own, one at a time.
  const transactions = new RedisLink({ ...linkOptions, name: "bridge-transactions" });
  let transactionQueue: Promise<unknown> = Promise.resolve();
  const expected = new TextEncoder().encode(`Bearer ${options.token}`);

  const authorized = (req: Request, url: URL): boolean => {
    const header = req.headers.get("authorization");
    const query = url.searchParams.get("_token");
    const given = new TextEncoder().encode(header ?? (query === null ? "" : `Bearer ${query}`));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const single = async (command: Command): Promise<unknown> => {
    const [name, ...args] = checked(command);
    return shared.send(name, args);
  };

  const pipeline = async (commands: Command[]): Promise<Entry[]> => {
    commands.forEach(checked);
    const client = await shared.connected();
    // Sent together without waiting between them: one write, answers in order.
    const settled = await Promise.allSettled(commands.map(([name, ...args]) => shared.within(client, name, client.send(name, args))));
    const down = settled.find((s) => s.status === "rejected" && !(s.reason instanceof EngineCommandRejected));
    if (down?.status === "rejected") throw down.reason;
    return settled.map((s) => (s.status === "fulfilled" ? { result: s.value } : { error: (s.reason as Error).message }));
  };

  const transaction = (commands: Command[]): Promise<Entry[]> => {
    commands.forEach(checked);
    const run = transactionQueue.then(async () => {
      const client = await transactions.connected();
      const queued = [client.send("MULTI", []), ...commands.map(([name, ...args]) => client.send(name, args)), client.send("EXEC", [])];
      const settled = await transactions.within(client, "MULTI/EXEC", Promise.allSettled(queued));
      const exec = settled[settled.length - 1]!;
      if (exec.status === "rejected") {
        const failure = classify("bridge-transactions", "EXEC", exec.reason);
        if (!(failure instanceof EngineCommandRejected)) throw failure;
        const refused = settled.slice(1, -1).find((s) => s.status === "rejected");
        const detail = refused?.status === "rejected" ? ` (${(refused.reason as Error).message.trim()})` : "";
        throw new EngineCommandRejected(`${failure.message}${detail}`, failure.code);
      }
      const results = exec.value as unknown[];
      return results.map((r): Entry => (r instanceof Error ? { error: r.message } : { result: r }));
    });
    transactionQueue = run.catch(() => {});
    return run;
  };

  const server = Bun.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (!METHODS.has(req.method)) return json(405, { error: `ERR method ${req.method} is not allowed` });
      if (!authorized(req, url)) return json(401, { error: "Unauthorized" });
      const base64 = req.headers.get("upstash-encoding")?.toLowerCase() === "base64";
      const shape = (value: unknown) => toRest(value, base64);
      try {
        if (url.pathname === "/pipeline" || url.pathname === "/multi-exec") {
          if (req.method !== "POST") return json(405, { error: `ERR ${url.pathname} takes POST` });
          const commands = parseCommands(await req.text());
          const entries = url.pathname === "/pipeline" ? await pipeline(commands) : await transaction(commands);
          return json(200, entries.map((e) => ("error" in e ? e : { result: shape(e.result) })));
        }
        const command = url.pathname === "/" ? parseCommand(await req.text()) : await pathCommand(req, url);
        return json(200, { result: shape(await single(command)) });
      } catch (error) {
        if (error instanceof BadRequest || error instanceof EngineCommandRejected) return json(400, { error: error.message });
        if (error instanceof EngineUnavailable) return json(503, { error: `Service Unavailable: ${error.message}` });
        options.log?.("bridge_error", { path: url.pathname, error: String(error) });
        return json(500, { error: `Internal Server Error: ${String(error)}` });
      }
    },
  });

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await server.stop(true);
      shared.close();
      transactions.close();
    })());
  return { url: `http://${server.hostname}:${server.port}`, token: options.token, stop, [Symbol.asyncDispose]: stop };
}

function checked(command: Command): Command {
  const name = command[0].toUpperCase();
  const blocking = (name === "XREAD" || name === "XREADGROUP") && command.some((a) => a.toUpperCase() === "BLOCK");
  if (REFUSED.has(name) || blocking) throw new BadRequest(`ERR command '${command[0]}' is not supported over REST`);
  return command;
}

function parseCommands(body: string): Command[] {
  const value = parseJson(body);
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest("ERR the body must be a non-empty JSON array of commands");
  return value.map(toCommand);
}

function parseCommand(body: string): Command {
  return toCommand(parseJson(body));
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new BadRequest("ERR the body is not valid JSON");
  }
}

/** Strings pass; numbers and booleans are written as Redis would read them; anything else is refused. */
function toCommand(value: unknown): Command {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest("ERR a command is a non-empty JSON array");
  const args = value.map((v) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new BadRequest(`ERR command arguments must be strings or numbers, not ${JSON.stringify(v)}`);
  });
  if (args[0] === "") throw new BadRequest("ERR empty command name");
  return args as Command;
}

/** `/set/foo/bar?EX=100`: segments, then a POST/PUT body as one more argument, then each query pair. */
async function pathCommand(req: Request, url: URL): Promise<Command> {
  const args = url.pathname.slice(1).split("/").map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new BadRequest(`ERR bad percent-encoding in '${segment}'`);
    }
  });
  if (req.method === "POST" || req.method === "PUT") {
    const body = await req.text();
    if (body !== "") args.push(body);
  }
  for (const [key, value] of url.searchParams) {
    if (key === "_token") continue;
    args.push(key);
    if (value !== "") args.push(value);
  }
  return toCommand(args);
}

/** A RESP3 reply from Bun as Upstash (RESP2) would give it, base64-encoding strings on request. */
function toRest(value: unknown, base64: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return base64 && value !== "OK" ? Buffer.from(value, "utf8").toString("base64") : value;
  if (typeof value === "number") return Number.isInteger(value) ? value : toRest(doubleText(value), base64);
  if (typeof value === "bigint") return toRest(value.toString(), base64);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Error) return toRest(value.message, base64);
  if (value instanceof Uint8Array) return base64 ? Buffer.from(value).toString("base64") : new TextDecoder().decode(value);
  if (Array.isArray(value) || value instanceof Set) return [...value].map((v) => toRest(v, base64));
  if (typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [toRest(k, base64), toRest(v, base64)]);
  return toRest(String(value), base64);
}

function doubleText(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  return String(n);
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
