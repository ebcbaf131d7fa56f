import { createServer } from "node:net";
import { expect, test } from "bun:test";
import { startSmtpReceiver } from "../test-support/receivers/smtp-receiver.ts";
import { channelContract, sampleMessage } from "./channel.contract.ts";
import { createEmailAdapter } from "./email.ts";

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

channelContract("email", async () => {
  const receiver = await startSmtpReceiver();
  const adapter = createEmailAdapter({ credentials: { url: receiver.url, from: "pushmesh@example.com" }, timeoutMs: 1500 });
  const down = createEmailAdapter({ credentials: { url: `smtp://127.0.0.1:${await closedPort()}`, from: "pushmesh@example.com" }, timeoutMs: 1500 });
  return {
    adapter,
    endpoint: { kind: "email", address: "reader@example.com" },
    goneEndpoint: { kind: "email", address: "nobody@gone.invalid" },
    sendWhileDown: (m) => down.send({ kind: "email", address: "reader@example.com" }, m),
    failNext: receiver.failNext,
    received: receiver.received,
    retryAfter: false,
    async [Symbol.asyncDispose]() {
      await adapter.close();
      await down.close();
      await receiver[Symbol.asyncDispose]();
    },
  };
});

test("an email variant arrives as HTML beside its text; high priority is marked; the Message-ID names the message", async () => {
  await using receiver = await startSmtpReceiver();
  const adapter = createEmailAdapter({ credentials: { url: receiver.url, from: "pushmesh@example.com" } });
  try {
    const email = { subject: "Your order", text: "Order 7 shipped", html: "<p>Order <b>7</b> shipped</p>" };
    expect((await adapter.send({ kind: "email", address: "a@example.com" }, sampleMessage({ email }))).kind).toBe("accepted");
    const [mail] = receiver.mails;
    expect(mail).toMatchObject({ to: "a@example.com", subject: "Your order", html: "<p>Order <b>7</b> shipped</p>" });
    expect(mail!.text.trim()).toBe("Order 7 shipped");
    expect(mail!.priority).toBe("high");
    expect(String(mail!.headers.get("message-id"))).toContain("m-contract-1");
  } finally {
    await adapter.close();
  }
});

test("only a mailbox that does not exist is gone: a policy refusal, a full mailbox, a login needed or a size limit remove nothing", async () => {
  await using receiver = await startSmtpReceiver();
  const adapter = createEmailAdapter({ credentials: { url: receiver.url, from: "Alerts <alerts@shop.example>" } });
  try {
    const outcome = (address: string) => adapter.send({ kind: "email", address }, sampleMessage());
    const reasons: [string, string, unknown][] = [];
    for (const address of ["a@gone.invalid", "a@policy.invalid", "a@full.invalid", "a@busy-full.invalid", "a@auth.invalid", "a@size.invalid"]) {
      const o = await outcome(address);
      reasons.push([address, o.kind, "reason" in o ? o.reason.split(":")[0]! : ""]);
    }
    expect(reasons).toEqual([
      ["a@gone.invalid", "gone", expect.stringContaining("5.1.1 no such mailbox")],
      ["a@policy.invalid", "rejected", "refused_by_policy"],
      ["a@full.invalid", "rejected", "mailbox_full"],
      ["a@busy-full.invalid", "retry", "mailbox_full"],
      ["a@auth.invalid", "rejected", "auth_failed"],
      ["a@size.invalid", "rejected", "payload_too_large"],
    ]);
    // The Message-ID's domain is the sender's, and the same message to the same device has the same one.
    expect((await outcome("b@example.com")).kind).toBe("accepted");
    expect((await outcome("b@example.com")).kind).toBe("accepted");
    const ids = receiver.mails.map((m) => String(m.headers.get("message-id")));
    expect(ids[0]).toMatch(/^<m-contract-1\..+@shop\.example>$/);
    expect(ids[1]).toBe(ids[0]);
  } finally {
    await adapter.close();
  }
});

test("a refusal without an enhanced status code, or with an IP address in its text, is read by what it says: only an unknown mailbox is gone", async () => {
  await using receiver = await startSmtpReceiver();
  const adapter = createEmailAdapter({ credentials: { url: receiver.url, from: "alerts@shop.example" } });
  try {
    const reasons: [string, string, string][] = [];
    for (const domain of ["relay-plain", "rcpthosts", "blocklist", "storage", "unavailable", "qmail-nobody"]) {
      const o = await adapter.send({ kind: "email", address: `a@${domain}.invalid` }, sampleMessage());
      reasons.push([domain, o.kind, "reason" in o ? o.reason.split(":")[0]! : ""]);
    }
    expect(reasons).toEqual([
      ["relay-plain", "rejected", "refused_by_policy"],
      ["rcpthosts", "rejected", "refused_by_policy"],
      // The "5.1.8" inside the client's IP address is not an enhanced status code (5.1.x at RCPT would be gone).
      ["blocklist", "rejected", "refused_by_policy"],
      // RFC 5321's text for 552 is the mailbox's storage, not the message's size.
      ["storage", "rejected", "mailbox_full"],
      ["unavailable", "gone", "550 Requested action not taken"],
      ["qmail-nobody", "gone", "550 sorry, no mailbox here by that name. (#5.1.1)"],
    ]);
    expect(receiver.mails).toEqual([]);
  } finally {
    await adapter.close();
  }
});

test("without a domain in the from-address the Message-ID's domain is pushmesh.invalid", async () => {
  await using receiver = await startSmtpReceiver();
  const adapter = createEmailAdapter({ credentials: { url: receiver.url, from: "pushmesh" } });
  try {
    expect((await adapter.send({ kind: "email", address: "b@example.com" }, sampleMessage())).kind).toBe("accepted");
    expect(String(receiver.mails[0]!.headers.get("message-id"))).toBe("<m-contract-1.dev-1@pushmesh.invalid>");
  } finally {
    await adapter.close();
  }
});
