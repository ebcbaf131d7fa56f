import { expect, test } from "bun:test";
import { Inflight } from "./inflight.ts";

test("acks report each push up to the acked seq once, oldest first; a re-push after FETCH is not timed twice", () => {
  const inflight = new Inflight();
  for (let seq = 1; seq <= 5; seq++) inflight.pushed(seq, 100 + seq);
  inflight.pushed(3, 0); // FETCH rewound to 2 and pushed 3 again
  const reported: number[] = [];
  const report = (ms: number) => reported.push(ms);
  expect(inflight.acked(2, 200, report)).toBe(false);
  expect(reported).toEqual([99, 98]);
  expect(inflight.acked(2, 300, report)).toBe(false);
  expect(reported).toEqual([99, 98]);
  expect(inflight.acked(5, 200, report)).toBe(true);
  expect(reported).toEqual([99, 98, 97, 96, 95]);
});

test("a long-lived queue drops what was acked and stays bounded", () => {
  const inflight = new Inflight();
  let count = 0;
  const report = () => count++;
  // Acks trail pushes by 16, as with a device that always has some in flight: the queue is never empty.
  for (let seq = 1; seq <= 100_000; seq++) {
    inflight.pushed(seq, seq);
    if (seq > 16) expect(inflight.acked(seq - 16, seq, report)).toBe(false);
  }
  expect(count).toBe(100_000 - 16);
  expect(inflight.acked(100_000, 0, report)).toBe(true);
  expect(count).toBe(100_000);
  // Past the cap, pushes are not remembered (and so not timed).
  const full = new Inflight();
  for (let seq = 1; seq <= 5000; seq++) full.pushed(seq, 0);
  let timed = 0;
  full.acked(5000, 0, () => timed++);
  expect(timed).toBe(4096);
});
