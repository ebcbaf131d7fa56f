// A listener whose port another process holds: which listener, which port, and what to do, in
// place of the runtime's "Failed to start server. Is port 7701 in use?".
import type { Config } from "../core/config.ts";
import { CliError } from "./commands/errors.ts";

export type Listener = "edge HTTP" | "relay WebSocket" | "relay TCP";

/** The flags the process that failed takes for its ports, and a command line that would start it. */
export type PortAdvice = { flags: string[]; example: string };

export const DEV_PORTS: PortAdvice = { flags: ["--edge-port", "--ws-port", "--tcp-port"], example: "npm start -- --edge-port 0 --ws-port 0 --tcp-port 0" };

const inUse = (error: unknown) => (error as { code?: unknown } | null)?.code === "EADDRINUSE";

/** `error` as PORT_IN_USE when it is `listener` failing to bind because its port is taken; any other error as it is. */
export function portInUse(error: unknown, listener: Listener, host: string, port: number, advice: PortAdvice): unknown {
  if (!inUse(error)) return error;
  return new CliError(
    "PORT_IN_USE",
    `the ${listener} listener cannot listen on ${host}:${port}: another process holds the port (perhaps another pushmesh mesh is still running).\n` +
      `  Stop it, or choose other ports with ${advice.flags.join(", ")} (0 = any free port; or PUSHMESH_EDGE_PORT and the like), e.g.\n` +
      `  ${advice.example}`,
    { cause: error },
  );
}

/**
 * Which of the relay's listeners failed, told by the runtime's error: Bun.listen's (TCP) carries
 * the port and says "Failed to listen", Bun.serve's (WebSocket) says "Failed to start server".
 */
export function relayPortInUse(error: unknown, config: Config, advice: PortAdvice): unknown {
  if (!inUse(error)) return error;
  const e = error as { port?: unknown; message?: unknown };
  const tcp = typeof e.port === "number" || /^Failed to listen/.test(String(e.message));
  return tcp
    ? portInUse(error, "relay TCP", config.host, config.tcpPort, advice)
    : portInUse(error, "relay WebSocket", config.host, config.wsPort, advice);
}
