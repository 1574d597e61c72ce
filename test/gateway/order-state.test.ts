import Decimal from 'decimal.js';
import { OrderEvent, SYNTHETIC_FILL_ID_PREFIX, VenueFill, VenueOrder, gatewayFillId } from '../../src/venues/venue';
import { GatewayOrder, createOrder } from '../../src/gateway/order';
import {
  Report,
  Transition,
  applyVenueEvent,
  applyVenueSnapshot,
  beginCancel,
  cancelRejected,
  ordRejReasonFor,
  ordRejReasonForVenueReject,
  pendingNewReport,
  rejectReport,
  statusReport,
} from '../../src/gateway/order-state';

const T0 = 1_700_000_000_000;

function order(over: Partial<Parameters<typeof createOrder>[0]> = {}): GatewayOrder {
  return createOrder(
    {
      clOrdId: 'C1',
      venueClientOrderId: 'S1-k1',
      symbol: 'BTCUSDT',
      side: '1',
      ordType: '2',
      timeInForce: '1',
      orderQty: '1',
      price: '100',
      ...over,
    },
    T0,
  );
}

type Kind = OrderEvent['kind'];
let t = T0;
function ev(kind: Kind, extra: Record<string, unknown> = {}): OrderEvent {
  t += 1;
  return { kind, clientOrderId: 'S1-k1', venueOrderId: 'V1', rawStatus: kind, time: t, source: 'stream', ...extra } as OrderEvent;
}
function fill(fillId: string, qty: string, price: string, cumQty?: string): OrderEvent {
  const f: VenueFill = { fillId, qty, price, time: ++t };
  return ev('fill', cumQty === undefined ? { fill: f } : { fill: f, cumQty });
}
function snap(over: Partial<VenueOrder>): VenueOrder {
  return {
    clientOrderId: 'S1-k1',
    venueOrderId: 'V1',
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'limit',
    quantity: '1',
    price: '100',
    status: 'new',
    rawStatus: 'NEW',
    filledQty: '0',
    updateTime: ++t,
    ...over,
  };
}

/** Applies steps in turn, collecting every report; checks the client-side invariants on the way. */
function run(o: GatewayOrder, ...steps: Array<(o: GatewayOrder) => Transition>): { order: GatewayOrder; reports: Report[]; all: Transition[] } {
  const reports: Report[] = [];
  const all: Transition[] = [];
  for (const s of steps) {
    const tr = s(o);
    o = tr.order;
    reports.push(...tr.reports);
    all.push(tr);
  }
  checkInvariants(o, reports);
  return { order: o, reports, all };
}
const E = (e: OrderEvent) => (o: GatewayOrder) => applyVenueEvent(o, e);
const S = (s: VenueOrder) => (o: GatewayOrder) => applyVenueSnapshot(o, s);

/** The rules of qfclient's fixinvariants.py, over one order's live reports. */
function checkInvariants(o: GatewayOrder, reports: Report[], allowAfterTerminal = false): void {
  const ids = new Set<string>();
  let sum = new Decimal(0);
  let notional = new Decimal(0);
  let maxCum = new Decimal(0);
  let terminal = false;
  let hadFill = false;
  for (const r of reports) {
    expect(ids.has(r.execId)).toBe(false);
    ids.add(r.execId);
    const cum = new Decimal(r.cumQty);
    expect(cum.gte(maxCum)).toBe(true);
    maxCum = cum;
    if (terminal && !allowAfterTerminal) throw new Error(`report after terminal: ${JSON.stringify(r)}`);
    if (r.execType === '1' || r.execType === '2') {
      const ls = new Decimal(r.lastShares!);
      expect(ls.gt(0)).toBe(true);
      expect(new Decimal(r.lastPx!).gt(0)).toBe(true);
      sum = sum.plus(ls);
      notional = notional.plus(ls.times(r.lastPx!));
      hadFill = true;
      const vwap = notional.div(sum);
      expect(new Decimal(r.avgPx).minus(vwap).abs().lte(Decimal.max('1e-8', vwap.times('1e-6')))).toBe(true);
    } else {
      expect(r.lastShares).toBeUndefined();
    }
    expect(cum.eq(sum)).toBe(true);
    if (hadFill) expect(r.ordStatus).not.toBe('8');
    if (hadFill) expect(r.execType).not.toBe('8');
    if ('248C'.includes(r.ordStatus)) {
      expect(r.leavesQty).toBe('0');
      terminal = true;
    } else {
      expect(r.leavesQty).toBe(new Decimal(o.orderQty).minus(cum).toFixed());
    }
  }
}

