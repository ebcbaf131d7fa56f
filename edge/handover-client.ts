// The other side of POST /v1/handover: this edge's spool hands over the sends it kept for the edge
// it forwards writes to, signed with the mesh's hand-over secret from the store.
import type { Config } from "../core/config.ts";
import type { HandOver, HandOverAnswer } from "../core/spool-forwarder.ts";
import type { Store } from "../core/store.ts";
import { signWebhook } from "../core/webhook-signature.ts";
import { FORWARDED_BY } from "./forward-writes.ts";
import { HANDOVER_HEADER, HANDOVER_SECRET } from "./routes/handover.ts";

export function handOverClient(deps: { store: Pick<Store, "meshSecret">; config: Pick<Config, "nodeId" | "forwardTimeoutMs"> }): HandOver {
  return async (edge, items, live) => {
    const body = JSON.stringify({ live, items });
    const secret = await deps.store.meshSecret(HANDOVER_SECRET);
    const res = await fetch(new URL("/v1/handover", edge), {
      method: "POST",
      headers: { "content-type": "application/json", [HANDOVER_HEADER]: await signWebhook(body, [secret], Date.now()), [FORWARDED_BY]: deps.config.nodeId },
      body,
      signal: AbortSignal.timeout(deps.config.forwardTimeoutMs),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${edge} answered the hand-over ${res.status}: ${text.slice(0, 200)}`);
    return (JSON.parse(text) as { results: HandOverAnswer[] }).results;
  };
}
