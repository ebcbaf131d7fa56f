// http_ece ships no types; the receiver uses its decrypt only.
declare module "http_ece" {
  const ece: {
    decrypt(buffer: Buffer, params: { version: "aes128gcm" | "aesgcm"; privateKey?: unknown; authSecret?: string; dh?: string }): Buffer;
  };
  export default ece;
}
