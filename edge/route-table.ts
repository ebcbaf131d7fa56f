// Which methods each documented path takes, read from the routes' own declarations: a known path
// asked with another method answers 405 with Allow, an unknown path 404, both before anything
// else runs (no forwarding, no rate count, no body read).
import type { OpenAPIHono } from "@hono/zod-openapi";

const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

type Entry = { pattern: RegExp; method: string; takesBody: boolean };

export type RouteTable = {
  /** The methods `path` takes, HEAD wherever GET; empty for an unknown path. */
  allowed(path: string): string[];
  /** Whether the route serving this method and path declares a request body. */
  takesBody(method: string, path: string): boolean;
};

export function routeTable(registry: OpenAPIHono["openAPIRegistry"]): RouteTable {
  let entries: Entry[] | null = null;
  // Read at the first request: every route is registered by then.
  const all = () =>
    (entries ??= registry.definitions.flatMap((d) =>
      d.type === "route"
        ? [
            {
              pattern: new RegExp(`^${d.route.path.replace(/[.]/g, "\\.").replace(/\{[^/}]+\}/g, "[^/]+")}$`),
              method: d.route.method.toUpperCase(),
              takesBody: d.route.request?.body !== undefined,
            },
          ]
        : [],
    ));
  return {
    allowed(path) {
      const methods = new Set(all().filter((e) => e.pattern.test(path)).map((e) => e.method));
      if (methods.has("GET")) methods.add("HEAD");
      return METHOD_ORDER.filter((m) => methods.has(m));
    },
    takesBody(method, path) {
      return all().some((e) => e.method === method && e.takesBody && e.pattern.test(path));
    },
  };
}
