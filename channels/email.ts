// Email through SMTP with nodemailer: one pooled transport per app. The message id, seq and data
// travel in X-Pushmesh-* headers, so a client reading mail can drop what it already has.
import nodemailer from "nodemailer";
import type { ChannelAdapter, ChannelMessage, ChannelOutcome, EmailCredentials, EmailEndpoint } from "../core/channels.ts";

export type EmailOptions = { credentials: EmailCredentials; timeoutMs?: number; tls?: { rejectUnauthorized?: boolean } };

type SmtpError = Error & { code?: string; responseCode?: number; command?: string; response?: string };

export function createEmailAdapter(options: EmailOptions): ChannelAdapter<EmailEndpoint> {
  const timeout = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport(options.credentials.url, {
    pool: true,
    maxConnections: 4,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: options.tls,
  } as never);
  return {
    kind: "email",
    async send(endpoint, message) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // A server that takes the connection and then says nothing would hold the send past any socket timeout of a pooled connection.
      const silent = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeout} ms`), { code: "ETIMEDOUT" })), timeout);
      });
      try {
        const info = await Promise.race([transport.sendMail(mailOf(options.credentials.from, endpoint.address, message)), silent]);
        return { kind: "accepted", providerId: String(info.messageId ?? info.response ?? "") || null };
      } catch (error) {
        return outcomeOf(error as SmtpError);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      transport.close();
    },
  };
}

function mailOf(from: string, to: string, m: ChannelMessage) {
  const headers: Record<string, string> = {
    "X-Pushmesh-Message-Id": m.messageId,
    "X-Pushmesh-Data": Buffer.from(JSON.stringify(m.data ?? null)).toString("base64url"),
  };
  if (m.seq !== null) headers["X-Pushmesh-Seq"] = String(m.seq);
  if (m.priority === "high") Object.assign(headers, { "X-Priority": "1", Importance: "high" });
  return {
    from,
    to,
    subject: m.email?.subject ?? m.title ?? "(no subject)",
    text: m.email?.text ?? m.body ?? "",
    ...(m.email?.html ? { html: m.email.html } : {}),
    // The same message sent twice carries the same Message-ID: mail clients and filters can tell.
    messageId: `<${m.messageId}.${m.deviceId}@pushmesh>`,
    headers,
  };
}

/** SMTP's answers as the fallback acts on them: 5xx for the recipient is a dead address, 4xx later, a connection failure later. */
function outcomeOf(error: SmtpError): ChannelOutcome {
  const code = error.responseCode ?? 0;
  const reason = `${code || error.code || "error"} ${error.response ?? error.message}`.trim();
  if (error.code === "EAUTH") return { kind: "rejected", reason: `auth_failed: ${reason}` };
  if (code === 552 || /size|too large/i.test(error.response ?? "")) return { kind: "rejected", reason: `payload_too_large: ${reason}` };
  if (code >= 500 && /RCPT/i.test(error.command ?? "")) return { kind: "gone", reason };
  if (code >= 500) return { kind: "rejected", reason };
  return { kind: "retry", reason, afterMs: null };
}
