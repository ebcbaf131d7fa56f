// Apps are isolated on every route: app B, naming app A's devices, users, messages, topics and keys,
// reads none of A's data and changes none of it, and no app key reaches the fleet routes. The
// cases are keyed by /openapi.json's operations: a route added without a case fails this test.
import { expect, test } from "bun:test";
import { startTestMesh, type TestMesh } from "../../test-support/harness.ts";
import { operations } from "./openapi-walk.ts";

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
type World = { b: Api; a: Api; aMessage: string; aKeyId: string; aWebhook: string };
type Case = (w: World) => Promise<void>;

const prefs = { timeZone: "UTC", quietHours: null, mutedCategories: ["a-muted"], frequencyCaps: [] };

/** What must hold of A's data after B's request: B got nothing of A's, and A's is as it was. */
const aIsIntact = async ({ a }: World) => {
  expect((await a("GET", "/v1/devices/a-dev/preferences")).body.mutedCategories).toEqual(["a-muted"]);
  expect((await a("GET", "/v1/users/a-user/preferences")).body.mutedCategories).toEqual(["a-muted"]);
  expect((await a("GET", "/v1/topics/a-topic")).body).toMatchObject({ offset: 1, subscribers: 1 });
  expect((await a("GET", "/v1/keys")).status).toBe(200);
  expect((await a("GET", "/v1/app/cors")).body.origins).toEqual(["https://a.example"]);
  expect((await a("GET", "/v1/devices/a-dev/channels")).body.endpoints).toEqual([{ kind: "email", address: "a-dev@a.example" }]);
  expect((await a("GET", "/v1/users/a-user/channels")).body.endpoints).toEqual([{ kind: "email", address: "a-user@a.example" }]);
  expect((await a("GET", "/v1/app/channels")).body.channels.map((c: { kind: string }) => c.kind)).toEqual(["email"]);
  expect((await a("GET", "/v1/templates/a-tpl")).body.locales.en.push.title).toBe("A's {{x}}");
  expect((await a("GET", "/v1/app/webhooks")).body.webhooks).toMatchObject([{ url: "https://a.example/hooks", rotatingUntil: null }]);
};

const noAppData: Case = async () => {};
const notForApps: Case = async () => {
  throw new Error("an operator route: checked by key above");
};

