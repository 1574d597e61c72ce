import { readFileSync } from 'fs';
import * as path from 'path';
import { utcTimestamp } from '../../src/fix/codec/fix-encoder';
import { FixField, FixMessage, OutboundMessage } from '../../src/fix/message';
import { GatewayOrder, createOrder } from '../../src/gateway/order';
import {
  executionReportFor,
  fixText,
  newOrderRejectFor,
  orderCancelRejectFor,
  rejectUnknownOrderStatus,
} from '../../src/gateway/execution-report';
import { applyVenueEvent, beginCancel, rejectReport, statusReport, Report } from '../../src/gateway/order-state';
import { OrderEvent } from '../../src/venues/venue';

// ---- FIX42.xml, read with a few regexes: fields (type, enums) and messages (fields, required).
interface FieldDef {
  name: string;
  type: string;
  enums: Set<string>;
}
const xml = readFileSync(path.join(__dirname, '../../dictionaries/FIX42.xml'), 'utf8');
const fieldsByName = new Map<string, number>();
const fieldDefs = new Map<number, FieldDef>();
for (const m of xml.matchAll(/<field number='(\d+)' name='(\w+)' type='(\w+)'\s*(\/>|>([\s\S]*?)<\/field>)/g)) {
  const enums = new Set([...(m[5] ?? '').matchAll(/enum='([^']*)'/g)].map((e) => e[1]));
  fieldsByName.set(m[2], Number(m[1]));
  fieldDefs.set(Number(m[1]), { name: m[2], type: m[3], enums });
}
function messageDef(msgType: string): { allowed: Set<number>; required: number[] } {
  const m = new RegExp(`<message name='\\w+' msgtype='${msgType}' msgcat='app'>([\\s\\S]*?)</message>`).exec(xml);
  if (!m) throw new Error(`no message ${msgType}`);
  const allowed = new Set<number>();
  const required: number[] = [];
  // Top-level fields only (group members are not required at top level).
  const top = m[1].replace(/<group[\s\S]*?<\/group>/g, '');
  for (const f of top.matchAll(/<field name='(\w+)' required='(Y|N)'/g)) {
    const tag = fieldsByName.get(f[1])!;
    allowed.add(tag);
    if (f[2] === 'Y') required.push(tag);
  }
  return { allowed, required };
}
const NUMERIC = /^-?(\d+(\.\d*)?|\.\d+)$/;

/** What QuickFIX's strict validation checks on a received body. */
function validate(msg: OutboundMessage): void {
  const def = messageDef(msg.msgType);
  const tags = msg.body.map((f) => f.tag);
  expect(tags).toEqual([...tags].sort((a, b) => a - b)); // ascending order
  expect(new Set(tags).size).toBe(tags.length); // no repeated tag
  for (const f of msg.body) {
    expect({ tag: f.tag, allowed: def.allowed.has(f.tag) }).toEqual({ tag: f.tag, allowed: true });
    const fd = fieldDefs.get(f.tag)!;
    expect(f.value).not.toBe('');
    expect(f.value).not.toMatch(/[\x00-\x1f]/);
    if (fd.enums.size > 0 && fd.type !== 'MULTIPLEVALUESTRING') expect({ tag: f.tag, ok: fd.enums.has(f.value) }).toEqual({ tag: f.tag, ok: true });
    if (['QTY', 'PRICE', 'AMT', 'FLOAT', 'PRICEOFFSET'].includes(fd.type)) expect(f.value).toMatch(NUMERIC);
    if (fd.type === 'INT') expect(f.value).toMatch(/^-?\d+$/);
    if (fd.type === 'UTCTIMESTAMP') expect(f.value).toMatch(/^\d{8}-\d{2}:\d{2}:\d{2}(\.\d{3})?$/);
  }
  for (const r of def.required) expect({ required: r, present: tags.includes(r) }).toEqual({ required: r, present: true });
}
const get = (msg: OutboundMessage, tag: number) => msg.body.find((f) => f.tag === tag)?.value;
const NOW = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 67));

