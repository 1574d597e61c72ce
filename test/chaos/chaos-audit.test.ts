// The fault suite's audit (chaos-rig.ts auditTruth) on hand-made records: it must find a venue
// order the client was never told of (lost), a fill reported twice or beyond the venue's (duplicated),
// an order whose last status is not the venue's, and a MsgSeqNum that never arrived; and pass a
// clean record. Without this the chaos table's zeros would prove nothing.
import { encodeFix } from '../../src/fix/codec/fix-encoder';
import { parseFrame } from '../../src/fix/codec/fix-parser';
import { FixMsg } from '../support/fix-test-client';
import { RecordedMessage, SimOrderView } from '../support/gateway-e2e';
import { auditTruth } from './chaos-rig';

const CLIENT = 'CHAOSTEST';

function msg(seq: number, type: string, body: [number, string][], possDup = false): FixMsg {
  const header: [number, string][] = [[34, String(seq)], [49, 'GATEWAY'], [52, '20260101-00:00:00.000'], [56, CLIENT]];
  if (possDup) header.push([43, 'Y']);
  const raw = encodeFix('FIX.4.2', [{ tag: 35, value: type }, ...[...header, ...body].map(([tag, value]) => ({ tag, value }))]);
  const p = parseFrame(raw);
  if (!p.ok) throw new Error(p.reason);
  return new FixMsg(raw, p.message.fields, 0, 0);
}

function er(seq: number, cl: string, f: { et: string; st: string; cum: string; leaves: string; last?: string; px?: string; avg?: string; execId: string; oid?: string }, possDup = false): FixMsg {
  return msg(
    seq,
    '8',
    [
      [6, f.avg ?? '0'],
      [11, cl],
      [14, f.cum],
      [17, f.execId],
      [20, '0'],
      [31, f.px ?? '0'],
      [32, f.last ?? '0'],
      [37, f.oid ?? 'V1'],
      [38, '0.002'],
      [39, f.st],
      [54, '1'],
      [55, 'BTCUSDT'],
      [150, f.et],
      [151, f.leaves],
    ],
    possDup,
  );
}

function venueOrder(o: Partial<SimOrderView>): SimOrderView {
  return {
    orderId: 'V1',
    account: 'a',
    clientOrderId: 'c',
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'limit',
    timeInForce: 'GTC',
    postOnly: false,
    qty: '0.002',
    price: '50000',
    status: 'filled',
    cumQty: '0.002',
    avgPrice: '50000',
    leavesQty: '0',
    resting: false,
    fills: [],
    ...o,
  };
}

function run(received: FixMsg[], venueOrders: SimOrderView[], orders = ['A']) {
  const recorded: RecordedMessage[] = received.map((m) => ({ dir: 'in', raw: m.raw }));
  return auditTruth({ venueOrders, received, recorded, orders: new Map(orders.map((o) => [o, {}])), cancels: new Map(), compId: CLIENT });
}

const ack = (seq: number) => er(seq, 'A', { et: '0', st: '0', cum: '0', leaves: '0.002', execId: 'E0' });
const fill1 = (seq: number) => er(seq, 'A', { et: '1', st: '1', cum: '0.001', leaves: '0.001', last: '0.001', px: '50000', avg: '50000', execId: 'E1' });
const fill2 = (seq: number) => er(seq, 'A', { et: '2', st: '2', cum: '0.002', leaves: '0', last: '0.001', px: '50000', avg: '50000', execId: 'E2' });

test('a clean record: nothing lost, nothing duplicated, no problems', () => {
  const a = run([ack(1), fill1(2), fill2(3)], [venueOrder({})]);
  expect([a.lost, a.duplicated, a.problems, a.unsettled]).toEqual([[], [], [], 0]);
});

test('a venue order no ClOrdID reports is lost', () => {
  const a = run([ack(1), fill1(2), fill2(3)], [venueOrder({}), venueOrder({ orderId: 'V2', status: 'new', cumQty: '0' })]);
  expect(a.lost).toEqual([expect.stringMatching(/venue order V2 .* no ClOrdID/)]);
});

test('a venue fill never reported is lost, and the order is unsettled', () => {
  const a = run([ack(1), fill1(2)], [venueOrder({})]);
  expect(a.lost).toEqual(expect.arrayContaining([expect.stringMatching(/ends 39=1, the venue says filled/), expect.stringMatching(/sum to 0.001, the venue filled 0.002/)]));
  expect(a.unsettled).toBeGreaterThan(0);
});

test('a fill reported twice (new ExecID) is duplicated; the same ExecID again live is duplicated too; as a PossDup resend it is not', () => {
  const twice = er(4, 'A', { et: '1', st: '1', cum: '0.001', leaves: '0.001', last: '0.001', px: '50000', avg: '50000', execId: 'E1b' });
  expect(run([ack(1), fill1(2), fill2(3), twice], [venueOrder({})]).duplicated).toEqual([expect.stringMatching(/sum to 0.003, the venue filled 0.002/)]);
  const again = msg(4, '8', fill1(2).fields.filter((f) => ![8, 9, 10, 34, 35, 49, 52, 56].includes(f.tag)).map((f) => [f.tag, f.value]));
  expect(run([ack(1), fill1(2), fill2(3), again], [venueOrder({})]).duplicated).toEqual([expect.stringMatching(/ExecID E1 reported twice/)]);
  const resent = er(2, 'A', { et: '1', st: '1', cum: '0.001', leaves: '0.001', last: '0.001', px: '50000', avg: '50000', execId: 'E1' }, true);
  expect(run([ack(1), fill1(2), fill2(3), resent], [venueOrder({})]).duplicated).toEqual([]);
});

test('one ClOrdID with two venue orders is duplicated', () => {
  const second = er(4, 'A', { et: '0', st: '2', cum: '0.002', leaves: '0', execId: 'E9', oid: 'V2', avg: '50000' });
  const a = run([ack(1), fill1(2), fill2(3), second], [venueOrder({}), venueOrder({ orderId: 'V2' })]);
  expect(a.duplicated).toEqual(expect.arrayContaining([expect.stringMatching(/A: reported with venue orders V1, V2/)]));
});

test('an order the client believes live that the venue does not have is lost; one it was told is rejected is fine', () => {
  expect(run([ack(1)], []).lost).toEqual([expect.stringMatching(/ends 39=0 but the venue has no such order/)]);
  const rej = er(1, 'A', { et: '8', st: '8', cum: '0', leaves: '0', execId: 'R', oid: 'NONE' });
  expect(run([rej], []).lost).toEqual([]);
});

test('a ClOrdID sent and never answered is lost; a MsgSeqNum that never arrived is a problem', () => {
  expect(run([ack(1), fill1(2), fill2(3)], [venueOrder({})], ['A', 'B']).lost).toEqual([expect.stringMatching(/B: no report/)]);
  expect(run([ack(1), fill2(3)], [venueOrder({})]).problems).toEqual(expect.arrayContaining([expect.stringMatching(/MsgSeqNum never received .*: 2/)]));
});