const CASES: Record<string, Case> = {
  "GET /": noAppData,
  "GET /healthz": noAppData,
  "GET /metrics": noAppData,
  "GET /openapi.json": noAppData,
  "GET /v1/nodes": noAppData,
  "GET /sdk/browser.js": noAppData,
  "GET /demo": noAppData,
  "GET /dashboard": noAppData,
  "GET /dashboard/assets/{name}": noAppData,
  "GET /v1/app/cors": async (w) => {
    expect((await w.b("GET", "/v1/app/cors")).body.origins).toEqual([]);
  },
  "GET /v1/app/retention": async (w) => {
    expect((await w.b("GET", "/v1/app/retention")).body.own.settledSeconds).toBeNull();
  },
  "PUT /v1/app/retention": async (w) => {
    expect((await w.b("PUT", "/v1/app/retention", { settledSeconds: 60, topicSeconds: null, topicMaxEntries: null })).status).toBe(200);
    expect((await w.a("GET", "/v1/app/retention")).body.own.settledSeconds).toBeNull();
  },
  "PUT /v1/devices/{id}/channels": async (w) => {
    expect((await w.b("PUT", "/v1/devices/a-only/channels", { endpoints: [] })).body.error.code).toBe("DEVICE_NOT_FOUND");
  },
  "GET /v1/devices/{id}/channels": async (w) => {
    expect((await w.b("GET", "/v1/devices/a-dev/channels")).body.endpoints).toEqual([]);
  },
  "PUT /v1/users/{id}/channels": async (w) => {
    expect((await w.b("PUT", "/v1/users/a-user/channels", { endpoints: [{ kind: "fcm", token: "b" }] })).status).toBe(200);
  },
  "GET /v1/users/{id}/channels": async (w) => {
    expect((await w.b("GET", "/v1/users/a-user/channels")).body.endpoints).not.toContainEqual({ kind: "email", address: "a-user@a.example" });
  },
  "GET /v1/app/channels": async (w) => {
    expect((await w.b("GET", "/v1/app/channels")).body.channels).toEqual([]);
  },
  "PUT /v1/app/channels/{kind}": async (w) => {
    expect((await w.b("PUT", "/v1/app/channels/email", { url: "smtp://127.0.0.1:2526", from: "b@b.example" })).status).toBe(200);
  },
  "DELETE /v1/app/channels/{kind}": async (w) => {
    await w.b("DELETE", "/v1/app/channels/email");
    expect((await w.b("DELETE", "/v1/app/channels/email")).body.error.code).toBe("CHANNEL_NOT_CONFIGURED");
  },
  "POST /v1/app/channels/webpush/vapid-keys": async (w) => {
    expect((await w.b("POST", "/v1/app/channels/webpush/vapid-keys", { subject: "mailto:b@b.example" })).status).toBe(201);
  },
  "GET /v1/app/fallback": async (w) => {
    expect((await w.b("GET", "/v1/app/fallback")).body.fallback).toBeNull();
  },
  "PUT /v1/app/fallback": async (w) => {
    expect((await w.b("PUT", "/v1/app/fallback", { fallback: { after: 5, channels: ["fcm"] } })).status).toBe(200);
    expect((await w.a("GET", "/v1/app/fallback")).body.fallback).toBeNull();
  },
  "GET /v1/app/webhooks": async (w) => {
    expect((await w.b("GET", "/v1/app/webhooks")).body.webhooks).toEqual([]);
  },
  "POST /v1/app/webhooks": async (w) => {
    expect((await w.b("POST", "/v1/app/webhooks", { url: "https://b.example/hooks", events: ["message.acked"] })).status).toBe(201);
  },
  "DELETE /v1/app/webhooks/{id}": async (w) => {
    expect((await w.b("DELETE", `/v1/app/webhooks/${w.aWebhook}`)).body.error.code).toBe("WEBHOOK_NOT_FOUND");
  },
  "POST /v1/app/webhooks/{id}/rotate-secret": async (w) => {
    expect((await w.b("POST", `/v1/app/webhooks/${w.aWebhook}/rotate-secret`, {})).body.error.code).toBe("WEBHOOK_NOT_FOUND");
  },
  "GET /v1/templates": async (w) => {
    expect((await w.b("GET", "/v1/templates")).body.templates).toEqual([]);
  },
  "GET /v1/templates/{name}": async (w) => {
    expect((await w.b("GET", "/v1/templates/a-tpl")).body.error.code).toBe("TEMPLATE_NOT_FOUND");
  },
  "PUT /v1/templates/{name}": async (w) => {
    expect((await w.b("PUT", "/v1/templates/a-tpl", { defaultLocale: "en", locales: { en: { push: { title: "B's" } } } })).status).toBe(200);
  },
  "DELETE /v1/templates/{name}": async (w) => {
    await w.b("DELETE", "/v1/templates/a-tpl");
    expect((await w.b("DELETE", "/v1/templates/a-tpl")).body.error.code).toBe("TEMPLATE_NOT_FOUND");
  },
  "POST /v1/templates/{name}/render": async (w) => {
    expect((await w.b("POST", "/v1/templates/a-tpl/render", { vars: { x: 1 } })).body.error.code).toBe("TEMPLATE_NOT_FOUND");
  },
  "PUT /v1/app/cors": async (w) => {
    expect((await w.b("PUT", "/v1/app/cors", { origins: ["https://b.example"] })).status).toBe(200);
    expect((await w.a("GET", "/v1/app/cors")).body.origins).toEqual(["https://a.example"]);
  },
  "GET /v1/nodes/all": notForApps,
  "GET /v1/nodes/samples": notForApps,
  "GET /v1/mesh/messages/{id}": notForApps,
  "POST /v1/nodes/{id}/drain": notForApps,
  "GET /v1/apps": notForApps,
  "GET /v1/apps/stats": notForApps,
  "GET /v1/audit": notForApps,
  "POST /v1/apps": notForApps,
  "POST /v1/devices": async (w) => {
    // B's device of the same name is B's own: A's keeps its user and epoch.
    const before = (await w.a("POST", "/v1/devices", { deviceId: "a-dev" })).body.epoch;
    expect((await w.b("POST", "/v1/devices", { deviceId: "a-dev", userId: "b-user" })).status).toBe(201);
    expect((await w.a("POST", "/v1/devices", { deviceId: "a-dev" })).body.epoch).toBe(before);
  },
  "POST /v1/messages": async (w) => {
    expect((await w.b("POST", "/v1/messages", { to: { deviceId: "a-only" }, data: 1 })).body.error.code).toBe("DEVICE_NOT_FOUND");
    expect((await w.b("POST", "/v1/messages", { to: { userId: "a-user" }, data: 1 })).body.error.code).toBe("USER_NOT_FOUND");
    const topic = await w.b("POST", "/v1/messages", { to: { topic: "a-topic" }, data: 1 });
    expect(topic.body).toMatchObject({ offset: 1, targets: 0 });
  },
  "POST /v1/messages/batch": async (w) => {
    const answer = await w.b("POST", "/v1/messages/batch", { messages: [{ to: { deviceId: "a-only" }, data: 1 }] });
    expect(answer.body.results[0]).toMatchObject({ status: 404, error: { code: "DEVICE_NOT_FOUND" } });
  },
  "GET /v1/messages/{id}": async (w) => {
    expect((await w.b("GET", `/v1/messages/${w.aMessage}`)).body.error.code).toBe("MESSAGE_NOT_FOUND");
  },
  "PUT /v1/devices/{id}/preferences": async (w) => {
    expect((await w.b("PUT", "/v1/devices/a-only/preferences", prefs)).body.error.code).toBe("DEVICE_NOT_FOUND");
  },
  "GET /v1/devices/{id}/preferences": async (w) => {
    expect((await w.b("GET", "/v1/devices/a-dev/preferences")).body.error.code).toBe("PREFERENCES_NOT_FOUND");
  },
  "DELETE /v1/devices/{id}/preferences": async (w) => {
    expect((await w.b("DELETE", "/v1/devices/a-dev/preferences")).status).toBe(204);
  },
  "PUT /v1/users/{id}/preferences": async (w) => {
    expect((await w.b("PUT", "/v1/users/a-user/preferences", { ...prefs, mutedCategories: ["b-muted"] })).status).toBe(200);
  },
  "GET /v1/users/{id}/preferences": async (w) => {
    await w.b("DELETE", "/v1/users/a-user/preferences");
    expect((await w.b("GET", "/v1/users/a-user/preferences")).body.error.code).toBe("PREFERENCES_NOT_FOUND");
  },
  "DELETE /v1/users/{id}/preferences": async (w) => {
    expect((await w.b("DELETE", "/v1/users/a-user/preferences")).status).toBe(204);
  },
  "GET /v1/stats": async (w) => {
    // B sent one topic message of its own (above); none of A's counts.
    const stats = (await w.b("GET", "/v1/stats")).body;
    expect([stats.messages, stats.targets, stats.sent]).toEqual([1, 0, 0]);
  },
  "POST /v1/topics/{topic}/subscribers": async (w) => {
    expect((await w.b("POST", "/v1/topics/a-topic/subscribers", { deviceIds: ["a-only"] })).body.error.code).toBe("DEVICE_NOT_FOUND");
  },
  "DELETE /v1/topics/{topic}/subscribers": async (w) => {
    expect((await w.b("DELETE", "/v1/topics/a-topic/subscribers", { deviceIds: ["a-dev"] })).status).toBe(200);
  },
  "GET /v1/topics/{topic}": async (w) => {
    expect((await w.b("GET", "/v1/topics/a-topic")).body.subscribers).toBe(0);
  },
  "DELETE /v1/devices/{id}": async (w) => {
    expect((await w.b("DELETE", "/v1/devices/a-only")).body.error.code).toBe("DEVICE_NOT_FOUND");
    expect((await w.a("POST", "/v1/messages", { to: { deviceId: "a-only" }, data: 1 })).status).toBe(202);
  },
  "GET /v1/devices/{id}": async (w) => {
    expect((await w.b("GET", "/v1/devices/a-only")).body.error.code).toBe("DEVICE_NOT_FOUND");
    expect((await w.a("GET", "/v1/devices/a-only")).body.deviceId).toBe("a-only");
  },
  "PUT /v1/devices/{id}/home": async (w) => {
    const region = (await w.a("GET", "/v1/devices/a-only")).body.home;
    expect((await w.b("PUT", "/v1/devices/a-only/home", { home: region })).body.error.code).toBe("DEVICE_NOT_FOUND");
    expect((await w.a("GET", "/v1/devices/a-only")).body.home).toBe(region);
  },
  "POST /v1/handover/device": async (w) => {
    expect((await w.b("POST", "/v1/handover/device", { appId: "x" })).status).toBe(401);
  },
  "POST /v1/handover": async (w) => {
    // Not an app's route at all: B's key opens nothing here (edges sign it with the mesh's secret).
    expect((await w.b("POST", "/v1/handover", { items: [] })).status).toBe(401);
  },
  "POST /v1/devices/{id}/revoke-tokens": async (w) => {
    expect((await w.b("POST", "/v1/devices/a-only/revoke-tokens")).body.error.code).toBe("DEVICE_NOT_FOUND");
  },
  "DELETE /v1/users/{id}": async (w) => {
    expect((await w.b("DELETE", "/v1/users/a-user")).body.error.code).toBe("USER_NOT_FOUND");
    expect((await w.a("POST", "/v1/messages", { to: { userId: "a-user" }, data: 1 })).status).toBe(202);
  },
  "GET /v1/app/audit": async (w) => {
    // B's own entries only: none of them names A's key, which A made (key.created).
    const entries = (await w.b("GET", "/v1/app/audit")).body.entries as { target: string }[];
    expect(entries.map((e) => e.target)).not.toContain(w.aKeyId);
    expect((await w.a("GET", "/v1/app/audit")).body.entries.map((e: { target: string }) => e.target)).toContain(w.aKeyId);
  },
  "GET /v1/keys": async (w) => {
    expect((await w.b("GET", "/v1/keys")).body.keys.map((k: { keyId: string }) => k.keyId)).not.toContain(w.aKeyId);
  },
  "POST /v1/keys": async (w) => {
    const before = (await w.a("GET", "/v1/keys")).body.keys.length;
    expect((await w.b("POST", "/v1/keys", { name: "b's" })).status).toBe(201);
    expect((await w.a("GET", "/v1/keys")).body.keys).toHaveLength(before);
  },
  "POST /v1/keys/{keyId}/rotate": async (w) => {
    expect((await w.b("POST", `/v1/keys/${w.aKeyId}/rotate`, {})).body.error.code).toBe("KEY_NOT_FOUND");
  },
  "DELETE /v1/keys/{keyId}": async (w) => {
    expect((await w.b("DELETE", `/v1/keys/${w.aKeyId}`)).body.error.code).toBe("KEY_NOT_FOUND");
  },
};

