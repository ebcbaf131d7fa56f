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
    // Its domain is the sender's, as RFC 5322 asks, so spam filters do not count it against the mail.
    messageId: `<${m.messageId}.${m.deviceId}@${domainOf(from)}>`,
    headers,
  };
}

/** The domain of a from-address (`a@b.example` or `Name <a@b.example>`); pushmesh.invalid without one. */
export function domainOf(from: string): string {
  return /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? "pushmesh.invalid";
}

/**
 * SMTP's answers as the fallback acts on them. Only a mailbox the server says does not exist is
 * gone (its address is removed); a refusal by policy (5.7.x: relay denied, sender not allowed),
 * a full mailbox or a login that failed says nothing about the address and removes nothing.
 */
export function outcomeOf(error: SmtpError): ChannelOutcome {
  const code = error.responseCode ?? 0;
  const text = error.response ?? error.message;
  const reason = `${code || error.code || "error"} ${text}`.trim();
  // RFC 3463's enhanced status code, when the server gave one: class.subject.detail.
  const [, klass, subject, detail] = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text) ?? [];
  const status = klass ? `${subject}.${detail}` : null;
  if (error.code === "EAUTH" || code === 530 || code === 535 || status === "7.8") return { kind: "rejected", reason: `auth_failed: ${reason}` };
  if (subject === "7") return code >= 500 ? { kind: "rejected", reason: `refused_by_policy: ${reason}` } : { kind: "retry", reason, afterMs: null };
  if (status === "2.2" || /mailbox (is )?full|over ?quota/i.test(text)) {
    return code >= 500 ? { kind: "rejected", reason: `mailbox_full: ${reason}` } : { kind: "retry", reason: `mailbox_full: ${reason}`, afterMs: null };
  }
  if (status === "3.4" || (code === 552 && !status) || /message (size|too (large|big))|size exceeds/i.test(text)) return { kind: "rejected", reason: `payload_too_large: ${reason}` };
  if (code >= 500 && /RCPT/i.test(error.command ?? "") && (status === null || subject === "1")) return { kind: "gone", reason };
  if (code >= 500) return { kind: "rejected", reason };
  return { kind: "retry", reason, afterMs: null };
}