const brief = (r: Report) => `${r.execType}/${r.ordStatus}`;

describe('acknowledgement', () => {
  it('maps a venue ack to 150=0/39=0 once, with OrderID learned from the event', () => {
    const { order: o, reports } = run(order(), E(ev('acknowledged')), E(ev('acknowledged')));
    expect(reports.map(brief)).toEqual(['0/0']);
    expect(reports[0]).toMatchObject({ execId: 'E-S1-k1-1', execTransType: '0', clOrdId: 'C1', cumQty: '0', avgPx: '0', leavesQty: '1' });
    expect(o).toMatchObject({ status: '0', acked: true, venueOrderId: 'V1', execSeq: 1 });
  });

  it('returns the same order object when an event changes nothing', () => {
    const acked = applyVenueEvent(order(), ev('acknowledged')).order;
    const again = applyVenueEvent(acked, ev('acknowledged'));
    expect(again.order).toBe(acked);
    expect(again.reports).toEqual([]);
  });

  it('does not mutate its input', () => {
    const o = order();
    const copy = JSON.parse(JSON.stringify(o));
    applyVenueEvent(o, fill('f1', '0.5', '100'));
    expect(JSON.parse(JSON.stringify(o))).toEqual(copy);
    expect(o.fillIds.has('f1')).toBe(false);
  });

  it('sends 150=A/39=A for pending new, then nothing once acked', () => {
    const tr = pendingNewReport(order());
    expect(tr.reports.map(brief)).toEqual(['A/A']);
    const acked = applyVenueEvent(tr.order, ev('acknowledged')).order;
    expect(pendingNewReport(acked).reports).toEqual([]);
  });
});

describe('fills', () => {
  it('synthesizes a 150=0 ack before the first fill of an unacknowledged order', () => {
    const { order: o, reports } = run(order(), E(fill('t1', '1', '100')));
    expect(reports.map(brief)).toEqual(['0/0', '2/2']);
    expect(reports[0].cumQty).toBe('0');
    expect(o.acked).toBe(true);
  });

  it('reports a partial fill as 150=1/39=1 and the completing fill as 150=2/39=2', () => {
    const { order: o, reports } = run(order(), E(ev('acknowledged')), E(fill('t1', '0.4', '100')), E(fill('t2', '0.6', '101')));
    expect(reports.map(brief)).toEqual(['0/0', '1/1', '2/2']);
    expect(reports[1]).toMatchObject({ lastShares: '0.4', lastPx: '100', cumQty: '0.4', leavesQty: '0.6', execId: 'F-S1-k1-t1' });
    expect(reports[2]).toMatchObject({ lastShares: '0.6', lastPx: '101', cumQty: '1', leavesQty: '0', avgPx: '100.6' });
    expect(o.status).toBe('2');
  });

  it('computes AvgPx exactly: 0.1@3 and 0.2@3.3 average 3.2', () => {
    const { reports } = run(order({ orderQty: '1' }), E(fill('a', '0.1', '3')), E(fill('b', '0.2', '3.3')));
    expect(reports[2]).toMatchObject({ cumQty: '0.3', avgPx: '3.2' });
  });

  it('rounds a non-terminating AvgPx only at the end, never drifting', () => {
    const { order: o } = run(order({ orderQty: '3' }), E(fill('a', '1', '1')), E(fill('b', '1', '1')), E(fill('c', '1', '2')));
    expect(o.avgPx).toBe('1.33333333333333333');
    expect(o.notional).toBe('4');
  });

  it('keeps tiny quantities out of exponent form', () => {
    const { reports } = run(order({ orderQty: '0.00000003' }), E(fill('a', '1e-8', '0.0000001')));
    expect(reports[1]).toMatchObject({ lastShares: '0.00000001', cumQty: '0.00000001', leavesQty: '0.00000002', lastPx: '0.0000001' });
  });

  it('ignores the same venue fill seen twice (stream replay)', () => {
    const { reports } = run(order(), E(fill('t1', '0.5', '100')), E(fill('t1', '0.5', '100')));
    expect(reports.map(brief)).toEqual(['0/0', '1/1']);
  });

  it('reports a fill seen in a snapshot and then on the stream once', () => {
    const s = snap({ status: 'partially_filled', filledQty: '0.5', fills: [{ fillId: 't1', qty: '0.5', price: '100', time: 5 }] });
    const { reports } = run(order(), S(s), E(fill('t1', '0.5', '100', '0.5')));
    expect(reports.map(brief)).toEqual(['0/0', '1/1']);
    expect(reports[1].execId).toBe('F-S1-k1-t1');
  });

  it('gives a fill the same ExecID whichever path reports it', () => {
    const viaStream = applyVenueEvent(order(), fill('t9', '0.5', '100')).reports[1].execId;
    const viaSnap = applyVenueSnapshot(order(), snap({ filledQty: '0.5', fills: [{ fillId: 't9', qty: '0.5', price: '100', time: 1 }] })).reports[1]
      .execId;
    expect(viaSnap).toBe(viaStream);
  });

  it('keeps CumQty monotonic and never above OrderQty, even on a venue overfill', () => {
    const { order: o, reports } = run(order(), E(fill('a', '0.7', '100')), E(fill('b', '0.7', '100')), E(fill('c', '0.1', '100')));
    expect(reports.map((r) => r.cumQty)).toEqual(['0', '0.7', '1']);
    expect(o.cumQty).toBe('1');
  });

  it('ignores fills with zero quantity', () => {
    const { reports } = run(order(), E(fill('z', '0', '100')));
    expect(reports).toEqual([]);
  });

  it('flags fillsMissing when the venue cumulative quantity is above what we could report', () => {
    const tr = applyVenueEvent(order(), fill('t2', '0.2', '100', '0.5'));
    expect(tr.fillsMissing).toBe(true);
    expect(tr.order.cumQty).toBe('0.2');
  });

  it('handles fills arriving out of order', () => {
    const { order: o } = run(order(), E(fill('t3', '0.1', '100', '0.6')), E(fill('t2', '0.2', '100', '0.5')), E(fill('t1', '0.3', '100', '0.3')));
    expect(o.cumQty).toBe('0.6');
  });
});

