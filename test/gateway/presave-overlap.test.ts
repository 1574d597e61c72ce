// The save before the venue call overlaps the call only where a lost save is harmless: the venue
// refuses a reused client order id AND the order's id is named by the NewOrderSingle itself (its
// sequence and MsgSeqNum), so a resend after a power loss gets the same id and cannot be placed
// twice. The call then starts once the save is written (in the file: it survives kill -9), without
// waiting for its fdatasync; elsewhere it waits for the fdatasync. A save that cannot be written
// (ENOSPC) is never placed, either way. The fdatasync is held here by wrapping the FileHandle's.
import { promises as fsp } from 'fs';
import * as os from 'os';
import { SessionHandle } from '../../src/fix/application';
import { venueClientOrderIdForMessage } from '../../src/gateway/order-validation';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { FsSpy, spyOnFs } from '../support/fs-spy';
import { Harness, fixMessage, startHarness, tick } from '../support/gateway-harness';

const SEQUENCE_ID = Date.UTC(2026, 0, 1, 8, 0, 0);

/** A NewOrderSingle as delivered by the session: MsgSeqNum in its header. */
function nosAt(seq: number, clOrdId: string) {
  return fixMessage(
    'D',
    [
      [11, clOrdId],
      [21, '1'],
      [38, '1'],
      [40, '2'],
      [44, '100'],
      [54, '1'],
      [55, 'BTCUSDT'],
      [59, '1'],
      [60, '20260101-00:00:00.000'],
    ],
    [[34, String(seq)]],
  );
}

type Proto = { datasync: (this: unknown) => Promise<void> };
let proto: Proto;
let realDatasync: Proto['datasync'];
let hold: Promise<void> | undefined;
let h: Harness | undefined;
let spy: FsSpy | undefined;

beforeAll(async () => {
  const fh = await fsp.open(os.tmpdir(), 'r');
  proto = Object.getPrototypeOf(fh) as Proto;
  await fh.close();
  realDatasync = proto.datasync;
});
beforeEach(() => {
  proto.datasync = async function (this: unknown) {
    if (hold) await hold;
    return realDatasync.call(this);
  };
});
afterEach(async () => {
  spy?.restore(); // first: it puts back the wrapper it found
  spy = undefined;
  proto.datasync = realDatasync;
  hold = undefined;
  await h?.close();
  h = undefined;
});

async function start(refusesReusedClientOrderId: boolean, sequenceSurvivesRestart = true): Promise<Harness> {
  h = await startHarness({ venue: new FakeVenueAdapter({ refusesReusedClientOrderId }), sequenceSurvivesRestart });
  (h.session as SessionHandle & { sequenceId: () => number }).sequenceId = () => SEQUENCE_ID;
  return h;
}

test('a venue that refuses a reused id: the create goes out while the save is written but not yet flushed, with the id the message names', async () => {
  const g = await start(true);
  let release!: () => void;
  hold = new Promise<void>((r) => (release = r));
  const accepted = g.deliver(nosAt(7, 'C1'));
  await g.venue.whenCalled('placeOrder', 1, 2000);
  // The FIX layer's acceptance (its target seqnum barrier) waits for nothing more than the write.
  await accepted;
  release();
  await g.session.until((s) => s.some((m) => m.get(11) === 'C1' && m.get(150) === '0'), 2000, 'ack of C1');
  const placed = g.venue.calls.find((c) => c.op === 'placeOrder')!.arg as { clientOrderId: string };
  expect(placed.clientOrderId).toBe(venueClientOrderIdForMessage('CLIENT', SEQUENCE_ID, 7, 36));
});

test('a venue that does not refuse a reused id: the create waits for the flush', async () => {
  const g = await start(false);
  let release!: () => void;
  hold = new Promise<void>((r) => (release = r));
  void g.deliver(nosAt(7, 'C1'));
  await tick(100);
  expect(g.venue.calledTimes('placeOrder')).toBe(0);
  release();
  await g.venue.whenCalled('placeOrder', 1, 2000);
});

test('a session that resets its sequence at Logon (the client would not resend): the create waits for the flush', async () => {
  const g = await start(true, false);
  let release!: () => void;
  hold = new Promise<void>((r) => (release = r));
  void g.deliver(nosAt(7, 'C1'));
  await tick(100);
  expect(g.venue.calledTimes('placeOrder')).toBe(0);
  release();
  await g.venue.whenCalled('placeOrder', 1, 2000);
});

test('a save that cannot be written is never placed, with the overlap too: 150=8 naming the storage failure', async () => {
  spy = await spyOnFs(); // before the journal is opened: it learns the handle's path
  const g = await start(true);
  spy.failNext('write', g.book.file, 'ENOSPC');
  await g.deliver(nosAt(7, 'C1'));
  await g.session.until((s) => s.some((m) => m.get(11) === 'C1' && m.get(150) === '8'), 2000, 'reject of C1');
  expect(g.session.sent.find((m) => m.get(11) === 'C1')!.get(58)).toMatch(/storage failure: ENOSPC/);
  await tick(50);
  expect(g.venue.calledTimes('placeOrder')).toBe(0);
});
