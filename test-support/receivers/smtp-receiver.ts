// A real SMTP server (the smtp-server package) standing in for a mail provider: it parses every
// mail it takes with mailparser. Addresses at gone.invalid are refused as unknown mailboxes (550);
// those at the domains in REFUSALS as real servers refuse: a relay or blocklist refusal, a full
// mailbox, a login needed, a size limit, an unknown mailbox with or without an enhanced status code.
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { ReceivedNotification, ReceiverFault } from "../../channels/channel.contract.ts";

/** Recipient domains the receiver refuses at RCPT the way real servers do. */
const REFUSALS: Record<string, { code: number; text: string }> = {
  "policy.invalid": { code: 554, text: "5.7.1 Relay access denied" },
  "full.invalid": { code: 552, text: "5.2.2 Mailbox full" },
  "busy-full.invalid": { code: 452, text: "4.2.2 Mailbox full, try again later" },
  "auth.invalid": { code: 530, text: "5.7.0 Authentication required" },
  "size.invalid": { code: 552, text: "5.3.4 Message size exceeds fixed limit" },
  // Servers that give no enhanced status code after the reply code, or give it where qmail does.
  "relay-plain.invalid": { code: 554, text: "Relay access denied" },
  "rcpthosts.invalid": { code: 553, text: "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)" },
  "blocklist.invalid": { code: 550, text: "Client host [5.1.8.20] blocked using zen.spamhaus.org" },
  "storage.invalid": { code: 552, text: "Requested mail action aborted: exceeded storage allocation" },
  "unavailable.invalid": { code: 550, text: "Requested action not taken: mailbox unavailable" },
  "qmail-nobody.invalid": { code: 550, text: "sorry, no mailbox here by that name. (#5.1.1)" },
};

export type ReceivedMail = { to: string; subject: string; text: string; html: string | null; priority: string | null; headers: Map<string, unknown> };

export async function startSmtpReceiver(): Promise<{
  url: string;
  mails: ReceivedMail[];
  received(): ReceivedNotification[];
  failNext(fault: ReceiverFault): void;
} & AsyncDisposable> {
  const mails: ReceivedMail[] = [];
  let fault: ReceiverFault | null = null;
  const take = () => {
    const f = fault;
    fault = null;
    return f;
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    // A test's hung connection must not hold close() for smtp-server's default 30 s.
    closeTimeout: 200,
    logger: false,
    onRcptTo(address, _session, callback) {
      const f = take();
      if (f?.kind === "hang") return;
      if (f?.kind === "throttle") return callback(Object.assign(new Error("4.7.0 try again later"), { responseCode: 421 }));
      if (f?.kind === "unavailable") return callback(Object.assign(new Error("4.3.0 mailbox temporarily unavailable"), { responseCode: 451 }));
      if (address.address.endsWith("@gone.invalid")) return callback(Object.assign(new Error("5.1.1 no such mailbox"), { responseCode: 550 }));
      // What real servers answer for reasons that say nothing about whether the mailbox exists.
      const refusal = REFUSALS[address.address.split("@")[1] ?? ""];
      if (refusal) return callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push({
            to: session.envelope.rcptTo[0]?.address ?? "",
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            html: typeof mail.html === "string" ? mail.html : null,
            // mailparser folds X-Priority and Importance into one "priority" header.
            priority: (mail.headers.get("priority") as string | undefined) ?? null,
            headers: mail.headers,
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    received: () =>
      mails.map((m) => {
        const seq = m.headers.get("x-pushmesh-seq");
        const data = m.headers.get("x-pushmesh-data");
        return {
          messageId: String(m.headers.get("x-pushmesh-message-id") ?? ""),
          seq: seq === undefined ? null : Number(seq),
          title: m.subject || null,
          body: m.text.replace(/\n$/, "") || null,
          data: data === undefined ? undefined : JSON.parse(Buffer.from(String(data), "base64url").toString()),
        };
      }),
    failNext(f) {
      fault = f;
    },
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
