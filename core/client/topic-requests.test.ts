// The SDK's topic requests: sent after WELCOME, settled by the answer to the oldest one sent,
// sent again on the next connection when the answer was lost with the old one.
import { expect, test } from "bun:test";
import { type Frame, FrameError, FrameType, WireError } from "../protocol.ts";
import { TopicRequests } from "./topic-requests.ts";

function requests(offsets: Record<string, number> = {}) {
  const sent: Frame[] = [];
  return { sent, topics: new TopicRequests((f) => sent.push(f), (topic) => offsets[topic] ?? null) };
}

test("requests wait for WELCOME, go out in order with the held offset, and settle by their answers", async () => {
  const { sent, topics } = requests({ news: 4 });
  const news = topics.add(FrameType.SUBSCRIBE, "news");
  const gone = topics.add(FrameType.UNSUBSCRIBE, "old");
  expect(sent).toEqual([]);
  topics.welcomed();
  expect(sent).toEqual([
    { type: FrameType.SUBSCRIBE, topic: "news", lastOffset: 4 },
    { type: FrameType.UNSUBSCRIBE, topic: "old" },
  ]);
  // An answer that is not for the oldest request sent is nobody's.
  expect(topics.answered({ type: FrameType.UNSUBSCRIBED, topic: "old" })).toBeNull();
  topics.answered({ type: FrameType.SUBSCRIBED, topic: "news", startOffset: 4 })!.resolve(4);
  topics.answered({ type: FrameType.UNSUBSCRIBED, topic: "old" })!.resolve(0);
  expect(await news).toBe(4);
  expect(await gone).toBe(0);
  topics.add(FrameType.SUBSCRIBE, "live");
  expect(sent.at(-1)).toEqual({ type: FrameType.SUBSCRIBE, topic: "live", lastOffset: null });
});

test("a request unanswered when the connection drops goes out again after the next WELCOME", () => {
  const { sent, topics } = requests();
  topics.welcomed();
  void topics.add(FrameType.SUBSCRIBE, "news");
  topics.connectionLost();
  void topics.add(FrameType.SUBSCRIBE, "sport");
  expect(sent).toHaveLength(1);
  topics.welcomed();
  expect(sent.slice(1).map((f) => (f as { topic: string }).topic)).toEqual(["news", "sport"]);
});

test("a refusal rejects the oldest request sent; a bad name and a stopped client are refused at once", async () => {
  const { sent, topics } = requests();
  topics.welcomed();
  const first = topics.add(FrameType.SUBSCRIBE, "one").catch((e: unknown) => e);
  const second = topics.add(FrameType.SUBSCRIBE, "two").catch((e: unknown) => e);
  topics.refused(WireError.ACK_OUT_OF_RANGE.code, "not a topic matter");
  topics.refused(WireError.TOO_MANY_TOPICS.code, "at most 1");
  expect(await first).toMatchObject({ code: "TOO_MANY_TOPICS" });
  const bad = await topics.add(FrameType.SUBSCRIBE, "a b").catch((e: unknown) => e);
  expect(bad).toBeInstanceOf(FrameError);
  expect((bad as FrameError).code).toBe("TOPIC_INVALID");
  expect(sent).toHaveLength(2);
  topics.stop(new Error("stopped"));
  expect(String(await second)).toContain("stopped");
  expect(String(await topics.add(FrameType.SUBSCRIBE, "later").catch((e: unknown) => e))).toContain("stopped");
});
