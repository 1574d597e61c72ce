// The metrics registry without sockets: what a session's traffic and a venue's calls count, read
// back through prom-client's own Prometheus text.
import { outboundMeaning } from '../../src/ops/fix-reasons';
import { GatewayMetrics, MetricsState, RecentRejects } from '../../src/ops/metrics';
import { venueErrorClass, VenueMonitor } from '../../src/ops/venue-monitor';
import { RateLimiter } from '../../src/venues/common/rate-limiter';
import { AuthenticationFailed, DuplicateOrder, OrderNotFound, OrderRejected, OutcomeUnknown, RateLimited, VenueError } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { parseMetrics } from '../support/prometheus-text';

const NO_STATE: MetricsState = { sessionsLoggedOn: () => [], venues: () => [] };
const f = (tag: number, value: string) => ({ tag, value });
const S = 'FIX.4.2:GW->C';

async function scrape(m: GatewayMetrics): Promise<Map<string, number>> {
  return parseMetrics(await m.text());
}

describe('outboundMeaning', () => {
  it('reads order outcomes from ExecType and ignores status replies, restatements and re-sends', () => {
    expect(outboundMeaning('8', [f(11, 'a'), f(20, '0'), f(150, '0'), f(39, '0')], undefined)).toEqual({ kind: 'order', outcome: 'acked' });
    expect(outboundMeaning('8', [f(150, '2'), f(39, '2')], undefined)).toEqual({ kind: 'order', outcome: 'filled' });
    expect(outboundMeaning('8', [f(150, '1')], undefined)).toEqual({ kind: 'order', outcome: 'partially_filled' });
    expect(outboundMeaning('8', [f(20, '3'), f(150, '2')], undefined)).toBeUndefined();
    expect(outboundMeaning('8', [f(150, 'D')], undefined)).toBeUndefined();
    expect(outboundMeaning('8', [f(150, '0')], [f(97, 'Y')])).toBeUndefined();
    expect(outboundMeaning('D', [f(150, '0')], undefined)).toBeUndefined();
  });

  it('names reject reasons and keeps the Text', () => {
    expect(outboundMeaning('8', [f(11, 'o1'), f(150, '8'), f(103, '1'), f(58, 'Unknown symbol XYZ')], undefined)).toEqual({
      kind: 'order_reject',
      reason: 'unknown_symbol',
      ref: 'ClOrdID o1',
      text: 'Unknown symbol XYZ',
    });
    expect(outboundMeaning('3', [f(45, '7'), f(58, 'Required tag missing'), f(371, '55'), f(372, 'D'), f(373, '1')], undefined)).toEqual({
      kind: 'session_reject',
      reason: 'required_tag_missing',
      ref: 'MsgSeqNum 7 (35=D)',
      text: 'Required tag missing',
    });
    expect(outboundMeaning('9', [f(11, 'c1'), f(102, '2'), f(58, 'The venue cannot cancel orders')], undefined)).toMatchObject({ kind: 'cancel_reject', reason: 'broker_option' });
    expect(outboundMeaning('j', [f(45, '3'), f(372, 'G'), f(380, '3'), f(58, 'Unsupported Message Type')], undefined)).toMatchObject({
      kind: 'business_reject',
      reason: 'unsupported_msg_type',
    });
    expect(outboundMeaning('8', [f(150, '8'), f(103, '99')], undefined)).toMatchObject({ reason: 'other', text: '' });
  });
});

