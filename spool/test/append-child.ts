// Appends to a spool file until killed, printing each message id once its append resolved: what
// the edge would have answered 202 "queued" for. spool/test/durability.test.ts kills it with -9.
import { openSpoolFile } from "../spool-file.ts";

const spool = await openSpoolFile(process.argv[2]!, { maxEntries: 1_000_000, maxBytes: 1 << 30 });
for (let n = 0; ; n++) {
  const messageId = `m-${String(n).padStart(6, "0")}`;
  await spool.append({ appId: "app", messageId, acceptedAt: Date.now(), request: { to: { deviceId: "d" }, data: { n } } });
  process.stdout.write(`${messageId}\n`);
}
