// A batch of sends split by home (core/send/homes.ts): the parts for this region are sent here,
// the parts for every other home handed to that home's edge, all homes at once; each send's
// answer is its parts' answers together. A send that reaches one home answers as it always did;
// one that reaches several says what each home did in `homes`.
import { PushmeshError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { type HandOverDeps, sendThrough } from "./hand-over.ts";
import { type HomePart, type HomeRouting, splitByHome } from "./homes.ts";
import type { SendRequest } from "./request.ts";
import { validateSend } from "./request.ts";
import type { SendResult, SendStates } from "./send.ts";
import { batchOrSpool, type QueuedResult, type SpoolingItemOutcome, type SpoolingOutcome } from "./spool.ts";

export type HomeSendDeps = HandOverDeps & { routing: HomeRouting; homeEdges: Record<string, string> };

type Placed = { index: number; home: string; request: SendRequest; messageId: string };
export type HomeResult = { home: string; result: SendResult | QueuedResult };
export type SplitResult = (SendResult | QueuedResult) & { homes: HomeResult[] };

export async function sendByHome(deps: HomeSendDeps, appId: string, requests: SendRequest[], now = Date.now()): Promise<SpoolingItemOutcome[]> {
  const outcomes: (SpoolingItemOutcome | null)[] = requests.map(() => null);
  const partsOf: Placed[][] = requests.map(() => []);
  let pending: Placed[] = [];
  for (const [index, request] of requests.entries()) {
    try {
      validateSend(request, deps.config, now);
      const messageId = uuidv7(now);
      const parts: HomePart[] = await splitByHome(deps.routing, appId, request);
      for (const part of parts) {
        if (part.home !== deps.routing.region && !deps.homeEdges[part.home]) {
          throw new PushmeshError("INTERNAL", `no edge is known for home region '${part.home}'; give it in homeEdges`);
        }
      }
      for (const part of parts) {
        const placed = { index, home: part.home, request: part.request, messageId };
        partsOf[index]!.push(placed);
        pending.push(placed);
      }
    } catch (error) {
      outcomes[index] = { error };
    }
  }
  const answers = new Map<Placed, SpoolingItemOutcome>();
  for (let attempt = 1; pending.length > 0; attempt++) {
    await dispatch(deps, appId, pending, now, answers);
    // A home that holds no such device while the directory names it there: the device is moving
    // (core/move-home.ts), or was registered a moment ago. Nothing was written for that part, so
    // it goes again, to wherever the directory says once caught up, until MOVE_WAIT_MS has passed.
    const again = pending.filter((p) => attempt < MOVE_ATTEMPTS && isDeviceNotFound(answers.get(p)!.error) && !("topic" in p.request.to));
    if (again.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, MOVE_WAIT_MS / MOVE_ATTEMPTS));
    await deps.routing.directory.freshen();
    pending = [];
    for (const p of again) {
      const parts = partsOf[p.index]!;
      try {
        const split = await splitByHome(deps.routing, appId, p.request);
        // A home that wrote another part of this send holds its message already: this part takes an id of its own there.
        const taken = (home: string) => parts.some((q) => q !== p && q.home === home);
        const placed = split.map((part) => ({ index: p.index, home: part.home, request: part.request, messageId: taken(part.home) ? uuidv7(now) : p.messageId }));
        parts.splice(parts.indexOf(p), 1, ...placed);
        pending.push(...placed);
      } catch (error) {
        answers.set(p, { error });
      }
    }
  }
  return outcomes.map((done, index) => done ?? joined(partsOf[index]!.map((p) => ({ home: p.home, answer: answers.get(p)! }))));
}

/** How long a send waits for a device between homes, and in how many tries. */
const MOVE_WAIT_MS = 3000;
const MOVE_ATTEMPTS = 30;

const isDeviceNotFound = (error: unknown) => error instanceof PushmeshError && error.code === "DEVICE_NOT_FOUND";

/** Every part to its home at once: this region's here, each other home's handed to its edge. */
async function dispatch(deps: HomeSendDeps, appId: string, placed: Placed[], now: number, answers: Map<Placed, SpoolingItemOutcome>): Promise<void> {
  const byHome = new Map<string, Placed[]>();
  for (const p of placed) {
    const list = byHome.get(p.home);
    if (list) list.push(p);
    else byHome.set(p.home, [p]);
  }
  await Promise.all(
    [...byHome].map(async ([home, parts]) => {
      const sent =
        home === deps.routing.region
          ? await batchOrSpool(deps, appId, parts.map((p) => p.request), parts.map((p) => ({ messageId: p.messageId, now })))
          : await sendThrough(deps, deps.homeEdges[home]!, appId, parts.map((p) => p.request), now, parts.map((p) => p.messageId));
      for (const [i, p] of parts.entries()) answers.set(p, sent[i]!);
    }),
  );
}

/** One send's parts as one answer: the only part's; all written: the sums, with `homes`; a part refused: its error, naming what each home did. */
function joined(parts: { home: string; answer: SpoolingItemOutcome }[]): SpoolingItemOutcome {
  if (parts.length === 1) return parts[0]!.answer;
  const failed = parts.find((p) => p.answer.error !== undefined);
  if (failed) {
    const first = failed.answer.error;
    const code = first instanceof PushmeshError ? first.code : "INTERNAL";
    const homes = parts.map((p) => (p.answer.outcome ? { home: p.home, status: 202, result: p.answer.outcome.result } : { home: p.home, status: statusOf(p.answer.error), error: String((p.answer.error as Error)?.message ?? p.answer.error) }));
    return { error: new PushmeshError(code, `home '${failed.home}' refused its part: ${(first as Error)?.message ?? first}`, { cause: first, details: { homes } }) };
  }
  const outcomes = parts.map((p) => ({ home: p.home, outcome: p.answer.outcome! }));
  return { outcome: { result: summed(outcomes), replayed: outcomes.every((o) => o.outcome.replayed) } };
}

function statusOf(error: unknown): number {
  return error instanceof PushmeshError ? error.status : 500;
}

function summed(parts: { home: string; outcome: SpoolingOutcome }[]): SplitResult {
  const homes = parts.map((p) => ({ home: p.home, result: p.outcome.result }));
  const written = parts.map((p) => p.outcome.result).filter((r): r is SendResult => !("state" in r));
  const first = parts[0]!.outcome.result;
  if (written.length === 0) return { ...(first as QueuedResult), homes };
  const states: SendStates = { pending: 0, scheduled: 0, held: 0, suppressed: 0, expired: 0 };
  for (const r of written) for (const key of Object.keys(states) as (keyof SendStates)[]) states[key] += r.states[key];
  const base = written[0]!;
  return { ...base, targets: written.reduce((n, r) => n + r.targets, 0), states, homes };
}
