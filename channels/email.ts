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
  // The server's line already starts with its code; the code is added only where it does not.
  const reason = code && text.startsWith(String(code)) ? text.trim() : `${code || error.code || "error"} ${text}`.trim();
  const status = enhancedStatus(text);
  const subject = status?.split(".")[0] ?? null;
  if (error.code === "EAUTH" || code === 530 || code === 535 || status === "7.8") return { kind: "rejected", reason: `auth_failed: ${reason}` };
  if (subject === "7" || (status === null && POLICY_TEXT.test(text))) {
    return code >= 500 ? { kind: "rejected", reason: `refused_by_policy: ${reason}` } : { kind: "retry", reason, afterMs: null };
  }
  // X.2.3 and X.3.4: the message is too long for the mailbox or the system.
  const tooLarge = status === "3.4" || status === "2.3" || (status === null && /message (size|too (large|big))|size exceeds/i.test(text));
  // RFC 5321's text for a bare 552 is "exceeded storage allocation": the mailbox's, not the message's.
  if (!tooLarge && (status === "2.2" || (status === null && code === 552) || /mailbox (is )?full|over ?quota/i.test(text))) {
    return code >= 500 ? { kind: "rejected", reason: `mailbox_full: ${reason}` } : { kind: "retry", reason: `mailbox_full: ${reason}`, afterMs: null };
  }
  if (tooLarge) return { kind: "rejected", reason: `payload_too_large: ${reason}` };
  // Without an enhanced code, 550 (mailbox unavailable), 551 (user not local) and 553 (mailbox name
  // not allowed) are about the mailbox; 554 (transaction failed) is what blocklists answer.
  const unknownMailbox = status === null ? [550, 551, 553].includes(code) : code >= 500 && subject === "1";
  if (/RCPT/i.test(error.command ?? "") && unknownMailbox) return { kind: "gone", reason };
  if (code >= 500) return { kind: "rejected", reason };
  return { kind: "retry", reason, afterMs: null };
}

/** What servers that give no enhanced status code say when they refuse by policy. */
const POLICY_TEXT = /relay|rcpthosts|spam|block|blacklist|dnsbl|policy|reputation/i;

/**
 * RFC 3463's enhanced status code (class.subject.detail) as "subject.detail", read only where
 * servers put it: right after the reply code (RFC 2034), or at the end as qmail's "(#5.7.1)".
 * Anywhere else an IP address in the text ("[5.1.8.20] blocked") would pass for one.
 */
function enhancedStatus(text: string): string | null {
  const match = /^(?:\d{3}[ -])?[245]\.(\d{1,3}\.\d{1,3})\b/m.exec(text) ?? /\(#[245]\.(\d{1,3}\.\d{1,3})\)/.exec(text);
  return match?.[1] ?? null;
}
