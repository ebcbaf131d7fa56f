// The operator credential crosses a network only over TLS: over plain HTTP it is taken from this
// machine (loopback) alone, unless allowPlainOperator says the network is trusted. The edge listens
// on every address and the test reaches it through this machine's own non-loopback address.
import { expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { startTestMesh, tempDir } from "../../test-support/harness.ts";
import { selfSigned } from "../../test-support/tls.ts";

const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

async function fleet(base: string, key: string, pem?: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${base}/v1/nodes/all`, { headers: { authorization: `Bearer ${key}` }, ...(pem ? { tls: { ca: pem } } : {}) } as RequestInit);
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

const reached = (edge: string, address: string) => edge.replace(/\/\/[^:/]+/, `//${address}`);

test.skipIf(!outside)("over plain HTTP from another address the operator credential is refused; from loopback it is taken", async () => {
  await using mesh = await startTestMesh({ host: "0.0.0.0", publicHost: "127.0.0.1" });
  expect(await fleet(reached(mesh.edge, outside!), mesh.operatorKey)).toEqual({ status: 403, code: "OPERATOR_TRANSPORT" });
  expect(await fleet(reached(mesh.edge, "127.0.0.1"), mesh.operatorKey)).toEqual({ status: 200, code: undefined });
  // App keys are not affected: the rule is about the operator's credential.
  expect((await fetch(`${reached(mesh.edge, outside!)}/v1/keys`, { headers: { authorization: `Bearer ${mesh.apiKey}` } })).status).toBe(200);
});

test.skipIf(!outside)("over TLS, or with allowPlainOperator, the operator credential is taken from another address", async () => {
  using dir = tempDir();
  const { cert, key, pem } = await selfSigned(dir.path, outside);
  {
    await using mesh = await startTestMesh({ host: "0.0.0.0", publicHost: "127.0.0.1", tlsCert: cert, tlsKey: key });
    expect(await fleet(reached(mesh.edge, outside!), mesh.operatorKey, pem)).toEqual({ status: 200, code: undefined });
  }
  await using plain = await startTestMesh({ host: "0.0.0.0", publicHost: "127.0.0.1", allowPlainOperator: true });
  expect(await fleet(reached(plain.edge, outside!), plain.operatorKey)).toEqual({ status: 200, code: undefined });
});