describe('cancels', () => {
  it('maps pending_cancel to 150=6/39=6 once, with the cancel ClOrdID and 41', () => {
    const acked = applyVenueEvent(order(), ev('acknowledged')).order;
    const { order: o, reports } = run(beginCancel(acked, 'X1'), E(ev('pending_cancel')), E(ev('pending_cancel')));
    expect(reports.map(brief)).toEqual(['6/6']);
    expect(reports[0]).toMatchObject({ clOrdId: 'X1', origClOrdId: 'C1', leavesQty: '1' });
    expect(o.status).toBe('6');
  });

  it('confirms a requested cancel as 150=4/39=4 with 11 = cancel ClOrdID and 41 = original', () => {
    const acked = applyVenueEvent(order(), ev('acknowledged')).order;
    const { order: o, reports } = run(beginCancel(acked, 'X1'), E(ev('pending_cancel')), E(ev('canceled')));
    expect(reports.map(brief)).toEqual(['6/6', '4/4']);
    expect(reports[1]).toMatchObject({ clOrdId: 'X1', origClOrdId: 'C1', leavesQty: '0' });
    expect(o.pendingCancel).toBeUndefined();
  });

  it('reports an unsolicited cancel (IOC remainder) with the order ClOrdID and no 41', () => {
    const { reports } = run(order({ timeInForce: '3' }), E(fill('t1', '0.3', '100')), E(ev('canceled')));
    expect(reports.map(brief)).toEqual(['0/0', '1/1', '4/4']);
    expect(reports[2].clOrdId).toBe('C1');
    expect(reports[2].origClOrdId).toBeUndefined();
    expect(reports[2]).toMatchObject({ cumQty: '0.3', leavesQty: '0', avgPx: '100' });
  });

  it('acks an unacknowledged order before canceling it', () => {
    const { reports } = run(order(), E(ev('canceled')));
    expect(reports.map(brief)).toEqual(['0/0', '4/4']);
  });

  it('reports a partial fill during a pending cancel as 150=1 with 39=6 (FIX precedence)', () => {
    const acked = applyVenueEvent(order(), ev('acknowledged')).order;
    const { reports } = run(beginCancel(acked, 'X1'), E(ev('pending_cancel')), E(fill('t1', '0.4', '100')), E(ev('canceled')));
    expect(reports.map(brief)).toEqual(['6/6', '1/6', '4/4']);
    expect(reports[1]).toMatchObject({ clOrdId: 'C1', leavesQty: '0.6' });
  });

  it('answers a cancel overtaken by the completing fill with a too-late cancel reject', () => {
    const acked = applyVenueEvent(order(), ev('acknowledged')).order;
    const { order: o, reports, all } = run(beginCancel(acked, 'X1'), E(ev('pending_cancel')), E(fill('t1', '1', '100')));
    expect(reports.map(brief)).toEqual(['6/6', '2/2']);
    expect(all[1].cancelRejects).toEqual([
      { id: 'X-S1-k1-3', clOrdId: 'X1', origClOrdId: 'C1', orderId: 'V1', ordStatus: '2', reason: '0', text: 'Too late to cancel: order is filled' },
    ]);
    expect(o.pendingCancel).toBeUndefined();
  });

  it('restores the live status and yields the cancel reject when the venue refuses a cancel', () => {
    let o = applyVenueEvent(order(), fill('t1', '0.5', '100')).order;
    o = beginCancel(o, 'X1');
    o = applyVenueEvent(o, ev('pending_cancel')).order;
    const tr = cancelRejected(o, '0', 'too late');
    expect(tr.order.status).toBe('1');
    expect(tr.order.pendingCancel).toBeUndefined();
    expect(tr.cancelRejects[0]).toMatchObject({ clOrdId: 'X1', origClOrdId: 'C1', ordStatus: '1', reason: '0', text: 'too late' });
    expect(tr.reports).toEqual([]);
  });

  it('maps expiry to 150=C/39=C, also with fills', () => {
    const { reports } = run(order({ timeInForce: '4' }), E(fill('t1', '0.2', '100')), E(ev('expired')));
    expect(reports.map(brief)).toEqual(['0/0', '1/1', 'C/C']);
    expect(reports[2]).toMatchObject({ cumQty: '0.2', leavesQty: '0' });
  });

  it("carries the venue's reason for ending the order in Text(58) of 150=C, from an event or a snapshot", () => {
    const viaEvent = run(order({ timeInForce: '4' }), E(ev('acknowledged')), E(ev('expired', { text: 'Order could not be filled at the limit price' })));
    expect(viaEvent.reports.map(brief)).toEqual(['0/0', 'C/C']);
    expect(viaEvent.reports[1].text).toBe('Order could not be filled at the limit price');
    const viaSnapshot = run(order({ timeInForce: '4' }), S(snap({ status: 'expired', rawStatus: 'closed', rejectCode: 'closed', rejectText: 'Order could not be filled at the limit price' })));
    expect(viaSnapshot.reports.map(brief)).toEqual(['0/0', 'C/C']);
    expect(viaSnapshot.reports[1].text).toBe('Order could not be filled at the limit price');
    // Without a reason, no Text.
    expect(run(order({ timeInForce: '4' }), S(snap({ status: 'expired' }))).reports[1].text).toBeUndefined();
  });
});