describe('session metrics', () => {
  it('count messages by type, orders by outcome and rejects by reason; list the last rejects with their Text', async () => {
    const m = new GatewayMetrics(NO_STATE);
    const o = m.sessionObserver(S);
    o.received('A');
    o.received('D');
    o.received('D');
    o.sent('A', [], undefined);
    o.sent('8', [f(150, '0')], undefined);
    o.sent('8', [f(150, '2'), f(39, '2')], undefined);
    o.sent('8', [f(150, '2'), f(39, '2')], [f(97, 'Y')]); // a re-send: counted as a message, not as an outcome
    o.sent('8', [f(11, 'bad<1>'), f(150, '8'), f(103, '1'), f(58, 'Unknown symbol <b>')], undefined);
    o.sent('3', [f(45, '9'), f(58, 'Value is incorrect (out of range) for this tag'), f(373, '5')], undefined);
    const v = await scrape(m);
    expect(v.get(`fixgw_messages_received_total{session="${S}",msg_type="D"}`)).toBe(2);
    expect(v.get(`fixgw_messages_received_total{session="${S}",msg_type="A"}`)).toBe(1);
    expect(v.get(`fixgw_messages_sent_total{session="${S}",msg_type="8"}`)).toBe(4);
    expect(v.get(`fixgw_orders_total{session="${S}",outcome="acked",reason=""}`)).toBe(1);
    expect(v.get(`fixgw_orders_total{session="${S}",outcome="filled",reason=""}`)).toBe(1);
    expect(v.get(`fixgw_orders_total{session="${S}",outcome="rejected",reason="unknown_symbol"}`)).toBe(1);
    expect(v.get(`fixgw_session_rejects_total{session="${S}",reason="value_out_of_range"}`)).toBe(1);
    expect(m.rejects.list().map((r) => [r.kind, r.ref, r.text])).toEqual([
      ['session_reject', 'MsgSeqNum 9', 'Value is incorrect (out of range) for this tag'],
      ['order_reject', 'ClOrdID bad<1>', 'Unknown symbol <b>'],
    ]);
  });

  it('caps MsgType label values: junk types from a client count as "other"', async () => {
    const m = new GatewayMetrics(NO_STATE);
    const o = m.sessionObserver(S);
    for (let i = 0; i < 100; i++) o.received(String.fromCharCode(65 + (i % 26), 97 + Math.floor(i / 26))); // 100 distinct two-letter types
    o.received('x y');
    const v = await scrape(m);
    const types = [...v.keys()].filter((k) => k.startsWith('fixgw_messages_received_total'));
    expect(types.length).toBeLessThanOrEqual(65);
    expect(v.get(`fixgw_messages_received_total{session="${S}",msg_type="other"}`)).toBe(100 - 64 + 1);
  });

  it('reads logged-on state only when scraped', async () => {
    let loggedOn = false;
    const m = new GatewayMetrics({ sessionsLoggedOn: () => [{ session: S, loggedOn }], venues: () => [] });
    expect((await scrape(m)).get('fixgw_sessions_logged_on')).toBe(0);
    loggedOn = true;
    const v = await scrape(m);
    expect(v.get('fixgw_sessions_logged_on')).toBe(1);
    expect(v.get(`fixgw_session_logged_on{session="${S}"}`)).toBe(1);
  });

  it('times store writes into a histogram, and the process metrics include event-loop lag', async () => {
    const m = new GatewayMetrics(NO_STATE);
    const observe = m.storeFlushObserver(S, 'session');
    observe(0.0002);
    observe(0.003);
    const v = await scrape(m);
    expect(v.get(`fixgw_store_flush_duration_seconds_bucket{session="${S}",store="session",le="0.00025"}`)).toBe(1);
    expect(v.get(`fixgw_store_flush_duration_seconds_bucket{session="${S}",store="session",le="0.005"}`)).toBe(2);
    expect(v.get(`fixgw_store_flush_duration_seconds_bucket{session="${S}",store="session",le="+Inf"}`)).toBe(2);
    expect(v.get(`fixgw_store_flush_duration_seconds_count{session="${S}",store="session"}`)).toBe(2);
    expect(v.get(`fixgw_store_flush_duration_seconds_sum{session="${S}",store="session"}`)).toBeCloseTo(0.0032, 6);
    expect(v.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });
});

describe('RecentRejects', () => {
  it('keeps a client-sized ClOrdID or Text short: a 1 MB field cannot make the status page megabytes', () => {
    const m = new GatewayMetrics(NO_STATE);
    const o = m.sessionObserver(S);
    const huge = 'X'.repeat(1 << 20); // what a FIX frame may carry (the framer's limit is 1 MB)
    for (let i = 0; i < 20; i++) o.sent('8', [f(11, huge), f(150, '8'), f(103, '0'), f(58, `Text ${huge}`)], undefined);
    const [e] = m.rejects.list();
    expect(e.ref.length).toBeLessThan(300);
    expect(e.text.length).toBeLessThan(300);
    expect(e.ref.startsWith('ClOrdID XXXX')).toBe(true);
    expect(e.ref).toMatch(/… \(1048584 characters\)$/); // says it was cut, and from what ('ClOrdID ' + 1 MB)
  });

  it('keeps the last N, newest first', () => {
    const r = new RecentRejects(3);
    for (let i = 1; i <= 5; i++) r.add({ at: i, session: S, kind: 'order_reject', reason: 'other', ref: `${i}`, text: `t${i}` });
    expect(r.list().map((e) => e.text)).toEqual(['t5', 't4', 't3']);
  });
});

describe('venue monitor (the adapter seen at the gateway boundary)', () => {
  it('names the error class of a failure', () => {
    expect(venueErrorClass(new DuplicateOrder('x'))).toBe('DuplicateOrder');
    expect(venueErrorClass(new OrderRejected('invalid_order', 'x'))).toBe('OrderRejected');
    expect(venueErrorClass(new OrderNotFound('x'))).toBe('OrderNotFound');
    expect(venueErrorClass(new RateLimited('x', 10))).toBe('RateLimited');
    expect(venueErrorClass(new AuthenticationFailed('x'))).toBe('AuthenticationFailed');
    expect(venueErrorClass(new OutcomeUnknown('x'))).toBe('OutcomeUnknown');
    expect(venueErrorClass(new VenueError('x'))).toBe('VenueError');
    expect(venueErrorClass(new TypeError('x'))).toBe('Error');
  });

  it('times calls by operation, counts failures by class, follows the stream, and is ready only when started and connected', async () => {
    const m = new GatewayMetrics(NO_STATE);
    const mon = new VenueMonitor(m, S, 'fakevenue', 'simulator');
    const fake = new FakeVenueAdapter();
    const venue = mon.wrap(fake);
    expect(venue.capabilities).toBe(fake.capabilities);
    expect(typeof venue.trackOrders).toBe('function');
    expect(mon.ready).toBe(false);
    await venue.start();
    fake.setStreamState('connected');
    expect(mon.ready).toBe(true);
    await venue.placeOrder({ clientOrderId: 'c1', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '10', timeInForce: 'GTC' });
    fake.script('placeOrder', { fail: new OutcomeUnknown('timeout') });
    await expect(venue.placeOrder({ clientOrderId: 'c2', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '10', timeInForce: 'GTC' })).rejects.toThrow('timeout');
    await expect(venue.getOrder({ clientOrderId: 'nope', symbol: 'BTCUSDT' })).rejects.toBeInstanceOf(OrderNotFound);
    fake.setStreamState('disconnected');
    expect(mon.ready).toBe(false);
    expect(mon.status().stream).toBe('disconnected');
    fake.setStreamState('connected');
    mon.gatewayObserver.reconciled();
    mon.gatewayObserver.unknownOutcomeResolved('absent');
    const v = await scrape(m);
    expect(v.get('fixgw_venue_request_duration_seconds_count{venue="fakevenue",operation="place_order"}')).toBe(2);
    expect(v.get('fixgw_venue_request_duration_seconds_count{venue="fakevenue",operation="start"}')).toBe(1);
    expect(v.get('fixgw_venue_errors_total{venue="fakevenue",operation="place_order",class="OutcomeUnknown"}')).toBe(1);
    expect(v.get('fixgw_venue_errors_total{venue="fakevenue",operation="get_order",class="OrderNotFound"}')).toBe(1);
    expect(v.get(`fixgw_venue_stream_reconnects_total{session="${S}",venue="fakevenue"}`)).toBe(1);
    expect(v.get(`fixgw_venue_reconciliations_total{session="${S}",venue="fakevenue"}`)).toBe(1);
    expect(v.get(`fixgw_unknown_outcomes_resolved_total{session="${S}",venue="fakevenue",outcome="absent"}`)).toBe(1);
    expect(mon.status().lastReconciliationAt).toBeGreaterThan(0);
    await venue.stop();
    expect(mon.ready).toBe(false);
  });

  it('a failed start is not ready and says why', async () => {
    const mon = new VenueMonitor(new GatewayMetrics(NO_STATE), S, 'fakevenue', 'simulator');
    const fake = new FakeVenueAdapter();
    fake.script('start', { fail: new AuthenticationFailed('bad key') });
    await expect(mon.wrap(fake).start()).rejects.toThrow('bad key');
    expect(mon.status()).toMatchObject({ started: false, ready: false, lastError: 'bad key' });
  });

  it('reads the rate-limit queue of every limiter built from the watched limits', async () => {
    let venues: MetricsState['venues'] = () => [];
    const m = new GatewayMetrics({ sessionsLoggedOn: () => [], venues: () => venues() });
    const mon = new VenueMonitor(m, S, 'fakevenue', 'simulator');
    venues = () => [{ session: S, venue: 'fakevenue', ready: mon.ready, streamConnected: false, queued: mon.status().queued }];
    const limits = mon.watchRateLimits({ budgets: [{ name: 'orders', limit: 1, windowMs: 1000, weights: { orders: 1 } }], maxQueue: 10 });
    const limiter = new RateLimiter(limits);
    const ran: number[] = [];
    for (let i = 0; i < 4; i++) limiter.schedule('orders', () => ran.push(i)).catch(() => undefined);
    expect(ran).toEqual([0]);
    expect(mon.status().queued).toEqual({ orders: 3, queries: 0 });
    expect((await scrape(m)).get(`fixgw_venue_rate_limit_queue_depth{session="${S}",venue="fakevenue",class="orders"}`)).toBe(3);
    limiter.close();
    expect(mon.status().queued.orders).toBe(0);
  });
});
