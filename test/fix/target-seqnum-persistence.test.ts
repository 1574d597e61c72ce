// The next expected seqnum reaches the store only after the application accepted the messages
// before it, and preferably together with the next outgoing message.
import { TargetSeqNumPersistence } from '../../src/fix/target-seqnum-persistence';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeStore() {
  const writes: number[] = [];
  return { writes, setNextTargetSeqNum: (n: number) => (writes.push(n), Promise.resolve()) };
}

test('waits for the acceptance of earlier messages before writing', async () => {
  const store = fakeStore();
  const p = new TargetSeqNumPersistence(store, 1, (err) => { throw err; });
  let accept!: () => void;
  p.request(2, new Promise<void>((r) => (accept = r)));
  p.request(3);
  await sleep(60);
  expect(store.writes).toEqual([]);
  accept();
  await sleep(80);
  expect(store.writes[store.writes.length - 1]).toBe(3);
});

test('a rejected acceptance does not block persistence for good', async () => {
  const store = fakeStore();
  const p = new TargetSeqNumPersistence(store, 1, () => undefined);
  p.request(2, Promise.reject(new Error('app failed')));
  await p.flush();
  expect(store.writes).toEqual([2]);
});

test('a waiting value rides along with the next append (no 20 ms wait); flush writes at once', async () => {
  const store = fakeStore();
  const p = new TargetSeqNumPersistence(store, 1, () => undefined);
  p.request(2);
  await sleep(0);
  await sleep(0);
  p.rideAlong();
  expect(store.writes).toEqual([2]);
  p.request(3);
  await p.flush();
  expect(store.writes).toEqual([2, 3]);
});

test('after beginReset nothing pending of the old sequence is recorded as persisted; resetTo sets the new base', async () => {
  const store = fakeStore();
  const p = new TargetSeqNumPersistence(store, 5, () => undefined);
  p.request(6);
  await p.beginReset();
  p.resetTo(1);
  p.request(1); // equal to the base: nothing to write, and flush() must still end
  await p.flush();
  p.request(2);
  await p.flush();
  expect(store.writes[0]).toBe(6); // what was pending is written before the reset
  expect(store.writes.slice(-1)).toEqual([2]);
});
