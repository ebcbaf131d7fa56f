// Errors an engine reports by name. Callers tell an outage (degrade: a send is already durable and
// a heartbeat closes the gap) from a refused command (a bug or a misconfigured server) and from an
// operation the engine cannot do at all.

/** The shared engine cannot be reached, or did not answer in time. Retrying later may succeed. */
export class EngineUnavailable extends Error {
  override readonly name = "EngineUnavailable";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Redis answered with an error reply: the command itself was refused (e.g. WRONGTYPE, NOSCRIPT). */
export class EngineCommandRejected extends Error {
  override readonly name = "EngineCommandRejected";
  constructor(
    message: string,
    /** The Redis error code: the reply's first word, e.g. "ERR", "WRONGTYPE", "NOSCRIPT". */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** This engine cannot do this operation at all, e.g. subscribing over Redis REST. */
export class EngineUnsupported extends Error {
  override readonly name = "EngineUnsupported";
}

/** A Redis error reply starts with its code in capitals ("ERR", "WRONGTYPE", "NOSCRIPT"); null if not one. */
export function redisErrorCode(message: string): string | null {
  const match = /^([A-Z][A-Z_]+)(?:\s|$)/.exec(message);
  return match ? match[1]! : null;
}