async function twoApps(mesh: TestMesh): Promise<World> {
  const other = await mesh.api("POST", "/v1/apps", { name: "b" }, mesh.operatorKey);
  const a: Api = (method, path, body) => mesh.api(method, path, body);
  const b: Api = (method, path, body) => mesh.api(method, path, body, other.body.apiKey);
  for (const deviceId of ["a-dev", "a-only"]) await a("POST", "/v1/devices", { deviceId, userId: "a-user" });
  await a("PUT", "/v1/devices/a-dev/preferences", prefs);
  await a("PUT", "/v1/users/a-user/preferences", prefs);
  await a("POST", "/v1/topics/a-topic/subscribers", { deviceIds: ["a-dev"] });
  await a("POST", "/v1/messages", { to: { topic: "a-topic" }, data: "a's" });
  const aMessage = (await a("POST", "/v1/messages", { to: { deviceId: "a-dev" }, data: "a's" })).body.messageId as string;
  const aKeyId = (await a("POST", "/v1/keys", { name: "a's", scopes: ["read"] })).body.keyId as string;
  await a("PUT", "/v1/app/cors", { origins: ["https://a.example"] });
  await a("PUT", "/v1/devices/a-dev/channels", { endpoints: [{ kind: "email", address: "a-dev@a.example" }] });
  await a("PUT", "/v1/users/a-user/channels", { endpoints: [{ kind: "email", address: "a-user@a.example" }] });
  await a("PUT", "/v1/app/channels/email", { url: "smtp://127.0.0.1:2525", from: "a@a.example" });
  const aWebhook = (await a("POST", "/v1/app/webhooks", { url: "https://a.example/hooks", events: ["message.acked"] })).body.id as string;
  await a("PUT", "/v1/templates/a-tpl", { defaultLocale: "en", locales: { en: { push: { title: "A's {{x}}" } } } });
  return { a, b, aMessage, aKeyId, aWebhook };
}

test("on every route, another app's key reads none of this app's data and changes none of it", async () => {
  await using mesh = await startTestMesh();
  const doc = (await (await fetch(`${mesh.edge}/openapi.json`)).json()) as any;
  const world = await twoApps(mesh);
  const missing: string[] = [];
  for (const op of operations(doc)) {
    const name = `${op.method} ${op.path}`;
    const check = CASES[name];
    if (!check) {
      missing.push(name);
      continue;
    }
    if (op.operator) {
      const answer = await world.b(op.method, op.path.replace(/\{\w+\}/g, "relay-1"), op.method === "GET" ? undefined : {});
      expect([name, answer.status, answer.body.error?.code]).toEqual([name, 403, "OPERATOR_REQUIRED"]);
      continue;
    }
    await check(world);
    await aIsIntact(world);
  }
  expect(missing).toEqual([]);
});
