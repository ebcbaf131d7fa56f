// The pushmesh side of the connection and throughput benchmarks: the whole mesh as `pushmesh dev`
// runs it (startMesh: store, memory engine, relay, edge), in a process of its own, answering the
// benchmark over IPC. Started as `bun bench/mesh-server.ts '<config overrides as JSON>'`.
//
// For throughput it drives the relay through its real signal path: the messages are written to
// the store first (the edge's durable write, before the clock), then the clock runs while
// deliver signals and topic broadcasts go through the engine exactly as the edge sends them after
// that write. Everything the relay does from there on (sessions, encoding, sockets, backpressure,
// acks written back to the store) is measured.
import { type ConfigInput, parseConfig } from "../core/config.ts";
import type { DeliverSignal, TopicSignal } from "../core/engine.ts";
import { uuidv7 } from "../core/ids.ts";
import { Priority } from "../core/protocol.ts";
import { encodeData } from "../core/codec.ts";
import type { SignalledMessage } from "../core/engine.ts";
import { silentLog } from "../ops/log.ts";
import { ensureDemoApp, startMesh } from "../ops/mesh.ts";
import { collectAndMeasure, serveParent } from "./child-process.ts";
import { driveRounds, PAYLOAD, Progress } from "./rounds.ts";

const overrides = JSON.parse(process.argv[2] ?? "{}") as Partial<ConfigInput>;
const config = parseConfig({ edgePort: 0, wsPort: 0, tcpPort: 0, ...overrides });
const mesh = await startMesh(config, silentLog);
const { appId, apiKey } = await ensureDemoApp(mesh.store);
const progress = new Progress();

/** Per round, the deliver signals for every device, built before the clock (the edge builds them in its own process). */
let unicastRounds: DeliverSignal[][] = [];
let topicRounds: TopicSignal[] = [];

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

serveParent(
  {
    measure: async () => ({ ...(await collectAndMeasure()), ...mesh.relay.connections }),
    cpu: () => process.cpuUsage(),
    progress: (a) => progress.update(a.received),
    /** Writes `rounds` messages to every device's inbox, one store batch per message as a send does. */
    async prewrite(a) {
      const deviceIds = a.deviceIds as string[];
      const started = performance.now();
      unicastRounds = [];
      let firstSeq = 0;
      for (let r = 0; r < (a.rounds as number); r++) {
        const signals: DeliverSignal[] = [];
        for (const group of chunks(deviceIds, 1000)) {
          const now = Date.now();
          const stored = { appId, messageId: uuidv7(now), priority: Priority.normal, data: encodeData(PAYLOAD), collapseKey: null, category: null, createdAt: now, expiresAt: null };
          const assigned = await mesh.store.writeMessage({ message: stored, targetCount: group.length, deliver: group, deferred: [], at: now });
          const seq = assigned[0]!.seq;
          if (assigned.some((x) => x.seq !== seq)) throw new Error("devices are not in step: their seqs differ");
          if (firstSeq === 0) firstSeq = seq;
          const message: SignalledMessage = { ...stored, seq };
          for (const deviceId of group) signals.push({ kind: "deliver", appId, deviceId, message });
        }
        unicastRounds.push(signals);
      }
      return { firstSeq, ms: performance.now() - started };
    },
    async unicast(a) {
      return driveRounds({
        rounds: unicastRounds.length,
        perRound: unicastRounds[0]?.length ?? 0,
        window: a.window,
        progress,
        // One publish per round with every device's signal, as the edge publishes per node.
        sendRound: (r) => mesh.engine.publish(config.nodeId, unicastRounds[r - 1]!),
      });
    },
    /** Stores `rounds` messages in the topic's stream (offsets in order), as a topic send does. */
    async topicPrewrite(a) {
      const topic = a.topic as string;
      const started = performance.now();
      topicRounds = [];
      for (let r = 0; r < (a.rounds as number); r++) {
        const now = Date.now();
        const messageId = uuidv7(now);
        const offset = await mesh.store.publishTopic(
          { appId, messageId, priority: Priority.normal, data: encodeData(PAYLOAD), collapseKey: null, category: null, createdAt: now, expiresAt: null },
          topic,
        );
        topicRounds.push({ appId, topic, offset, message: { messageId, priority: Priority.normal, data: encodeData(PAYLOAD), createdAt: now } });
      }
      return { firstOffset: topicRounds[0]?.offset ?? 0, ms: performance.now() - started };
    },
    async fanout(a) {
      return driveRounds({
        rounds: topicRounds.length,
        perRound: a.subscribers,
        window: a.window,
        progress,
        sendRound: (r) => mesh.engine.broadcast(topicRounds[r - 1]!),
      });
    },
  },
  { edge: mesh.edge, ws: mesh.ws, tcp: mesh.tcp, appId, apiKey, pid: process.pid },
);