let t = 0;
function ev(kind: OrderEvent['kind'], extra: Record<string, unknown> = {}): OrderEvent {
  return { kind, clientOrderId: 'S-1', venueOrderId: '1234567890123456789', rawStatus: kind, time: ++t, source: 'stream', ...extra } as OrderEvent;
}
function base(over: Partial<Parameters<typeof createOrder>[0]> = {}): GatewayOrder {
  return createOrder(
    { clOrdId: 'C1', venueClientOrderId: 'S-1', account: 'ACC1', symbol: 'BTCUSDT', side: '2', ordType: '2', timeInForce: '1', orderQty: '2', price: '60000.5', ...over },
    0,
  );
}
function fixMessage(fields: Array<[number, string]>): FixMessage {
  const ff: FixField[] = fields.map(([tag, value]) => ({ tag, value }));
  return new FixMessage(ff.map((f) => `${f.tag}=${f.value}\x01`).join(''), ff);
}

describe('the FIX42.xml reader used here', () => {
  it('knows the required fields of ExecutionReport and OrderCancelReject', () => {
    expect(messageDef('8').required.sort((a, b) => a - b)).toEqual([6, 14, 17, 20, 37, 39, 54, 55, 150, 151]);
    expect(messageDef('9').required.sort((a, b) => a - b)).toEqual([11, 37, 39, 41, 434]);
    expect(fieldDefs.get(150)!.enums.has('I')).toBe(false);
  });
});

