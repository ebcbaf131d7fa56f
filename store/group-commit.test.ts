// The group commit's queueing and failure handling, against a fake store that records each
// transaction it is asked to run. The SQL itself is covered by the store contract.
import { expect, test } from "bun:test";
import { GroupCommit, type RunBatch } from "./group-commit.ts";

/** Each write is one statement whose text is the write; a write named "bad" fails its transaction. */
function fakeStore(options: { slow?: boolean } = {}) {
  const transactions: string[][] = [];
  const run: RunBatch = async (statements) => {
    const texts = statements.map((s) => s.sql);
    transactions.push(texts);
    if (options.slow) await new Promise((r) => setTimeout(r, 20));
    if (texts.includes("bad")) throw new Error("UNIQUE constraint failed: idempotency_keys.key");
    return texts.map((t) => ({ rows: [{ echo: t }] }));
  };
  const commit = new GroupCommit<string, string>(run, (writes) => ({
    statements: writes.map((w) => ({ sql: w, args: [] })),
    read: (results) => results.map((r) => `${r.rows[0]!.echo} ok`),
  }));
  return { commit, transactions };
}

test("writes queued in one synchronous stretch run as one transaction, in call order", async () => {
  const { commit, transactions } = fakeStore();
  const results = await Promise.all(["a", "b", "c"].map((w) => commit.write(w)));
  expect(results).toEqual(["a ok", "b ok", "c ok"]);
  expect(transactions).toEqual([["a", "b", "c"]]);
  await commit.write("d");
  expect(transactions).toEqual([["a", "b", "c"], ["d"]]);
});

test("a failed group is written again one write at a time, in order: only the bad write fails", async () => {
  const { commit, transactions } = fakeStore();
  const results = await Promise.allSettled(["a", "bad", "c"].map((w) => commit.write(w)));
  expect(results.map((r) => (r.status === "fulfilled" ? r.value : String(r.reason)))).toEqual([
    "a ok",
    "Error: UNIQUE constraint failed: idempotency_keys.key",
    "c ok",
  ]);
  expect(transactions).toEqual([["a", "bad", "c"], ["a"], ["bad"], ["c"]]);
});

test("writes queued while a group is being written wait for it and go together in the next", async () => {
  const { commit, transactions } = fakeStore({ slow: true });
  const first = commit.write("a");
  await new Promise((r) => setTimeout(r, 5));
  const later = [commit.write("b"), commit.write("c")];
  await Promise.all([first, ...later]);
  expect(transactions).toEqual([["a"], ["b", "c"]]);
});

test("a result that cannot be read after the commit is reported, never written again", async () => {
  const transactions: number[] = [];
  const commit = new GroupCommit<string, string>(
    async (statements) => {
      transactions.push(statements.length);
      return [];
    },
    (writes) => ({
      statements: writes.map((w) => ({ sql: w, args: [] })),
      read: () => {
        throw new Error("unreadable");
      },
    }),
  );
  const results = await Promise.allSettled([commit.write("a"), commit.write("b")]);
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  expect(transactions).toEqual([2]);
});

test("a group takes at most maxWrites; the rest follow in order", async () => {
  const transactions: string[][] = [];
  const commit = new GroupCommit<string, string>(
    async (statements) => {
      transactions.push(statements.map((s) => s.sql));
      return [];
    },
    (writes) => ({ statements: writes.map((w) => ({ sql: w, args: [] })), read: () => writes }),
    2,
  );
  await Promise.all(["a", "b", "c"].map((w) => commit.write(w)));
  expect(transactions).toEqual([["a", "b"], ["c"]]);
});

test("a failure of the store itself fails the whole group at once, without a retry per write", async () => {
  const transactions: number[] = [];
  const commit = new GroupCommit<string, string>(
    async (statements) => {
      transactions.push(statements.length);
      throw new Error("SQLITE_BUSY: database is locked");
    },
    (writes) => ({ statements: writes.map((w) => ({ sql: w, args: [] })), read: () => writes }),
  );
  const results = await Promise.allSettled(["a", "b", "c"].map((w) => commit.write(w)));
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
  expect(transactions).toEqual([3]);
});
