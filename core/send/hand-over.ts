// Sends through the edge this one forwards writes to, as hand-overs (POST /v1/handover): this edge
// checks the request and gives each send its message id, and the other edge writes it and answers
// what it did. A hand-over that fails in any way (refused, timed out, cut off) is kept in this
// edge's spool and handed over again later: the id makes a second hand-over write nothing, so
// unlike a proxied request, not knowing whether the first one landed costs nothing.
import { type ApiErrorCode, ApiError, PushmeshError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import type { HandOver } from "../spool-forwarder.ts";
import type { Spool } from "../spool.ts";
import type { SendRequest } from "./request.ts";
import { validateSend } from "./request.ts";
import { keep, type SpoolingDeps, type SpoolingItemOutcome } from "./spool.ts";

export type HandOverDeps = SpoolingDeps & { spool: Spool; handOver: HandOver };

/** `messageIds`: the ids the sends take (a send split by home keeps one id in every home); fresh ones otherwise. */
export async function sendThrough(
  deps: HandOverDeps,
  edge: string,
  appId: string,
  requests: SendRequest[],
  now = Date.now(),
  messageIds?: string[],
): Promise<SpoolingItemOutcome[]> {
  const outcomes: SpoolingItemOutcome[] = new Array(requests.length);
  const valid: { index: number; messageId: string; request: SendRequest }[] = [];
  for (const [index, request] of requests.entries()) {
    try {
      validateSend(request, deps.config, now);
      valid.push({ index, messageId: messageIds?.[index] ?? uuidv7(now), request });
    } catch (error) {
      outcomes[index] = { error };
    }
  }
  // Behind sends kept earlier, a send waits its turn in the spool.
  let answers: Awaited<ReturnType<HandOver>> | null = null;
  if (valid.length > 0 && deps.spool.waiting(edge) === 0) {
    try {
      answers = await deps.handOver(edge, valid.map((v) => ({ appId, messageId: v.messageId, queuedAt: now, request: v.request })), true);
    } catch (error) {
      deps.log?.("handover_failed", { edge, sends: valid.length, error: String(error) });
    }
  }
  for (const [i, v] of valid.entries()) {
    const answer = answers?.[i];
    try {
      if (!answer) outcomes[v.index] = { outcome: await keep(deps, deps.spool, appId, v.request, v.messageId, now, edge) };
      else if (answer.status === 202) outcomes[v.index] = { outcome: { result: answer.result ?? { messageId: v.messageId, state: "queued", queuedAt: now }, replayed: answer.replayed ?? false } };
      else outcomes[v.index] = { error: errorOf(answer) };
    } catch (error) {
      outcomes[v.index] = { error };
    }
  }
  return outcomes;
}

/** The other edge's answer for a send, as the error it would have raised here. */
function errorOf(answer: { status: number; error?: { code: string; message: string; details?: unknown } }): PushmeshError {
  const code = answer.error?.code;
  if (code && code in ApiError) return new PushmeshError(code as ApiErrorCode, answer.error!.message, { details: answer.error!.details });
  return new PushmeshError("INTERNAL", `the edge this one forwards writes to answered ${answer.status}`);
}
