// Venue client order ids never collide between sessions, and a DuplicateOrder is adopted only when
// the venue's order is provably ours (same content).
import { DuplicateOrder } from '../../src/venues/venue';
import { SessionConfig } from '../../src/fix/config/session-settings';
import { checkVenueIdPrefixes, venueIdPrefixFor } from '../../src/wiring';
import { venueClientOrderIdFor } from '../../src/gateway/order-validation';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

function cfg(begin: string, sender: string, target: string): SessionConfig {
  return { sessionId: `${begin}:${sender}->${target}`, beginString: begin, senderCompId: sender, targetCompId: target, application: 'gateway', file: 'sessions.cfg', line: 1, origin: {} } as unknown as SessionConfig;
}

describe('venue id prefix', () => {
  test('sessions differing only in SenderCompID, or in the TargetCompID past its 8th character, get different ids for the same counter', () => {
    const sessions = [cfg('FIX.4.2', 'GW1', 'DESKALPHA1'), cfg('FIX.4.2', 'GW2', 'DESKALPHA1'), cfg('FIX.4.2', 'GW1', 'DESKALPHA2'), cfg('FIX.4.4', 'GW1', 'DESKALPHA1')];
    const ids = sessions.map((s) => venueClientOrderIdFor(venueIdPrefixFor(s), 1_800_000_000_000, 32));
    expect(new Set(ids).size).toBe(sessions.length);
    expect(() => checkVenueIdPrefixes(sessions)).not.toThrow();
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(32);
  });

  test('start-up refuses two gateway sessions with the same prefix', () => {
    const a = cfg('FIX.4.2', 'GW1', 'DESK');
    expect(() => checkVenueIdPrefixes([a, { ...a, line: 9 } as SessionConfig])).toThrow(/prefix .* is also that of session FIX.4.2:GW1->DESK/);
  });
});

describe('DuplicateOrder on create', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const incidents = (h: Harness) => h.logs.filter((l) => l.level === 50 && /incident/i.test(String(l.msg)));

  test('the venue order with our id is not ours (other content): rejected with a Text naming the collision, not adopted, incident logged', async () => {
    const venue = new FakeVenueAdapter({ refusesReusedClientOrderId: true });
    h = await startHarness({ venue });
    venue.script('placeOrder', { fail: new DuplicateOrder('duplicate', '-1141', 'Duplicate order') });
    venue.script('getOrder', {
      answer: { clientOrderId: 'x', venueOrderId: '999', symbol: 'BTCUSDT', side: 'sell', type: 'limit', quantity: '5', price: '200', status: 'new', rawStatus: 'NEW', filledQty: '0', updateTime: Date.now() },
    });
    await h.deliver(nos('D1'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'D1' && m.get(150) === '8'), 3000, '150=8 for D1');
    const rej = h.session.about('D1').find((m) => m.get(150) === '8')!;
    expect(rej.get(58)).toMatch(/collision/i);
    expect(h.book.get('D1')!.venueOrderId).toBeUndefined();
    await tick(10);
    expect(incidents(h)).toHaveLength(1);
  });

  test('the venue order with our id has our content: adopted (150=0)', async () => {
    const venue = new FakeVenueAdapter({ refusesReusedClientOrderId: true });
    h = await startHarness({ venue });
    venue.script('placeOrder', { fail: new DuplicateOrder('duplicate', '-1141', 'Duplicate order') });
    venue.script('getOrder', {
      answer: { clientOrderId: 'x', venueOrderId: '998', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1.000', price: '100.0', status: 'new', rawStatus: 'NEW', filledQty: '0', updateTime: Date.now() },
    });
    await h.deliver(nos('D2'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'D2' && m.get(150) === '0'), 3000, '150=0 for D2');
    expect(h.book.get('D2')!.venueOrderId).toBe('998');
  });
});