describe('rejects', () => {
  it('maps a rejected event before any fill to 150=8/39=8 with venue code + text and 103', () => {
    const { order: o, reports } = run(order(), E(ev('rejected', { code: '-1121', text: 'Invalid symbol.' })));
    expect(reports.map(brief)).toEqual(['8/8']);
    expect(reports[0]).toMatchObject({ text: '-1121: Invalid symbol.', ordRejReason: '1', leavesQty: '0', cumQty: '0' });
    expect(o.status).toBe('8');
  });

  it('maps venue reject reasons to OrdRejReason', () => {
    expect(ordRejReasonForVenueReject('NOT_ENOUGH_BALANCE', '')).toBe('3');
    expect(ordRejReasonForVenueReject('-2010', 'Account has insufficient balance for requested action.')).toBe('3');
    expect(ordRejReasonForVenueReject('-1141', 'Duplicate order id')).toBe('6');
    expect(ordRejReasonForVenueReject('unknown_symbol', '')).toBe('1');
    expect(ordRejReasonForVenueReject('NOT_ENOUGH_LIQUIDITY', 'no liquidity')).toBe('0');
    expect(ordRejReasonForVenueReject('-2011', 'LIMIT_MAKER order would immediately match')).toBe('0');
    expect(ordRejReasonFor('insufficient_funds')).toBe('3');
    expect(ordRejReasonFor('duplicate')).toBe('6');
    expect(ordRejReasonFor('post_only_would_take')).toBe('0');
  });

  it('never sends 39=8 for an order with fills: a reject after fills is a cancel', () => {
    const { reports } = run(order({ ordType: '1', price: undefined }), E(fill('t1', '0.3', '100')), E(ev('rejected', { code: 'NOT_ENOUGH_LIQUIDITY', text: 'x' })));
    expect(reports.map(brief)).toEqual(['0/0', '1/1', '4/4']);
    expect(reports[2].text).toBe('NOT_ENOUGH_LIQUIDITY: x');
    expect(reports[2].ordRejReason).toBeUndefined();
  });

  it('rejectReport rejects a fresh order and cancels one with fills', () => {
    const r1 = rejectReport(order(), '3', 'insufficient funds');
    expect(r1.reports.map(brief)).toEqual(['8/8']);
    expect(r1.reports[0]).toMatchObject({ ordRejReason: '3', text: 'insufficient funds' });
    const filled = applyVenueEvent(order(), fill('t1', '0.5', '100')).order;
    expect(rejectReport(filled, '0', 'x').reports.map(brief)).toEqual(['4/4']);
  });

  it('answers a pending cancel with a cancel reject when the order is rejected', () => {
    const tr = applyVenueEvent(beginCancel(order(), 'X1'), ev('rejected', { code: 'E', text: 'no' }));
    expect(tr.reports.map(brief)).toEqual(['8/8']);
    expect(tr.cancelRejects[0]).toMatchObject({ clOrdId: 'X1', ordStatus: '8', reason: '0' });
  });
});

