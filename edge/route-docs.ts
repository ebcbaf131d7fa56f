// Every route is declared through apiRoute: it adds, from what the route takes, each error it can
// answer (grouped by status, each code named in x-error-codes and in the description, with the
// Error schema and Retry-After where one is sent), the key's scope as the security requirement,
// a query that refuses unknown parameters, and the validation that reports all issues at once.
import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import { ApiError, type ApiErrorCode } from "../core/errors.ts";
import type { Scope } from "../core/store.ts";
import { query } from "./fields.ts";
import { ErrorSchema } from "./schemas.ts";
import { wholeRequestIssues } from "./validation.ts";

const RETRY_AFTER = {
  "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" as const, minimum: 1 } },
};

/** Error responses for these codes: one per status, naming its codes. */
export function errorResponses(codes: Iterable<ApiErrorCode>): Record<number, RouteConfig["responses"][string]> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = ApiError[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, RouteConfig["responses"][string]> = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const listed = byStatus.get(status)!;
    responses[status] = {
      description: listed.map((code) => `${code}: ${ApiError[code].reason}`).join(". "),
      "x-error-codes": listed,
      ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
      content: { "application/json": { schema: ErrorSchema } },
    } as RouteConfig["responses"][string];
  }
  return responses;
}

type RouteExtras = {
  /** The API key scope the route needs; none: the route needs no key. */
  scope?: Scope;
  /** A fleet route: it takes the operator credential, never an app's key. */
  operator?: true;
  /** Between edges only: the request is signed with the mesh's hand-over secret (Pushmesh-Handover). */
  edge?: true;
  /** Codes the route's own logic answers, beyond those its shape implies. */
  errors?: readonly ApiErrorCode[];
};

/** The codes a route's shape implies; `errors` adds what its own logic answers. */
function impliedCodes(route: RouteConfig, scope: Scope | undefined, operator: boolean, edge: boolean): ApiErrorCode[] {
  const codes: ApiErrorCode[] = ["INVALID_REQUEST", "INTERNAL"];
  if (edge) codes.push("UNAUTHORIZED");
  if (route.request?.body) codes.push("BAD_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE");
  if (scope) codes.push("UNAUTHORIZED", "FORBIDDEN");
  if (operator) codes.push("UNAUTHORIZED", "OPERATOR_REQUIRED", "OPERATOR_TRANSPORT");
  if (route.path.startsWith("/v1/")) {
    // Every /v1 request that carries a valid key counts against its app's rate, even on a route
    // that needs none; every write may be forwarded to the edge beside the primary, and with a
    // store per region whatever concerns one device goes to the edge of its home.
    codes.push("RATE_LIMITED");
    if (route.method !== "get" || route.path.startsWith("/v1/devices/{id}")) codes.push("FORWARD_FAILED");
  }
  return codes;
}

export function apiRoute<const R extends RouteConfig>(definition: R & RouteExtras): R {
  const { scope, operator = false, edge = false, errors = [], ...route } = definition;
  const request = { ...route.request, query: route.request?.query ?? query() };
  const full = { ...route, request } as unknown as RouteConfig;
  return createRoute({
    ...full,
    ...(scope ? { security: [{ apiKey: [scope] }] } : operator ? { security: [{ operatorKey: [] }] } : edge ? { security: [{ edgeHandover: [] }] } : {}),
    middleware: [wholeRequestIssues(request)],
    responses: { ...route.responses, ...errorResponses([...impliedCodes(full, scope, operator, edge), ...errors]) },
  }) as unknown as R;
}

/** Answers of every path rather than of one route: named in components.responses. */
export function sharedResponses() {
  const error = (code: ApiErrorCode) => ({
    description: `${code}: ${ApiError[code].reason}`,
    "x-error-codes": [code],
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  });
  return {
    NotFound: error("NOT_FOUND"),
    MethodNotAllowed: {
      ...error("METHOD_NOT_ALLOWED"),
      headers: { Allow: { description: "The methods the path takes (HEAD wherever GET)", schema: { type: "string" as const } } },
    },
  };
}
