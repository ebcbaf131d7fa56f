// Schema failures as a client author wants them: every issue of the request at once (query, path
// and body together), each with the field's full path and its rule in plain words.
import type { RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { PushmeshError } from "../core/errors.ts";
import type { EdgeEnv, Issue } from "./request-context.ts";

/** One failing field: `path` as `query.limit`, `path.id`, `body.to.deviceIds.3`. */
export type { Issue } from "./request-context.ts";

/** Where a value came from, as an issue's path starts. */
export type Location = "query" | "path" | "body";

const LOCATION_OF_TARGET: Record<string, Location> = { query: "query", param: "path", json: "body" };

type ZodIssue = z.core.$ZodIssue;
type Key = PropertyKey;

function valueAt(value: unknown, path: readonly Key[]): unknown {
  let here = value;
  for (const key of path) {
    if (here === null || typeof here !== "object") return undefined;
    here = (here as Record<Key, unknown>)[key];
  }
  return here;
}

const joinPath = (location: Location, path: readonly Key[]) => [location, ...path.map(String)].join(".");

/**
 * A union's issue names the rule of the whole union, unless exactly one branch fits the value
 * except for what is wrong inside it (no field of that branch is missing): then that branch's
 * issues, deeper and more useful, are reported. `{"to":{"deviceId":"a b"}}` gets
 * `body.to.deviceId: must be …`; `{"to":{}}` gets `body.to: must hold exactly one of …`.
 */
function unionBranch(issue: z.core.$ZodIssueInvalidUnion, input: unknown, at: readonly Key[]): ZodIssue[] | null {
  const value = valueAt(input, at);
  if (value === null || typeof value !== "object") return null;
  const fitting = issue.errors.filter(
    (branch) =>
      branch.length > 0 &&
      branch.every((i) => i.path.length > 0 || i.code === "unrecognized_keys") &&
      !branch.some((i) => i.code === "invalid_type" && valueAt(value, i.path) === undefined),
  );
  return fitting.length === 1 ? fitting[0]! : null;
}

function describe(issue: ZodIssue, location: Location, input: unknown, base: readonly Key[] = []): Issue[] {
  const at = [...base, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    const words = location === "query" ? "is not a parameter of this route" : "is not a field of this object";
    return issue.keys.map((key) => ({ path: joinPath(location, [...at, key]), message: words }));
  }
  if (location === "query" && at.length === 1 && Array.isArray(valueAt(input, at))) {
    return [{ path: joinPath(location, at), message: "must be given once" }];
  }
  if (issue.code === "invalid_union") {
    const branch = unionBranch(issue, input, at);
    if (branch) return branch.flatMap((inner) => describe(inner, location, input, at));
  }
  return [{ path: joinPath(location, at), message: issue.message }];
}

/** Zod's issues for one location, in plain words, each field once per rule. */
export function describeIssues(issues: readonly ZodIssue[], location: Location, input: unknown): Issue[] {
  const seen = new Set<string>();
  return issues
    .flatMap((issue) => describe(issue, location, input))
    .filter((i) => {
      const key = `${i.path}\n${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** 400 INVALID_REQUEST listing every issue; the message repeats them for a reader of logs. */
export function invalidRequest(issues: Issue[]): PushmeshError {
  return new PushmeshError("INVALID_REQUEST", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { details: issues });
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Every issue of the request against the route's schemas: query, path, and the body when it is JSON. */
async function issuesOfRequest(c: Context, request: RouteConfig["request"]): Promise<Issue[]> {
  const issues: Issue[] = [];
  const check = (schema: unknown, value: unknown, location: Location) => {
    const result = (schema as z.ZodType | undefined)?.safeParse(value);
    if (result && !result.success) issues.push(...describeIssues(result.error.issues, location, value));
  };
  const queries = Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v]);
  check(request?.query, Object.fromEntries(queries), "query");
  check(request?.params, c.req.param(), "path");
  const media = request?.body?.content?.["application/json"];
  if (media && "schema" in media) {
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
    if (JSON_MEDIA_TYPE.test(mediaType)) {
      // Not JSON: the body's own validator answers BAD_JSON once the rest is right.
      const parsed = await c.req.json().then((value: unknown) => ({ value }), () => null);
      if (parsed) check(media.schema, parsed.value, "body");
    } else if (mediaType === "" && request?.body?.required && c.req.raw.body === null) {
      check(media.schema, {}, "body");
    }
  }
  return issues;
}

/**
 * Lets a failing validator report every issue of the request, not only its own part's: the
 * validators run one part at a time and stop at the first failure. The request is checked again
 * only then, so a valid request is parsed once.
 */
export function wholeRequestIssues(request: RouteConfig["request"]): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    c.set("issuesOfRequest", () => issuesOfRequest(c, request));
    await next();
  };
}

type Result = { success: boolean; error?: z.ZodError; target: string; data?: unknown };

/** The hook the schema validators call: a failure becomes INVALID_REQUEST listing every issue. */
export async function validationHook(result: Result, c: Context<EdgeEnv>): Promise<void> {
  if (result.success || !result.error) return;
  const whole = await c.get("issuesOfRequest")?.();
  const own = describeIssues(result.error.issues, LOCATION_OF_TARGET[result.target] ?? "body", result.data);
  throw invalidRequest(whole && whole.length > 0 ? whole : own);
}
