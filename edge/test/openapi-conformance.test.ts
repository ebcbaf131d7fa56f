// The API answers exactly what /openapi.json says. For every route and method the document lists,
// requests derived from the document itself (a valid one, no key, a wrong scope, every value that
// breaks a parameter's or a field's schema, boundary values that must pass, an unknown query
// parameter, bad bodies, methods the path does not take) go to a real mesh; every answer's status
// must be documented for that route, its body must match the documented schema, an error's code
// must be one the response lists, and 429/503 must carry Retry-After.
import { expect, test } from "bun:test";
import { startTestMesh, type TestMesh } from "../../test-support/harness.ts";
import { signWebhook } from "../../core/webhook-signature.ts";
import { HANDOVER_SECRET } from "../routes/handover.ts";
import { check, type Document } from "./json-schema.ts";
import { apply, breakingChanges, type Change, type Operation, operations, passingChanges } from "./openapi-walk.ts";

type Request = { params?: Record<string, string>; query?: Record<string, string>; body?: unknown };
type Fixtures = { messageId: string; now: number; rotatable: string; revocable: string; webhookToDelete: string; webhookToRotate: string; appId: string; handedOver: string };

/** One valid request per route. A route the document lists without one here fails the test. */
function validRequests({ messageId, now, rotatable, revocable, webhookToDelete, webhookToRotate, appId, handedOver }: Fixtures): Record<string, Request> {
  const preferences = {
    timeZone: "Europe/Berlin",
    quietHours: { start: "22:00", end: "07:00", allowHighPriority: true },
    mutedCategories: ["promo"],
    frequencyCaps: [{ category: "news", limit: 3, windowSeconds: 3600 }],
  };
  return {
    "GET /": {},
    "GET /healthz": {},
    "GET /metrics": {},
    "GET /openapi.json": {},
    "POST /v1/devices": { body: { deviceId: "registered", userId: "u", platform: "ios" } },
    "POST /v1/messages": {
      body: { to: { deviceId: "d" }, data: { x: 1 }, priority: "high", ttl: 60, collapseKey: "c", category: "news", idempotencyKey: "k-1", delay: 60 },
    },
    "POST /v1/messages/batch": { body: { messages: [{ to: { deviceIds: ["d"] }, data: 1, ttl: 5 }] } },
    "GET /v1/messages/{id}": { params: { id: messageId }, query: { limit: "5" } },
    "GET /v1/nodes": { query: { region: "local" } },
    "GET /v1/nodes/all": {},
    "GET /v1/nodes/samples": { query: { minutes: "30" } },
    "GET /v1/mesh/messages/{id}": { params: { id: messageId }, query: { limit: "5" } },
    "POST /v1/nodes/{id}/drain": { params: { id: "relay-1" }, body: { draining: false } },
    "PUT /v1/devices/{id}/preferences": { params: { id: "d" }, body: preferences },
    "GET /v1/devices/{id}/preferences": { params: { id: "d" } },
    "DELETE /v1/devices/{id}/preferences": { params: { id: "d" } },
    "PUT /v1/users/{id}/preferences": { params: { id: "u" }, body: preferences },
    "GET /v1/users/{id}/preferences": { params: { id: "u" } },
    "DELETE /v1/users/{id}/preferences": { params: { id: "u" } },
    "GET /v1/stats": { query: { from: new Date(now - 3_600_000).toISOString(), to: String(now) } },
    "POST /v1/topics/{topic}/subscribers": { params: { topic: "news" }, body: { deviceIds: ["d"] } },
    "DELETE /v1/topics/{topic}/subscribers": { params: { topic: "news" }, body: { deviceIds: ["d"] } },
    "GET /v1/topics/{topic}": { params: { topic: "news" } },
    "GET /v1/keys": {},
    "POST /v1/keys": { body: { name: "ci", scopes: ["send", "read"] } },
    "POST /v1/keys/{keyId}/rotate": { params: { keyId: rotatable }, body: { graceSeconds: 60 } },
    "DELETE /v1/keys/{keyId}": { params: { keyId: revocable } },
    "DELETE /v1/devices/{id}": { params: { id: "to-erase" } },
    "POST /v1/devices/{id}/revoke-tokens": { params: { id: "d" } },
    "GET /v1/devices/{id}": { params: { id: "d" } },
    "POST /v1/handover": { body: { items: [{ appId, messageId: handedOver, queuedAt: now, request: { to: { deviceId: "d" }, data: { handedOver: true } } }] } },
    "PUT /v1/devices/{id}/home": { params: { id: "d" }, body: { home: "local" } },
    "POST /v1/handover/device": {
      body: {
        appId, deviceId: "moved-in", to: "local", at: now, topics: ["news"],
        rows: { device: [{ appId, id: "moved-in", epoch: 7, lastSeq: 0, ackedSeq: 0, home: "local", createdAt: now }], messages: [], inbox: [], deferredTargets: [], fallbackJobs: [], preferences: [], channelEndpoints: [] },
      },
    },
    "DELETE /v1/users/{id}": { params: { id: "user-to-erase" } },
    "GET /v1/audit": { query: { limit: "10" } },
    "GET /v1/app/audit": { query: { limit: "10", before: "1000" } },
    "GET /v1/apps": {},
    "GET /v1/apps/stats": { query: { from: String(now - 3_600_000) } },
    "GET /v1/app/cors": {},
    "GET /v1/app/retention": {},
    "GET /v1/app/channels": {},
    "GET /v1/app/webhooks": {},
    "GET /v1/app/fallback": {},
    "PUT /v1/app/fallback": { body: { fallback: { after: 30, channels: ["webpush", "email"] } } },
    "POST /v1/app/webhooks": { body: { url: "https://hooks.example.com/pushmesh", events: ["message.acked", "fallback.sent"] } },
    "DELETE /v1/app/webhooks/{id}": { params: { id: webhookToDelete } },
    "POST /v1/app/webhooks/{id}/rotate-secret": { params: { id: webhookToRotate }, body: { graceSeconds: 60 } },
    "GET /v1/templates": {},
    "GET /v1/templates/{name}": { params: { name: "t" } },
    "PUT /v1/templates/{name}": { params: { name: "t" }, body: { defaultLocale: "en", locales: { en: { push: { title: "Hi {{name}}" } }, "pt-BR": { push: { title: "Oi {{name}}" } } } } },
    "DELETE /v1/templates/{name}": { params: { name: "to-delete" } },
    "POST /v1/templates/{name}/render": { params: { name: "t" }, body: { vars: { name: "Ana" }, locale: "pt-BR" } },
    "PUT /v1/app/channels/{kind}": { params: { kind: "email" }, body: { url: "smtp://mailer:pw@127.0.0.1:2525", from: "alerts@example.com" } },
    "DELETE /v1/app/channels/{kind}": { params: { kind: "email" } },
    "POST /v1/app/channels/webpush/vapid-keys": { body: { subject: "mailto:ops@example.com" } },
    "PUT /v1/devices/{id}/channels": { params: { id: "d" }, body: { endpoints: [{ kind: "email", address: "d@example.com" }] } },
    "GET /v1/devices/{id}/channels": { params: { id: "d" } },
    "PUT /v1/users/{id}/channels": { params: { id: "u" }, body: { endpoints: [{ kind: "fcm", token: "fcm-token-1" }] } },
    "GET /v1/users/{id}/channels": { params: { id: "u" } },
    "PUT /v1/app/retention": { body: { settledSeconds: 86_400, topicSeconds: null, topicMaxEntries: 500 } },
    "PUT /v1/app/cors": { body: { origins: ["https://app.example.com", "http://localhost:5173"] } },
    "GET /sdk/browser.js": {},
    "GET /demo": {},
    "GET /dashboard": {},
    "GET /dashboard/assets/{name}": { params: { name: "uPlot.min.css" } },
    "POST /v1/apps": { body: { name: "another app" } },
  };
}