describe('after a terminal state', () => {
  it('reports nothing for acks, cancels, expiries or rejects', () => {
    const done = run(order(), E(ev('canceled'))).order;
    for (const e of [ev('acknowledged'), ev('canceled'), ev('expired'), ev('pending_cancel'), ev('rejected', { code: 'x', text: 'y' })]) {
      expect(applyVenueEvent(done, e).reports).toEqual([]);
    }
    expect(rejectReport(done, '0', 'x').reports).toEqual([]);
  });

  it('still reports a fill the venue proves, keeping the terminal status', () => {
    const canceled = run(order(), E(fill('t1', '0.2', '100')), E(ev('canceled', { cumQty: '0.5' }))).order;
    const tr = applyVenueEvent(canceled, fill('t2', '0.3', '100', '0.5'));
    expect(tr.reports.map(brief)).toEqual(['1/4']);
    expect(tr.reports[0]).toMatchObject({ lastShares: '0.3', cumQty: '0.5', leavesQty: '0' });
  });

  it('ignores a post-terminal fill the venue does not prove', () => {
    const canceled = run(order(), E(fill('t1', '0.2', '100')), E(ev('canceled'))).order;
    const tr = applyVenueEvent(canceled, fill('t2', '0.3', '100', '0.2'));
    expect(tr.reports).toEqual([]);
    expect(tr.order.fillIds).not.toContain('t2');
  });

  it('turns a rejected order into canceled when a fill shows up after all', () => {
    const rejected = applyVenueEvent(order(), ev('rejected', { code: 'x', text: 'timeout' })).order;
    const tr = applyVenueEvent(rejected, fill('t1', '0.4', '100', '0.4'));
    expect(tr.reports.map(brief)).toEqual(['1/4']);
  });

  it('answers a status request with the terminal status', () => {
    const o = run(order(), E(fill('t1', '0.25', '100')), E(ev('expired'))).order;
    expect(statusReport(o)).toEqual({
      execType: 'C',
      ordStatus: 'C',
      execId: '0',
      execTransType: '3',
      clOrdId: 'C1',
      lastShares: '0',
      cumQty: '0.25',
      avgPx: '100',
      leavesQty: '0',
    });
  });
});

