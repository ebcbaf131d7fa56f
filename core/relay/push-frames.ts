// The frames a relay builds around stored messages: PUSH for a device's inbox, TOPIC_PUSH for a
// topic's stream, the body spliced in as the bytes the edge encoded. A message no frame can carry
// (too large, a body the store could not turn into bytes) gets the reason instead, so the caller
// can move past it: one message must never block a device or a topic.
import { encodePushFrame, encodeTopicPushFrame } from "../codec.ts";
import { uuidToBytes } from "../protocol.ts";
import type { InboxMessage, Payload, TopicMessage } from "../store.ts";

/** The PUSH frame for an inbox row, or why there can be none. */
export function pushFrameOf(message: InboxMessage, maxFrameBytes: number): Uint8Array | string {
  return framed(message.data, maxFrameBytes, (data) =>
    encodePushFrame({
      seq: message.seq,
      messageId: uuidToBytes(message.messageId),
      priority: message.priority,
      data,
      sentAt: message.createdAt,
      collapseKey: message.collapseKey,
    }),
  );
}

/** The TOPIC_PUSH frame for a stored topic message, or why there can be none. */
export function topicPushFrameOf(topic: string, row: TopicMessage, maxFrameBytes: number): Uint8Array | string {
  return framed(row.data, maxFrameBytes, (data) =>
    encodeTopicPushFrame({ topic, offset: row.offset, messageId: uuidToBytes(row.messageId), priority: row.priority, data, sentAt: row.createdAt }),
  );
}

function framed(data: Payload, maxFrameBytes: number, encode: (data: Uint8Array) => Uint8Array): Uint8Array | string {
  if (!(data instanceof Uint8Array)) return data.undeliverable;
  let frame: Uint8Array;
  try {
    frame = encode(data);
  } catch (error) {
    return `unencodable: ${error instanceof Error ? error.message : String(error)}`;
  }
  return frame.length > maxFrameBytes ? `frame_too_large: ${frame.length} bytes, the maximum frame is ${maxFrameBytes}` : frame;
}
