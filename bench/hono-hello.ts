// The baseline for edge throughput: a Hono hello-world route on Bun, in a process of its own.
import { Hono } from "hono";

const app = new Hono();
app.post("/hello", async (c) => c.json({ hello: (await c.req.json<{ name?: string }>()).name ?? "world" }, 202));
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
process.stdout.write(`http://127.0.0.1:${server.port}\n`);
