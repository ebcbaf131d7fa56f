// Provider credentials at rest: sealed with AES-256-GCM under a key of the mesh's own (a mesh
// secret in the store, or config `credentialsKey`), so a copy of the database alone does not
// hold an app's VAPID, FCM, APNs or SMTP secrets. Web Crypto only: core imports no runtime.
import { base64url, fromBase64url } from "./ids.ts";

const encoder = new TextEncoder();

export type Sealer = { seal(value: unknown): Promise<string>; open<T>(sealed: string): Promise<T> };

export async function sealerFor(secret: string): Promise<Sealer> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`pushmesh credentials\u0000${secret}`));
  const key = await crypto.subtle.importKey("raw", digest, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return {
    async seal(value) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(JSON.stringify(value))));
      return `${base64url(iv)}.${base64url(sealed)}`;
    },
    async open<T>(sealed: string) {
      const [iv, data] = sealed.split(".");
      if (!iv || !data) throw new Error("not sealed credentials");
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(fromBase64url(iv)) }, key, new Uint8Array(fromBase64url(data)));
      return JSON.parse(new TextDecoder().decode(plain)) as T;
    },
  };
}

const sealers = new WeakMap<object, Promise<Sealer>>();

/** The mesh's sealer: from `key` when given (config `credentialsKey`), else from a secret the store makes once and keeps. */
export function meshSealer(store: { meshSecret(name: string): Promise<string> }, key?: string): Promise<Sealer> {
  let sealer = sealers.get(store);
  if (!sealer) {
    sealer = (key ? Promise.resolve(key) : store.meshSecret("channel-credentials")).then(sealerFor);
    sealer.catch(() => sealers.delete(store));
    sealers.set(store, sealer);
  }
  return sealer;
}