describe('snapshots', () => {
  it('reports missed fills in time order before the terminal status', () => {
    const s = snap({
      status: 'canceled',
      filledQty: '0.5',
      fills: [
        { fillId: 't2', qty: '0.2', price: '101', time: 20 },
        { fillId: 't1', qty: '0.3', price: '100', time: 10 },
      ],
    });
    const { order: o, reports } = run(order(), S(s));
    expect(reports.map(brief)).toEqual(['0/0', '1/1', '1/1', '4/4']);
    expect(reports.slice(1, 3).map((r) => r.execId)).toEqual(['F-S1-k1-t1', 'F-S1-k1-t2']);
    expect(o).toMatchObject({ status: '4', cumQty: '0.5', avgPx: '100.4' });
  });

  it('synthesizes one catch-up fill at the implied price when the venue lists no fills', () => {
    const o1 = applyVenueEvent(order(), fill('t1', '0.2', '100')).order;
    const tr = applyVenueSnapshot(o1, snap({ status: 'filled', filledQty: '1', avgPrice: '100.8' }));
    expect(tr.reports.map(brief)).toEqual(['2/2']);
    expect(tr.reports[0]).toMatchObject({ execId: 'F-S1-k1-cum:1', lastShares: '0.8', lastPx: '101', avgPx: '100.8', cumQty: '1' });
    expect(tr.order.syntheticQty).toBe('0.8');
  });

  it('never guesses a fill price: a filled snapshot without fills or average is acked, and the fills come with their own prices', () => {
    const first = applyVenueSnapshot(order(), snap({ status: 'filled', filledQty: '1' }));
    expect(first.reports.map(brief)).toEqual(['0/0']);
    expect(first.fillsMissing).toBe(true);
    expect(first.order.cumQty).toBe('0');
    const { order: o, reports } = run(first.order, E(fill('t1', '0.4', '100', '0.4')), E(fill('t2', '0.6', '101', '1')));
    expect(reports.map(brief)).toEqual(['1/1', '2/2']);
    expect(reports.map((r) => r.lastPx)).toEqual(['100', '101']);
    expect(o).toMatchObject({ status: '2', cumQty: '1', avgPx: '100.6' });
  });

  it('absorbs real fills seen after a catch-up fill instead of counting them twice', () => {
    const { order: o, reports } = run(
      order(),
      S(snap({ status: 'partially_filled', filledQty: '0.5', avgPrice: '100' })),
      E(fill('t1', '0.3', '100')),
      E(fill('t2', '0.3', '102')),
    );
    expect(reports.map(brief)).toEqual(['0/0', '1/1', '1/1']);
    expect(reports[1]).toMatchObject({ execId: 'F-S1-k1-cum:0.5', lastShares: '0.5', cumQty: '0.5' });
    expect(reports[2]).toMatchObject({ lastShares: '0.1', lastPx: '102', cumQty: '0.6' });
    expect(o.syntheticQty).toBeUndefined();
  });

  it('acks an order the venue shows as new', () => {
    expect(applyVenueSnapshot(order(), snap({ status: 'new' })).reports.map(brief)).toEqual(['0/0']);
  });

  it('reports Pending New (150=A) once for an order the venue shows as pending_new (accepted in two steps)', () => {
    const first = applyVenueSnapshot(order(), snap({ status: 'pending_new' }));
    expect(first.reports.map(brief)).toEqual(['A/A']);
    expect(first.order.venueOrderId).toBe(snap({}).venueOrderId);
    // Again pending_new: nothing more; then new: the ack.
    expect(applyVenueSnapshot(first.order, snap({ status: 'pending_new' })).reports).toEqual([]);
    expect(applyVenueSnapshot(first.order, snap({ status: 'new' })).reports.map(brief)).toEqual(['0/0']);
    // Already acked: a late pending_new changes nothing.
    const acked = applyVenueSnapshot(order(), snap({ status: 'new' })).order;
    expect(applyVenueSnapshot(acked, snap({ status: 'pending_new' })).reports).toEqual([]);
  });

  it('rejects with the snapshot reject code and text', () => {
    const tr = applyVenueSnapshot(order(), snap({ status: 'rejected', rejectCode: 'NOT_ENOUGH_BALANCE', rejectText: 'balance' }));
    expect(tr.reports[0]).toMatchObject({ execType: '8', ordRejReason: '3', text: 'NOT_ENOUGH_BALANCE: balance' });
  });

  it('catches up fills on an order we already consider canceled (the venue proves them)', () => {
    const canceled = run(order(), E(ev('canceled'))).order;
    const tr = applyVenueSnapshot(canceled, snap({ status: 'canceled', filledQty: '0.4', fills: [{ fillId: 't1', qty: '0.4', price: '99', time: 1 }] }));
    expect(tr.reports.map(brief)).toEqual(['1/4']);
  });

  it('flags fillsMissing when no price is known for the missing quantity', () => {
    const mkt = order({ ordType: '1', price: undefined, timeInForce: '3' });
    const tr = applyVenueSnapshot(mkt, snap({ type: 'market', price: undefined, status: 'filled', filledQty: '1' }));
    expect(tr.fillsMissing).toBe(true);
    expect(tr.order.cumQty).toBe('0');
  });
});

