// Every error the product reports by name. The HTTP mapping lives in edge/http-errors.ts and the
// close-code mapping in core/protocol.ts (WireError); nothing else decides a status.

export const ApiError = {
  BAD_JSON: { status: 400, reason: "the request body is not valid JSON" },
  INVALID_REQUEST: { status: 400, reason: "a parameter or field breaks its rule, or is unknown; details lists each with its path" },
  DATA_INVALID: { status: 400, reason: "a message's data cannot be delivered: nested deeper than 32 levels, or not a JSON value; details names the place" },
  TEMPLATE_VARIABLES_MISSING: { status: 400, reason: "the template needs variables the send's vars lack (or hold null); details.missing names each" },
  UNAUTHORIZED: { status: 401, reason: "no API key, or one that is unknown or revoked" },
  OPERATOR_TRANSPORT: { status: 403, reason: "the operator credential is taken only over TLS or from this machine (loopback); see allowPlainOperator" },
  OPERATOR_REQUIRED: { status: 403, reason: "the route is for operators: it takes the operator credential, never an app's API key" },
  FORBIDDEN: { status: 403, reason: "the API key lacks the scope this route needs" },
  DEVICE_NOT_FOUND: { status: 404, reason: "a target device does not exist in this app" },
  KEY_NOT_FOUND: { status: 404, reason: "no API key with this id in this app" },
  MESSAGE_NOT_FOUND: { status: 404, reason: "no message with this id in this app" },
  NOT_FOUND: { status: 404, reason: "no route has this path" },
  METHOD_NOT_ALLOWED: { status: 405, reason: "the path does not take this method; the Allow header lists those it takes" },
  PAYLOAD_TOO_LARGE: { status: 413, reason: "the request body, or a message's data, exceeds its size limit" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, reason: "the body must be sent as application/json" },
  USER_NOT_FOUND: { status: 404, reason: "the target user has no registered device in this app" },
  NODE_NOT_FOUND: { status: 404, reason: "no relay node with this id" },
  PREFERENCES_NOT_FOUND: { status: 404, reason: "no preferences are stored for this device or user" },
  CHANNEL_NOT_CONFIGURED: { status: 404, reason: "the app has no credentials for this channel" },
  TEMPLATE_NOT_FOUND: { status: 404, reason: "the app has no template with this name" },
  WEBHOOK_NOT_FOUND: { status: 404, reason: "the app has no webhook endpoint with this id" },
  LAST_ADMIN_KEY: { status: 409, reason: "the app's last key with the admin scope cannot be revoked: create another admin key first" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, reason: "the idempotency key was used for a different request" },
  RATE_LIMITED: { status: 429, reason: "the app sent too many requests; retry after the Retry-After header's seconds" },
  QUOTA_EXCEEDED: { status: 429, reason: "the app used its message quota for this window; retry after Retry-After" },
  STORE_UNAVAILABLE: { status: 503, reason: "the store cannot accept writes right now; retry" },
  SPOOL_FULL: { status: 503, reason: "the store is away and this edge's spool holds its most sends; retry after Retry-After" },
  FORWARD_FAILED: { status: 503, reason: "the edge this one forwards writes to did not answer; retry, with the same idempotencyKey for sends" },
  INTERNAL: { status: 500, reason: "the server failed; the request may be retried" },
} as const;
export type ApiErrorCode = keyof typeof ApiError;

export class PushmeshError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string = ApiError[code].reason,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PushmeshError";
    this.details = options?.details;
  }
  readonly details: unknown;

  get status(): number {
    return ApiError[this.code].status;
  }
}

/** The one answer for ids that are no device of the app: named, the first ten in the message, all in details. */
export function deviceNotFound(missing: string[]): PushmeshError {
  return new PushmeshError("DEVICE_NOT_FOUND", `unknown device(s): ${missing.slice(0, 10).join(", ")}`, { details: { deviceIds: missing } });
}
