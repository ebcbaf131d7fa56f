// The one place an error becomes an HTTP response: {"error":{"code","message","details"?}} with the
// status the code's table entry names. Unknown errors are logged and answered as INTERNAL, never leaked.
import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type ApiErrorCode, PushmeshError } from "../core/errors.ts";
import type { ErrorSchema } from "./schemas.ts";

export type ErrorBody = z.infer<typeof ErrorSchema>;
type ErrorDetails = ErrorBody["error"]["details"];

const fromHttpStatus: Partial<Record<number, ApiErrorCode>> = {
  400: "BAD_JSON",
  401: "UNAUTHORIZED",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/** What a 503 asks the caller to wait when the error names no time of its own: the cause is usually brief. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export function toPushmeshError(error: unknown): PushmeshError {
  if (error instanceof PushmeshError) return error;
  if (error instanceof HTTPException) {
    const code = fromHttpStatus[error.status] ?? "INVALID_REQUEST";
    return new PushmeshError(code, code === "INVALID_REQUEST" ? error.message : ApiError[code].reason, { cause: error });
  }
  return new PushmeshError("INTERNAL", ApiError.INTERNAL.reason, { cause: error });
}

/** The error body; `details` as the error carries them (a batch item's result uses this too). */
export function errorBody(error: PushmeshError): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details as ErrorDetails;
  return body;
}

/** Seconds a 429 or 503 asks the caller to wait: from the error's details, else a 503's default. */
export function retryAfterSeconds(error: PushmeshError): number | null {
  const value = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (typeof value === "number") return value;
  return error.status === 503 ? UNAVAILABLE_RETRY_AFTER_SECONDS : null;
}

export function errorResponse(c: Context, error: PushmeshError): Response {
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== null) c.header("Retry-After", String(retryAfter));
  return c.json(errorBody(error), error.status as ContentfulStatusCode);
}
