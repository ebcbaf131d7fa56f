// Records an operator's or an app admin's action in the audit log: who (the operator, or which key
// of which app), what, on what, from where. A failed append is logged, never the action's undoing.
import type { Context } from "hono";
import type { AuditActor } from "../core/store.ts";
import type { EdgeDeps } from "./env.ts";
import type { EdgeEnv } from "./request-context.ts";

export async function audit(
  deps: Pick<EdgeDeps, "store" | "log">,
  c: Context<EdgeEnv>,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  const identity = c.get("identity") as EdgeEnv["Variables"]["identity"] | undefined;
  const actor: AuditActor = identity ? { kind: "app_key", keyId: identity.keyId, appId: identity.appId } : { kind: "operator" };
  try {
    await deps.store.appendAudit({ at: Date.now(), actor, appId: identity?.appId ?? null, action, target, details, from: c.env?.remoteAddress ?? null });
  } catch (error) {
    deps.log?.("audit_append_failed", { action, target, error: String(error) });
  }
}