describe('executionReportFor', () => {
  it('builds an ack with every required ExecutionReport field, in ascending tag order', () => {
    const tr = applyVenueEvent(base(), ev('acknowledged', { time: NOW.getTime() - 250 }));
    const msg = executionReportFor(tr.order, tr.reports[0], NOW);
    validate(msg);
    expect(msg.msgType).toBe('8');
    expect(msg.body.map((f) => `${f.tag}=${f.value}`)).toEqual([
      '1=ACC1',
      '6=0',
      '11=C1',
      '14=0',
      '17=E-S-1-1',
      '20=0',
      '37=1234567890123456789',
      '38=2',
      '39=0',
      '40=2',
      '44=60000.5',
      '54=2',
      '55=BTCUSDT',
      '59=1',
      '60=20240102-03:04:04.817', // the venue's event time
      '150=0',
      '151=2',
    ]);
  });

  it('puts LastPx/LastShares on fills only', () => {
    const tr = applyVenueEvent(base(), ev('fill', { fill: { fillId: '9', qty: '0.5', price: '60000.5', time: 1 } }));
    const ack = executionReportFor(tr.order, tr.reports[0], NOW);
    const f = executionReportFor(tr.order, tr.reports[1], NOW);
    validate(ack);
    validate(f);
    expect(get(ack, 31)).toBeUndefined();
    expect(get(ack, 32)).toBeUndefined();
    expect([get(f, 31), get(f, 32), get(f, 14), get(f, 151), get(f, 150), get(f, 39), get(f, 17)]).toEqual([
      '60000.5',
      '0.5',
      '0.5',
      '1.5',
      '1',
      '1',
      'F-S-1-9',
    ]);
  });

  it('uses OrderID NONE before the venue has given one, and no Price on market orders', () => {
    const o = base({ ordType: '1', price: undefined, timeInForce: '3', account: undefined });
    const tr = rejectReport(o, '3', 'insufficient balance');
    const msg = executionReportFor(tr.order, tr.reports[0], NOW);
    validate(msg);
    expect(get(msg, 37)).toBe('NONE');
    expect(get(msg, 44)).toBeUndefined();
    expect(get(msg, 1)).toBeUndefined();
    expect([get(msg, 150), get(msg, 39), get(msg, 103), get(msg, 58), get(msg, 151)]).toEqual(['8', '8', '3', 'insufficient balance', '0']);
  });

  it('carries 41 and the cancel ClOrdID on a cancel confirmation', () => {
    const acked = applyVenueEvent(base(), ev('acknowledged')).order;
    const tr = applyVenueEvent(beginCancel(acked, 'X1'), ev('canceled'));
    const msg = executionReportFor(tr.order, tr.reports[0], NOW);
    validate(msg);
    expect([get(msg, 11), get(msg, 41), get(msg, 150), get(msg, 39), get(msg, 151)]).toEqual(['X1', 'C1', '4', '4', '0']);
  });

  it('answers a status request with 20=3, 17=0 and 150 = 39', () => {
    const o = applyVenueEvent(base(), ev('fill', { fill: { fillId: '9', qty: '0.5', price: '60000.5', time: 1 } })).order;
    const msg = executionReportFor(o, statusReport(o), NOW);
    validate(msg);
    expect([get(msg, 20), get(msg, 17), get(msg, 150), get(msg, 39), get(msg, 32), get(msg, 31)]).toEqual(['3', '0', '1', '1', '0', undefined]);
    expect([get(msg, 14), get(msg, 151), get(msg, 6)]).toEqual(['0.5', '1.5', '60000.5']);
  });

  it('never writes numbers in exponent form', () => {
    const o = base({ orderQty: '0.00000002', price: '0.00000001' });
    const tr = applyVenueEvent(o, ev('fill', { fill: { fillId: '1', qty: '1e-8', price: '1E-8', time: 1 } }));
    for (const r of tr.reports) {
      const msg = executionReportFor(tr.order, r, NOW);
      validate(msg);
      for (const f of msg.body) expect(f.value).not.toMatch(/\d[eE][-+]?\d/);
    }
    const f = executionReportFor(tr.order, tr.reports[1], NOW);
    expect([get(f, 38), get(f, 44), get(f, 32), get(f, 31), get(f, 14), get(f, 151), get(f, 6)]).toEqual([
      '0.00000002',
      '0.00000001',
      '0.00000001',
      '0.00000001',
      '0.00000001',
      '0.00000001',
      '0.00000001',
    ]);
  });

  it('validates against FIX42.xml for every ExecType and OrdStatus the state machine produces', () => {
    const reports: Array<[GatewayOrder, Report]> = [];
    const push = (o: GatewayOrder, rs: Report[]) => rs.forEach((r) => reports.push([o, r]));
    let o = base();
    let tr = applyVenueEvent(beginCancel(o, 'X'), ev('pending_cancel'));
    push(tr.order, tr.reports);
    tr = applyVenueEvent(tr.order, ev('fill', { fill: { fillId: 'a', qty: '1', price: '1', time: 1 } }));
    push(tr.order, tr.reports);
    tr = applyVenueEvent(tr.order, ev('expired'));
    push(tr.order, tr.reports);
    o = base();
    tr = applyVenueEvent(o, ev('fill', { fill: { fillId: 'b', qty: '2', price: '1', time: 1 } }));
    push(tr.order, tr.reports);
    tr = applyVenueEvent(base(), ev('rejected', { code: '-1013', text: 'Filter failure: LOT_SIZE' }));
    push(tr.order, tr.reports);
    const seen = new Set<string>();
    for (const [ord, r] of reports) {
      validate(executionReportFor(ord, r, NOW));
      validate(executionReportFor(ord, statusReport(ord), NOW));
      seen.add(r.execType);
    }
    expect([...seen].sort()).toEqual(['0', '1', '2', '6', '8', 'C']);
  });
});

