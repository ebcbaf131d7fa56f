// The one place an error becomes an HTTP response: {"error":{"code","message"}} with the status
// the code's table entry names. Unknown errors are logged and answered as INTERNAL, never leaked.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type ApiErrorCode, PushmeshError } from "../core/errors.ts";

export type ErrorBody = { error: { code: ApiErrorCode; message: string; details?: unknown } };

const fromHttpStatus: Partial<Record<number, ApiErrorCode>> = {
  400: "BAD_JSON",
  401: "UNAUTHORIZED",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

export function toPushmeshError(error: unknown): PushmeshError {
  if (error instanceof PushmeshError) return error;
  if (error instanceof HTTPException) {
    const code = fromHttpStatus[error.status] ?? "INVALID_REQUEST";
    return new PushmeshError(code, code === "BAD_JSON" ? ApiError.BAD_JSON.reason : error.message, { cause: error });
  }
  return new PushmeshError("INTERNAL", ApiError.INTERNAL.reason, { cause: error });
}

/** The error body; `details` as the error carries them (a batch item's result uses this too). */
export function errorBody(error: PushmeshError): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  return body;
}

/** Seconds a 429 asks the caller to wait, carried in the error's details. */
export function retryAfterSeconds(error: PushmeshError): number | null {
  const value = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof value === "number" ? value : null;
}

export function errorResponse(c: Context, error: PushmeshError): Response {
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== null) c.header("Retry-After", String(retryAfter));
  return c.json(errorBody(error), error.status as ContentfulStatusCode);
}
