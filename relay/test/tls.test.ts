// TLS on both relay listeners, with a self-signed certificate the test makes and the SDK trusts.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { type TcpConnect, tcpTransport, webSocketTransport } from "../../core/client/transport.ts";
import { connectDevice, startTestMesh, tempDir } from "../../test-support/harness.ts";

async function selfSigned(dir: string): Promise<{ cert: string; key: string; pem: string }> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const proc = Bun.spawn(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`);
  return { cert, key, pem: await Bun.file(cert).text() };
}

test("a device connects over wss:// and over TLS on raw TCP and receives a push", async () => {
  using dir = tempDir();
  const { cert, key, pem } = await selfSigned(dir.path);
  await using mesh = await startTestMesh({ tlsCert: cert, tlsKey: key });
  expect(mesh.ws).toStartWith("wss://");
  expect(mesh.tcp).toStartWith("tls://");
  const nodes = await (await fetch(`${mesh.edge}/v1/nodes`)).json() as { nodes: { ws: string; tcp: string }[] };
  expect(nodes.nodes[0]).toMatchObject({ ws: mesh.ws, tcp: mesh.tcp });

  // Trusts exactly this certificate: a failed verification would never connect.
  const TrustingWebSocket = class extends WebSocket {
    constructor(url: string) {
      super(url, { tls: { ca: pem } } as unknown as string[]);
    }
  };
  const wsCreds = await mesh.device("secure-ws");
  const tcpCreds = await mesh.device("secure-tcp");
  await using overWss = await connectDevice(mesh.ws, wsCreds, { transportFactory: webSocketTransport(TrustingWebSocket as never) });
  await using overTls = await connectDevice(mesh.tcp, tcpCreds, {
    transportFactory: tcpTransport(Bun.connect as unknown as TcpConnect, { tls: { ca: pem, serverName: "localhost" } }),
  });
  await mesh.send("secure-ws", { over: "wss" });
  await mesh.send("secure-tcp", { over: "tls" });
  await overWss.waitFor(1);
  await overTls.waitFor(1);
  expect(overWss.received[0]?.data).toEqual({ over: "wss" });
  expect(overTls.received[0]?.data).toEqual({ over: "tls" });
});

test("a client that does not trust the certificate cannot connect", async () => {
  using dir = tempDir();
  const { cert, key } = await selfSigned(dir.path);
  await using mesh = await startTestMesh({ tlsCert: cert, tlsKey: key });
  const creds = await mesh.device("untrusting");
  await using device = await connectDevice(mesh.tcp, creds, { transportFactory: tcpTransport(Bun.connect as unknown as TcpConnect) });
  await device.waitForEvent("disconnected");
  expect(device.events.some((e) => e.type === "connected")).toBe(false);
  await mesh.send("untrusting", { never: true });
  await Bun.sleep(300);
  expect(device.received).toHaveLength(0);
});