describe('random event sequences', () => {
  it('always satisfy the client invariants', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let iter = 0; iter < 300; iter++) {
      const fills: VenueFill[] = [];
      let cum = new Decimal(0);
      while (cum.lt(1) && rnd() < 0.8) {
        const q = Decimal.min(new Decimal(Math.ceil(rnd() * 4)).div(10), new Decimal(1).minus(cum));
        cum = cum.plus(q);
        fills.push({ fillId: `t${fills.length}`, qty: q.toFixed(), price: (100 + Math.floor(rnd() * 50) / 100).toFixed(2), time: fills.length });
      }
      let o = order();
      const reports: Report[] = [];
      const apply = (tr: Transition) => {
        o = tr.order;
        reports.push(...tr.reports);
      };
      const end: Kind = rnd() < 0.5 ? 'canceled' : 'expired';
      let ended = false;
      for (let step = 0; step < 12; step++) {
        const x = rnd();
        const f = fills[Math.floor(rnd() * fills.length)];
        if (x < 0.5 && f) apply(applyVenueEvent(o, fill(f.fillId, f.qty, f.price)));
        else if (x < 0.6) apply(applyVenueEvent(o, ev('acknowledged')));
        else if (x < 0.7 && !o.pendingCancel) o = beginCancel(o, `X${step}`);
        else if (x < 0.75) apply(applyVenueEvent(o, ev('pending_cancel')));
        else if (x < 0.85) {
          const k = Math.floor(rnd() * (fills.length + 1));
          const sum = fills.slice(0, k).reduce((a, b) => a.plus(b.qty), new Decimal(0));
          apply(applyVenueSnapshot(o, snap({ status: 'partially_filled', filledQty: sum.toFixed(), avgPrice: '100.1', fills: rnd() < 0.5 ? fills.slice(0, k) : undefined })));
        } else if (x < 0.9 && !ended) {
          ended = true;
          apply(applyVenueEvent(o, ev(end)));
        }
      }
      // The venue's final word: every fill, cumulative quantity.
      apply(applyVenueSnapshot(o, snap({ status: cum.eq(1) ? 'filled' : end, filledQty: cum.toFixed(), fills })));
      checkInvariants(o, reports, true);
      expect(o.cumQty).toBe(cum.toFixed());
    }
  });
});

describe('pendingNewReport', () => {
  it('reports 150=A once: a second call on an order still pending new emits nothing', () => {
    const first = pendingNewReport(createOrder({ clOrdId: 'PA', venueClientOrderId: 'v-pa', symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '1' }, 1), 2);
    expect(first.reports.map((r) => r.execType)).toEqual(['A']);
    expect(pendingNewReport(first.order, 3).reports).toEqual([]);
  });
});

describe('snapshot events (what a poller emits)', () => {
  test('applied any number of times: the first reports, repeats change nothing', () => {
    const s = snap({ status: 'partially_filled', filledQty: '0.4', avgPrice: '100', fills: [{ fillId: 't1', qty: '0.4', price: '100', time: t + 1 }] });
    const e = ev('snapshot', { order: s });
    const r = run(order(), E(e), E(e), E(e));
    expect(r.reports.map(brief)).toEqual(['0/0', '1/1']);
    expect(r.all[1].order).toBe(r.all[0].order);
    expect(r.all[2].reports).toEqual([]);
    expect(r.order.cumQty).toBe('0.4');
  });

  test('a later snapshot repairs what an earlier miss left out (fills, then the terminal state)', () => {
    const first = ev('snapshot', { order: snap({ status: 'new' }) });
    const later = ev('snapshot', {
      order: snap({ status: 'filled', filledQty: '1', avgPrice: '101', fills: [{ fillId: 't1', qty: '0.5', price: '100', time: t + 1 }, { fillId: 't2', qty: '0.5', price: '102', time: t + 2 }] }),
    });
    const r = run(order(), E(first), E(later), E(later));
    expect(r.reports.map(brief)).toEqual(['0/0', '1/1', '2/2']);
    expect(r.order.avgPx).toBe('101');
  });
});