type Answer = { status: number; headers: Headers; text: string };
type Call = { method: string; request: Request; key?: string | null; contentType?: string; rawBody?: string; signWith?: string };

function url(edge: string, template: string, request: Request): string {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(request.params?.[name] ?? ""));
  const query = new URLSearchParams(request.query ?? {}).toString();
  return `${edge}${path}${query ? `?${query}` : ""}`;
}

async function send(mesh: TestMesh, template: string, call: Call): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (call.key !== null) headers.authorization = `Bearer ${call.key ?? mesh.apiKey}`;
  const body = call.rawBody ?? (call.request.body === undefined ? undefined : JSON.stringify(call.request.body));
  if (body !== undefined) headers["content-type"] = call.contentType ?? "application/json";
  if (call.signWith !== undefined) headers["pushmesh-handover"] = await signWebhook(body ?? "", [call.signWith], Date.now());
  const res = await fetch(url(mesh.edge, template, call.request), { method: call.method, headers, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Zod's own wording, which a client author should never see. */
const ZOD_WORDING = /^(Invalid|Too (big|small)|Unrecognized)|received|expected/;

class Findings {
  readonly problems: string[] = [];
  add(label: string, problem: string) {
    this.problems.push(`${label}: ${problem}`);
  }

  /** The answer is one the response entry documents: body schema, error code, Retry-After. */
  documented(doc: Document, label: string, response: Operation["responses"][string] | undefined, answer: Answer, method: string) {
    if (!response) return this.add(label, `status ${answer.status} is not documented (${answer.text.slice(0, 200)})`);
    // A text answer (a page, a script) is checked for its documented media type, not parsed.
    const type = (answer.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (type !== "application/json" && response.content?.[type] !== undefined) return;
    const schema = response.content?.["application/json"]?.schema;
    const text = response.content?.["text/plain"] !== undefined;
    if (method !== "HEAD" && method !== "TRACE" && !(text && answer.headers.get("content-type")?.startsWith("text/plain"))) {
      if (!schema) {
        if (answer.text !== "") this.add(label, `${answer.status} documents no body but got ${answer.text.slice(0, 100)}`);
      } else {
        let body: any;
        try {
          body = JSON.parse(answer.text);
        } catch {
          return this.add(label, `${answer.status} body is not JSON: ${answer.text.slice(0, 100)}`);
        }
        for (const error of check(doc, schema, body)) this.add(label, `${answer.status} body ${error}`);
        const codes = response["x-error-codes"];
        if (codes && !codes.includes(body?.error?.code)) this.add(label, `code ${body?.error?.code} is not in x-error-codes ${codes}`);
      }
    }
    if (answer.status === 429 || answer.status === 503) {
      if (!answer.headers.get("retry-after")) this.add(label, `${answer.status} without Retry-After`);
      if (!response.headers?.["Retry-After"]) this.add(label, `${answer.status} documents no Retry-After`);
    }
  }

  /** A 400 INVALID_REQUEST whose details name `path` (or a field inside it) in plain words. */
  names(label: string, answer: Answer, path: string) {
    if (answer.status !== 400) return this.add(label, `expected 400 naming ${path}, got ${answer.status} ${answer.text.slice(0, 200)}`);
    const error = JSON.parse(answer.text).error;
    const details: { path: string; message: string }[] = Array.isArray(error.details) ? error.details : [];
    if (error.code !== "INVALID_REQUEST") this.add(label, `expected INVALID_REQUEST, got ${error.code}`);
    if (!details.some((d) => d.path === path || d.path.startsWith(`${path}.`))) {
      this.add(label, `details do not name ${path}: ${JSON.stringify(error)}`);
    }
    for (const d of details) if (ZOD_WORDING.test(d.message)) this.add(label, `${d.path}: "${d.message}" is not plain words`);
  }

  expectStatus(label: string, answer: Answer, status: number, code?: string) {
    if (answer.status !== status) return this.add(label, `expected ${status}, got ${answer.status} ${answer.text.slice(0, 200)}`);
    if (code && JSON.parse(answer.text).error?.code !== code) this.add(label, `expected ${code}, got ${answer.text.slice(0, 200)}`);
  }
}

async function documentOf(mesh: TestMesh): Promise<Document> {
  return (await (await fetch(`${mesh.edge}/openapi.json`)).json()) as Document;
}

async function prepare(mesh: TestMesh): Promise<Fixtures> {
  await mesh.api("POST", "/v1/devices", { deviceId: "d", userId: "u" });
  await mesh.api("POST", "/v1/topics/news/subscribers", { deviceIds: ["d"] });
  await mesh.api("POST", "/v1/devices", { deviceId: "to-erase" });
  await mesh.api("POST", "/v1/devices", { deviceId: "erased-with-user", userId: "user-to-erase" });
  const { messageId } = await mesh.send("d", { first: true });
  const hook = async () => (await mesh.api("POST", "/v1/app/webhooks", { url: "https://hooks.example.com/x", events: ["message.acked"] })).body.id as string;
  const webhookToDelete = await hook();
  const webhookToRotate = await hook();
  for (const name of ["t", "to-delete"]) await mesh.store.putTemplate(mesh.appId, { name, defaultLocale: "en", locales: { en: { push: { title: "Hi {{name}}" } } } });
  // Keys the valid requests rotate and revoke; each such request is made once per check, so each check gets fresh ones.
  const rotatable = (await mesh.store.createApiKey(mesh.appId, "to rotate", ["send"])).keyId;
  const revocable = (await mesh.store.createApiKey(mesh.appId, "to revoke", ["send"])).keyId;
  return { messageId, now: Date.now(), rotatable, revocable, webhookToDelete, webhookToRotate, appId: mesh.appId, handedOver: crypto.randomUUID() };
}

const paramPath = (p: { in: string; name: string }) => `${p.in}.${p.name}`;

test("every route answers only what /openapi.json documents, with the documented bodies", async () => {
  // Small limits make a too-large body and a too-long list cheap to send.
  await using mesh = await startTestMesh({ maxPayloadBytes: 1024, maxBatchMessages: 3, maxTargetsPerSend: 5 });
  const doc = await documentOf(mesh);
  const valid = validRequests(await prepare(mesh));
  const handoverSecret = await mesh.store.meshSecret(HANDOVER_SECRET);
  const found = new Findings();
  const scopes = ["send", "read", "admin"] as const;
  const lacking = Object.fromEntries(
    await Promise.all(scopes.map(async (s) => [s, (await mesh.store.createApiKey(mesh.appId, `no-${s}`, scopes.filter((o) => o !== s))).key])),
  );

  for (const op of operations(doc)) {
    const name = `${op.method} ${op.path}`;
    const request = valid[name];
    if (!request) {
      found.add(name, "no valid request in this test: add one");
      continue;
    }
    const run = async (label: string, call: Omit<Call, "method">) => {
      const key = call.key === undefined && op.operator ? mesh.operatorKey : op.edge && call.key === undefined ? null : call.key;
      const signWith = op.edge && !("signWith" in call) ? handoverSecret : call.signWith;
      const answer = await send(mesh, op.path, { method: op.method, ...call, key, signWith });
      found.documented(doc, `${name} ${label}`, op.responses[String(answer.status)], answer, op.method);
      return answer;
    };

    const ok = await run("valid", { request });
    if (ok.status >= 300) found.add(`${name} valid`, `got ${ok.status} ${ok.text.slice(0, 200)}`);

    if (op.scope) {
      found.expectStatus(`${name} without a key`, await run("without a key", { request, key: null }), 401, "UNAUTHORIZED");
      found.expectStatus(`${name} unknown key`, await run("unknown key", { request, key: "pm_unknown" }), 401, "UNAUTHORIZED");
      found.expectStatus(`${name} lacking ${op.scope}`, await run(`lacking ${op.scope}`, { request, key: lacking[op.scope] }), 403, "FORBIDDEN");
    }
    if (op.edge) {
      found.expectStatus(`${name} unsigned`, await run("unsigned", { request, signWith: undefined }), 401, "UNAUTHORIZED");
      found.expectStatus(`${name} signed with another secret`, await run("another secret", { request, signWith: "not-the-mesh-secret" }), 401, "UNAUTHORIZED");
      found.expectStatus(`${name} an app's key instead`, await run("an app's key", { request, key: mesh.apiKey, signWith: undefined }), 401, "UNAUTHORIZED");
    }
    if (op.operator) {
      found.expectStatus(`${name} without a key`, await run("without a key", { request, key: null }), 401, "UNAUTHORIZED");
      found.expectStatus(`${name} unknown operator key`, await run("unknown key", { request, key: "po_unknown-operator-key" }), 401, "UNAUTHORIZED");
      found.expectStatus(`${name} an app's admin key`, await run("an app's admin key", { request, key: mesh.apiKey }), 403, "OPERATOR_REQUIRED");
    }

    const unknown = await run("unknown query parameter", { request: { ...request, query: { ...request.query, zzUnknown: "1" } } });
    found.names(`${name} unknown query parameter`, unknown, "query.zzUnknown");

    for (const param of op.parameters) {
      const where = param.in === "path" ? "params" : "query";
      const current = request[where]?.[param.name];
      const breaking = breakingChanges(doc, param.schema, current, [], true).filter((c) => !(param.in === "path" && c.value === ""));
      for (const change of breaking) {
        const changed = { ...request, [where]: { ...request[where], [param.name]: String(change.value) } };
        const label = `${paramPath(param)} ${change.why}`;
        found.names(`${name} ${label}`, await run(label, { request: changed }), paramPath(param));
      }
      if (current === undefined) continue;
      for (const change of passingChanges(doc, param.schema, current, [], true)) {
        const changed = { ...request, [where]: { ...request[where], [param.name]: String(change.value) } };
        const label = `${paramPath(param)} = ${change.why}`;
        const answer = await run(label, { request: changed });
        if (answer.status === 400) found.add(`${name} ${label}`, `refused a documented value: ${answer.text.slice(0, 200)}`);
      }
    }

    if (op.body) {
      const fieldPath = (change: Change) => ["body", ...change.at].join(".");
      for (const change of breakingChanges(doc, op.body.schema, request.body)) {
        const label = `${fieldPath(change)} ${change.why}`;
        const answer = await run(label, { request: { ...request, body: apply(request.body, change) } });
        found.names(`${name} ${label}`, answer, ["body", ...change.names].join("."));
      }
      for (const change of passingChanges(doc, op.body.schema, request.body)) {
        const label = `${fieldPath(change)} = ${change.why}`;
        const answer = await run(label, { request: { ...request, body: apply(request.body, change) } });
        if (answer.status === 400) found.add(`${name} ${label}`, `refused a documented value: ${answer.text.slice(0, 200)}`);
      }
      found.expectStatus(`${name} malformed JSON`, await run("malformed JSON", { request, rawBody: "{" }), 400, "BAD_JSON");
      found.expectStatus(`${name} text body`, await run("text body", { request, rawBody: "hello", contentType: "text/plain" }), 415);
      const huge = JSON.stringify("x".repeat(250_000));
      found.expectStatus(`${name} huge body`, await run("huge body", { request, rawBody: huge }), 413, "PAYLOAD_TOO_LARGE");
    }
  }

  // Methods a path does not take, and a path no route has: the document's shared answers. A
  // concrete path may fit several templates (/v1/messages/batch is also /v1/messages/{id}).
  const shared = (doc as any).components?.responses ?? {};
  const all = operations(doc);
  const fits = (template: string, path: string) => new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`).test(path);
  for (const template of new Set(all.map((o) => o.path))) {
    const request = valid[`${all.find((o) => o.path === template)!.method} ${template}`] ?? {};
    const path = url("", template, { params: request.params });
    const declared = new Set(all.filter((o) => fits(o.path, path)).map((o) => o.method));
    if (declared.has("GET")) declared.add("HEAD");
    for (const method of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"].filter((m) => !declared.has(m))) {
      const label = `${method} ${path}`;
      const answer = await send(mesh, template, { method, request: { params: request.params } });
      found.expectStatus(label, answer, 405);
      found.documented(doc, label, shared.MethodNotAllowed, answer, method);
      const allow = new Set((answer.headers.get("allow") ?? "").split(",").map((m) => m.trim()));
      if ([...declared].some((m) => !allow.has(m)) || allow.size !== declared.size) found.add(label, `Allow is ${answer.headers.get("allow")}`);
    }
  }
  const nowhere = await send(mesh, "/v1/nowhere", { method: "GET", request: {} });
  found.expectStatus("GET /v1/nowhere", nowhere, 404, "NOT_FOUND");
  found.documented(doc, "GET /v1/nowhere", shared.NotFound, nowhere, "GET");

  expect(found.problems).toEqual([]);
});

test("past the rate limit every route with a key answers its documented 429 with Retry-After", async () => {
  await using mesh = await startTestMesh({ rateLimitRequests: 1, rateLimitWindowSeconds: 86_400 });
  const doc = await documentOf(mesh);
  const valid = validRequests({ messageId: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", now: Date.now(), rotatable: "key_x", revocable: "key_y", webhookToDelete: "wh_x", webhookToRotate: "wh_y", appId: "app_x", handedOver: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c" });
  const found = new Findings();
  await send(mesh, "/v1/stats", { method: "GET", request: {} });
  for (const op of operations(doc)) {
    const label = `${op.method} ${op.path} over the rate limit`;
    const answer = await send(mesh, op.path, { method: op.method, request: valid[`${op.method} ${op.path}`] ?? {} });
    found.documented(doc, label, op.responses[String(answer.status)], answer, op.method);
    if (op.path.startsWith("/v1/")) found.expectStatus(label, answer, 429, "RATE_LIMITED");
  }
  expect(found.problems).toEqual([]);
});

test("when the home edge is down every write answers its documented 503 with Retry-After", async () => {
  await using mesh = await startTestMesh({ forwardWritesTo: "http://127.0.0.1:9" });
  const doc = await documentOf(mesh);
  const valid = validRequests({ messageId: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", now: Date.now(), rotatable: "key_x", revocable: "key_y", webhookToDelete: "wh_x", webhookToRotate: "wh_y", appId: "app_x", handedOver: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c" });
  const found = new Findings();
  for (const op of operations(doc).filter((o) => o.method !== "GET" && o.path.startsWith("/v1/"))) {
    const label = `${op.method} ${op.path} while forwarding fails`;
    const answer = await send(mesh, op.path, { method: op.method, request: valid[`${op.method} ${op.path}`] ?? {} });
    found.documented(doc, label, op.responses[String(answer.status)], answer, op.method);
    found.expectStatus(label, answer, 503, "FORWARD_FAILED");
  }
  expect(found.problems).toEqual([]);
});
