// A self-signed certificate for a test's TLS listeners, made with openssl in the test's own dir.
import { join } from "node:path";

export async function selfSigned(dir: string, extraIp?: string): Promise<{ cert: string; key: string; pem: string }> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const proc = Bun.spawn(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-addext", `subjectAltName=DNS:localhost,IP:127.0.0.1${extraIp ? `,IP:${extraIp}` : ""}`, "-keyout", key, "-out", cert],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`);
  return { cert, key, pem: await Bun.file(cert).text() };
}