describe('a snapshot whose cumulative quantity contradicts the order (more executed than ordered)', () => {
  // The soak's S-coinut-5963: OrderQty 0.003, one real fill of 0.0025 at 61159.64, then canceled;
  // a trade list read in overlapping pages summed that fill twice: filled 0.005 at avg 61159.64.
  const real = { fillId: 't1', qty: '0.0025', price: '61159.64', time: 0 };
  const bogus = (over: Partial<VenueOrder> = {}) =>
    snap({ quantity: '0.003', status: 'canceled', filledQty: '0.005', avgPrice: '61159.64', fills: [{ ...real, time: t + 1 }, { ...real, time: t + 1 }], ...over });

  test('after the order was reported canceled: no fill is made up from it, and it is an incident', () => {
    const r = run(
      order({ orderQty: '0.003' }),
      E(ev('acknowledged')),
      E(fill('t1', '0.0025', '61159.64', '0.0025')),
      E(ev('canceled', { cumQty: '0.0025' })),
      S(bogus()),
    );
    expect(r.reports.map(brief)).toEqual(['0/0', '1/1', '4/4']);
    expect(r.order).toMatchObject({ status: '4', cumQty: '0.0025', avgPx: '61159.64' });
    expect(r.all[3].reports).toEqual([]);
    expect(r.all[3].incident).toMatch(/0\.005 executed .* OrderQty 0\.003/);
    expect(r.all[3].fillsMissing).toBeFalsy();
  });

  test('on a live order: its listed fills count once each, no catch-up fill, the venue status applies', () => {
    const r = run(order({ orderQty: '0.003' }), E(ev('acknowledged')), S(bogus()));
    expect(r.reports.map(brief)).toEqual(['0/0', '1/1', '4/4']);
    expect(r.reports[1]).toMatchObject({ lastShares: '0.0025', lastPx: '61159.64', cumQty: '0.0025' });
    expect(r.order).toMatchObject({ status: '4', cumQty: '0.0025' });
    expect(r.all[1].incident).toMatch(/0\.005 executed/);
  });

  test('without a fill list, canceled: nothing is made up and no query starts; the cancel applies', () => {
    const r = run(order({ orderQty: '0.003' }), E(ev('acknowledged')), S(bogus({ fills: undefined })));
    expect(r.reports.map(brief)).toEqual(['0/0', '4/4']);
    expect(r.order).toMatchObject({ status: '4', cumQty: '0' });
    expect(r.all[1].fillsMissing).toBeFalsy();
    expect(r.all[1].incident).toMatch(/not used/);
  });

  test('FILLED without a fill list: the venue says the whole OrderQty executed, so the fills are fetched (not left open forever); nothing is made up', () => {
    // Review: with cum 0 of 0.003 and the venue's word FILLED, the order stayed New with no query:
    // its fills never came, and a cancel could only be refused.
    const r = run(order({ orderQty: '0.003' }), E(ev('acknowledged')), S(bogus({ status: 'filled', fills: undefined })));
    expect(r.reports.map(brief)).toEqual(['0/0']);
    expect(r.order).toMatchObject({ status: '0', cumQty: '0' });
    expect(r.all[1].fillsMissing).toBe(true);
    expect(r.all[1].incident).toMatch(/not used/);
  });

  test('FILLED listing only part of the fills: the listed one counts once, no terminal report before the rest, the rest is fetched', () => {
    const r = run(order({ orderQty: '0.003' }), E(ev('acknowledged')), S(bogus({ status: 'filled' })));
    expect(r.reports.map(brief)).toEqual(['0/0', '1/1']);
    expect(r.order).toMatchObject({ status: '1', cumQty: '0.0025' });
    expect(r.all[1].fillsMissing).toBe(true);
  });
});

describe('the synthetic fill-id namespace', () => {
  test('a venue fill id that looks like a catch-up id (cum:…) never hides a catch-up fill', () => {
    // The venue's own trade id happens to be "cum:1"; later a snapshot counts 1 executed with no
    // fill list, so the gateway makes up the catch-up fill "cum:1" for the rest.
    const r = run(order({ orderQty: '2' }), E(fill('cum:2', '1', '100', '1')), S(snap({ quantity: '2', status: 'filled', filledQty: '2', avgPrice: '100' })));
    expect(r.reports.map(brief)).toEqual(['0/0', '1/1', '2/2']);
    expect(r.order.cumQty).toBe('2');
    expect(new Set(r.reports.map((x) => x.execId)).size).toBe(3);
  });

  test('gatewayFillId is injective and never yields a reserved id', () => {
    const ids = ['t1', 'cum:1', '\\cum:1', '\\', 'cum', ''];
    const mapped = ids.map(gatewayFillId);
    expect(new Set(mapped).size).toBe(ids.length);
    for (const m of mapped) expect(m.startsWith(SYNTHETIC_FILL_ID_PREFIX)).toBe(false);
    expect(gatewayFillId('t1')).toBe('t1');
  });
});
