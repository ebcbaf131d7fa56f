// TLS on both relay listeners, with a self-signed certificate the test makes and the SDK trusts.
import { expect, test } from "bun:test";
import { type TcpConnect, tcpTransport, webSocketTransport } from "../../core/client/transport.ts";
import { selfSigned } from "../../test-support/tls.ts";
import { connectDevice, startTestMesh, tempDir } from "../../test-support/harness.ts";

test("a device connects over wss:// and over TLS on raw TCP and receives a push", async () => {
  using dir = tempDir();
  const { cert, key, pem } = await selfSigned(dir.path);
  await using mesh = await startTestMesh({ tlsCert: cert, tlsKey: key });
  expect(mesh.ws).toStartWith("wss://");
  expect(mesh.tcp).toStartWith("tls://");
  // The edge serves TLS with the same certificate; trusting it is enough.
  expect(mesh.edge).toStartWith("https://");
  const nodes = await (await fetch(`${mesh.edge}/v1/nodes`, { tls: { ca: pem } } as RequestInit)).json() as { nodes: { ws: string; tcp: string }[] };
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
