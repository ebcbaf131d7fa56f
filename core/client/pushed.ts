// Messages that reach the app through a push channel before (or instead of) the socket: the client
// remembers their seqs, so the socket's copy is acked and never handed over a second time.
import type { ClientOptions, ClientState, PushedMessage, ReceivedMessage } from "./client-types.ts";

/** How many pushed seqs the state keeps: past this, the oldest are forgotten (and could be handed over again). */
const MAX_PUSHED = 1000;

function rememberPushed(state: ClientState, seq: number): void {
  state.pushed = [...(state.pushed ?? []).filter((s) => s > state.lastSeq), seq].slice(-MAX_PUSHED);
}

export function takePushed(state: ClientState, seq: number): boolean {
  if (!state.pushed?.includes(seq)) return false;
  state.pushed = state.pushed.filter((s) => s > seq);
  return true;
}

function receivedByPush(p: PushedMessage, seq: number): ReceivedMessage {
  return { seq, messageId: p.messageId, priority: p.priority ?? "normal", data: p.data, sentAt: p.sentAt ?? 0, collapseKey: null, via: "push" };
}


/**
 * Hands a pushed message (the service worker's push event, an FCM or APNs payload) to the app
 * unless it has it already, and remembers its seq so the socket's copy is acked, not handed over
 * again. It may come ahead of earlier messages still on their way over the socket: seq tells the order.
 */
export async function handOverPushed(state: ClientState, pushed: PushedMessage, options: Pick<ClientOptions, "onMessage" | "state">): Promise<boolean> {
  if (pushed.seq === null || pushed.seq <= state.lastSeq || state.pushed?.includes(pushed.seq)) return false;
  await options.onMessage(receivedByPush(pushed, pushed.seq));
  rememberPushed(state, pushed.seq);
  await options.state?.save({ ...state, topics: { ...state.topics } });
  return true;
}