describe('orderCancelRejectFor', () => {
  it('builds 35=9 with 11, 37, 39, 41, 58, 102 and 434=1', () => {
    const msg = orderCancelRejectFor({ clOrdId: 'X1', origClOrdId: 'C1', orderId: 'NONE', ordStatus: '8', reason: '1', text: 'Unknown order C1' });
    validate(msg);
    expect(msg.msgType).toBe('9');
    expect(msg.body.map((f) => `${f.tag}=${f.value}`)).toEqual(['11=X1', '37=NONE', '39=8', '41=C1', '58=Unknown order C1', '102=1', '434=1']);
  });

  it('includes the account when given', () => {
    const msg = orderCancelRejectFor({ clOrdId: 'X1', origClOrdId: 'C1', orderId: '77', ordStatus: '2', reason: '0', text: 'too late', account: 'A' });
    validate(msg);
    expect(get(msg, 1)).toBe('A');
  });
});

describe('replies without an order', () => {
  it('answers a status request for an unknown order with 20=3 17=0 150=8 39=8 103=5', () => {
    const req = fixMessage([
      [35, 'H'],
      [11, 'NOPE'],
      [54, '1'],
      [55, 'ETHUSDT'],
    ]);
    const msg = rejectUnknownOrderStatus(req, 'Unknown order NOPE', NOW);
    validate(msg);
    expect(msg.body.map((f) => `${f.tag}=${f.value}`)).toEqual([
      '6=0',
      '11=NOPE',
      '14=0',
      '17=0',
      '20=3',
      '37=NONE',
      '39=8',
      '54=1',
      '55=ETHUSDT',
      '58=Unknown order NOPE',
      '60=20240102-03:04:05.067',
      '103=5',
      '150=8',
      '151=0',
    ]);
  });

  it('rejects a NewOrderSingle that never became an order, echoing its valid fields', () => {
    const req = fixMessage([
      [35, 'D'],
      [11, 'DUP'],
      [21, '1'],
      [55, 'BTCUSDT'],
      [54, '1'],
      [60, '20240102-03:04:05'],
      [38, '1.50'],
      [40, '2'],
      [44, '100.00'],
      [59, '1'],
    ]);
    const msg = newOrderRejectFor(req, 'R-1', '6', 'Duplicate ClOrdID DUP', NOW);
    validate(msg);
    expect([get(msg, 11), get(msg, 17), get(msg, 38), get(msg, 44), get(msg, 103), get(msg, 150), get(msg, 39), get(msg, 37)]).toEqual([
      'DUP',
      'R-1',
      '1.5',
      '100',
      '6',
      '8',
      '8',
      'NONE',
    ]);
  });
});

describe('helpers', () => {
  it('formats TransactTime as YYYYMMDD-HH:MM:SS.sss UTC', () => {
    expect(utcTimestamp(new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 5)))).toBe('19991231-23:59:59.005');
  });

  it('makes venue text safe for a FIX String field', () => {
    expect(fixText('bad\x01thing\nhere')).toBe('bad thing here');
    expect(fixText('价格')).toBe('??');
    expect(fixText('')).toBe('?');
  });
});

describe('TransactTime (60)', () => {
  it("is the venue's execution time on a fill (VenueFill.time), not when the report was built", () => {
    const execTime = Date.UTC(2024, 0, 2, 3, 0, 0, 123);
    const t = applyVenueEvent(base(), ev('fill', { time: execTime + 500, cumQty: '0.1', fill: { fillId: 'f9', qty: '0.1', price: '100', time: execTime } }));
    const fillReport = t.reports.find((r) => r.execType === '1')!;
    expect(get(executionReportFor(t.order, fillReport, NOW), 60)).toBe('20240102-03:00:00.123');
  });

  it("is the venue's event time on other venue reports, and the build time when no venue time is known", () => {
    const evTime = Date.UTC(2024, 0, 2, 3, 1, 0, 5);
    const t = applyVenueEvent(base(), ev('acknowledged', { time: evTime }));
    expect(get(executionReportFor(t.order, t.reports[0], NOW), 60)).toBe('20240102-03:01:00.005');
    expect(get(executionReportFor(t.order, statusReport(t.order), NOW), 60)).toBe('20240102-03:04:05.067');
  });
});
