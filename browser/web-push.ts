// Web Push for a browser page and its service worker. The page subscribes with the app's VAPID
// public key and registers the subscription as the device's endpoint (PUT /v1/devices/{id}/channels);
// the service worker shows each push as a notification and hands it to open pages, whose
// PushClient.acceptPushed gives it to the app once, whichever of push and socket comes first.
import type { PushClient } from "../core/client/client.ts";
import type { PushedMessage } from "../core/client/client-types.ts";

/** The message the service worker posts to pages. */
export const PUSHED_MESSAGE_TYPE = "pushmesh:pushed";

/** Subscribes the registration to push and answers the endpoint to register for the device. */
export async function subscribeToWebPush(registration: ServiceWorkerRegistration, vapidPublicKey: string) {
  const key = Uint8Array.from(atob(vapidPublicKey.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const json = subscription.toJSON();
  return { kind: "webpush" as const, endpoint: json.endpoint!, p256dh: json.keys!.p256dh!, auth: json.keys!.auth! };
}

/** In a page: hands what the service worker posts to the client. Returns a function that stops it. */
export function acceptPushesFromServiceWorker(client: PushClient, container: ServiceWorkerContainer | undefined = globalThis.navigator?.serviceWorker): () => void {
  if (!container) return () => {};
  const listener = (event: MessageEvent) => {
    if (event.data?.type === PUSHED_MESSAGE_TYPE) void client.acceptPushed(event.data.message as PushedMessage);
  };
  container.addEventListener("message", listener);
  return () => container.removeEventListener("message", listener);
}

type PushEventLike = { data: { json(): unknown } | null; waitUntil(p: Promise<unknown>): void };
type WorkerScope = {
  registration: { showNotification(title: string, options: { body?: string; tag?: string; data?: unknown }): Promise<void> };
  clients: { matchAll(o: { type: "window"; includeUncontrolled: boolean }): Promise<{ postMessage(m: unknown): void }[]> };
  addEventListener(type: "push", listener: (event: PushEventLike) => void): void;
};

/** In the service worker (`importScripts` or a module worker): shows each push and hands it to open pages. */
export function handlePushesInServiceWorker(scope: WorkerScope): void {
  scope.addEventListener("push", (event) => {
    const message = event.data?.json() as (PushedMessage & { title?: string | null; body?: string | null }) | undefined;
    if (!message?.messageId) return;
    event.waitUntil(
      (async () => {
        for (const page of await scope.clients.matchAll({ type: "window", includeUncontrolled: true })) page.postMessage({ type: PUSHED_MESSAGE_TYPE, message });
        // The tag is the message id: a push that comes twice replaces its own notification.
        await scope.registration.showNotification(message.title ?? "", { body: message.body ?? undefined, tag: message.messageId, data: message });
      })(),
    );
  });
}
