// The other side of POST /v1/handover: this edge's spool hands over the sends it kept for the edge
// it forwards writes to, signed with the mesh's hand-over secret from the store.
import type { Config } from "../core/config.ts";
import type { HandOver, HandOverAnswer } from "../core/spool-forwarder.ts";
import { ApiError, type ApiErrorCode, PushmeshError } from "../core/errors.ts";
import { moveToJson } from "../core/homes-store.ts";
import { MoveRefused } from "../core/move-home.ts";
import type { DeviceMove, Store } from "../core/store.ts";
import { signWebhook } from "../core/webhook-signature.ts";
import { FORWARDED_BY } from "./forward-writes.ts";
import { HANDOVER_HEADER, HANDOVER_SECRET } from "./routes/handover.ts";

type ClientDeps = { store: Pick<Store, "meshSecret">; config: Pick<Config, "nodeId" | "forwardTimeoutMs"> };

/** A body signed with the mesh's hand-over secret, posted to another edge: its status and text. */
async function signedPost(deps: ClientDeps, edge: string, path: string, body: string): Promise<{ status: number; text: string }> {
  const secret = await deps.store.meshSecret(HANDOVER_SECRET);
  const res = await fetch(new URL(path, edge), {
    method: "POST",
    headers: { "content-type": "application/json", [HANDOVER_HEADER]: await signWebhook(body, [secret], Date.now()), [FORWARDED_BY]: deps.config.nodeId },
    body,
    signal: AbortSignal.timeout(deps.config.forwardTimeoutMs),
  });
  return { status: res.status, text: await res.text() };
}

export function handOverClient(deps: ClientDeps): HandOver {
  return async (edge, items, live) => {
    const res = await signedPost(deps, edge, "/v1/handover", JSON.stringify({ live, items }));
    const text = res.text;
    if (res.status !== 200) throw new Error(`${edge} answered the hand-over ${res.status}: ${text.slice(0, 200)}`);
    return (JSON.parse(text) as { results: HandOverAnswer[] }).results;
  };
}

/** Hands a sealed device to its new home's edge (POST /v1/handover/device); resolves once that home holds it. */
export function handDeviceClient(deps: ClientDeps & { config: Pick<Config, "homeEdges"> }) {
  return async (home: string, move: DeviceMove): Promise<void> => {
    const edge = deps.config.homeEdges[home];
    if (!edge) throw new MoveRefused(new PushmeshError("INVALID_REQUEST", `no edge is known for home region '${home}'`));
    const res = await signedPost(deps, edge, "/v1/handover/device", moveToJson(move));
    const text = res.text;
    if (res.status === 200) return;
    const error = (JSON.parse(text) as { error?: { code: string; message: string } }).error;
    // A 4xx is the new home's definite answer; anything else may or may not have landed.
    if (res.status >= 400 && res.status < 500 && error && error.code in ApiError) throw new MoveRefused(new PushmeshError(error.code as ApiErrorCode, `home '${home}': ${error.message}`));
    throw new Error(`${edge} answered the device's hand-over ${res.status}: ${text.slice(0, 200)}`);
  };
}
