// What device add, send and listen share: where the edge is, the API key, and one HTTP call that
// turns the edge's answer into a named error.
import { API_KEY_PREFIX } from "../../core/auth.ts";
import { TOPIC_PATTERN } from "../../core/protocol.ts";
import { DeviceIdSchema } from "../../edge/fields.ts";
import { list, text } from "./args.ts";
import { CliError } from "./errors.ts";

const checkUrl = (s: string) => (/^https?:\/\/[^/\s]+/.test(s) && URL.canParse(s) ? null : "takes an http:// or https:// URL");
const checkKey = (s: string) => (s.startsWith(API_KEY_PREFIX) ? null : `takes an API key (${API_KEY_PREFIX}…)`);

export const edgeFlags = {
  edge: text("URL", "the edge's address, as `npm start` printed it", { required: true, env: "PUSHMESH_EDGE", check: checkUrl }),
  key: text("API_KEY", "an API key of the app", { required: true, env: "PUSHMESH_KEY", check: checkKey }),
};
/** For listen, which needs no key when it is given a device token. */
export const optionalKeyFlag = text("API_KEY", "an API key of the app, to register the device", { env: "PUSHMESH_KEY", check: checkKey });
export type EdgeFlags = { edge: string; key?: string };

export const checkDeviceId = (id: string) => (DeviceIdSchema.safeParse(id).success ? null : "takes device ids of letters, digits and . _ : @ - (1…128)");
export const checkTopic = (topic: string) => (TOPIC_PATTERN.test(topic) ? null : "takes topic names of letters, digits and . _ : - (1…128)");

export const deviceList = (help: string) => list("ID[,ID…]", help, { check: checkDeviceId });
export const topicList = (help: string) => list("T[,T…]", help, { check: checkTopic });

export async function callEdge<T>(flags: EdgeFlags, method: string, path: string, body?: unknown): Promise<T> {
  const base = flags.edge.replace(/\/$/, "");
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(flags.key ? { authorization: `Bearer ${flags.key}` } : {}), "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (cause) {
    const reason = (cause as { code?: string }).code ?? String(cause);
    throw new CliError("EDGE_UNREACHABLE", `no answer from the edge at ${base} (${reason}); is the mesh running (npm start)?`, { cause });
  }
  const raw = await res.text();
  let answer: unknown;
  try {
    answer = JSON.parse(raw);
  } catch (cause) {
    throw new CliError("EDGE_REFUSED", `${method} ${path} answered ${res.status} with something other than JSON; is ${base} an edge?`, { cause });
  }
  if (!res.ok) {
    const error = (answer as { error?: { code?: string; message?: string } }).error;
    throw new CliError("EDGE_REFUSED", `${method} ${path} answered ${res.status} ${error?.code ?? ""}: ${error?.message ?? raw}`);
  }
  return answer as T;
}

export type Registration = { deviceId: string; token: string; expiresAt: number; epoch: number };

export const registerDevice = (flags: EdgeFlags, device: { deviceId?: string; userId?: string; platform?: string; home?: string }) =>
  callEdge<Registration>(flags, "POST", "/v1/devices", device);
