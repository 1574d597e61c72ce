// Venue client order ids never collide between sessions, and a DuplicateOrder is adopted only when
// the venue's order is provably ours (same content).
import { DuplicateOrder } from '../../src/venues/venue';
import { SessionConfig } from '../../src/fix/config/session-settings';
import { checkVenueIdPrefixes, INTEGER_ID_PARTITIONS, integerIdPartitionFor, venueIdPrefixFor } from '../../src/wiring';
import { VENUES } from '../../src/venues/registry';
import { integerIdSubrange } from '../../src/gateway/order-validation';
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

describe('integer client order id slices (Coinut: ids not unique-enforced, every event to every session of the account)', () => {
  const coinut = (sender: string, target: string, venue: Record<string, unknown>) =>
    ({ ...cfg('FIX.4.2', sender, target), venue: { name: 'coinut', environment: 'production', account: 'desk', apiKey: 'k', ...venue } }) as unknown as SessionConfig;

  test('the slices of the range are disjoint, inside it, and cover all but its remainder; a session keeps its slice', () => {
    const slices = Array.from({ length: INTEGER_ID_PARTITIONS }, (_, index) => integerIdSubrange(1, 16_777_215, { index, count: INTEGER_ID_PARTITIONS }));
    expect(slices[0]).toEqual({ min: 1, max: 262_143 });
    for (let i = 1; i < slices.length; i++) expect(slices[i].min).toBe(slices[i - 1].max + 1);
    expect(slices[slices.length - 1].max).toBeLessThanOrEqual(16_777_215);
    const s = coinut('GW', 'DESK1', {});
    expect(integerIdPartitionFor(s)).toEqual(integerIdPartitionFor({ ...s }));
  });

  test('start-up refuses two sessions on one Coinut account in the same slice, and accepts them on different accounts', () => {
    // Two TargetCompIDs whose sessions hash to the same slice.
    const first = coinut('GW', 'DESK0', {});
    let clash: SessionConfig | undefined;
    for (let i = 1; clash === undefined; i++) {
      const c = coinut('GW', `DESK${i}`, {});
      if (integerIdPartitionFor(c).index === integerIdPartitionFor(first).index) clash = c;
    }
    expect(() => checkVenueIdPrefixes([first, clash!])).toThrow(/one coinut account .* same slice/);
    expect(() => checkVenueIdPrefixes([first, { ...clash!, venue: { ...clash!.venue!, account: 'other' } } as SessionConfig])).not.toThrow();
    // Two in-process simulators are two venues.
    const sim = (c: SessionConfig) => ({ ...c, venue: { name: 'coinut', environment: 'simulator' } }) as unknown as SessionConfig;
    expect(() => checkVenueIdPrefixes([sim(first), sim(clash!)])).not.toThrow();
  });

  test('the registry says which venues have integer ids exactly as their adapters declare it', () => {
    // URLs as each simulator serves them (the URL rule); the adapters only keep them here.
    const urls: Record<string, [string, string]> = {
      hashkey: ['http://127.0.0.1:1', 'ws://127.0.0.1:1/api/v1/ws'],
      zerocap: ['http://127.0.0.1:1/v2', 'ws://127.0.0.1:1/v2'],
      dzengi: ['http://127.0.0.1:1', 'ws://127.0.0.1:1/connect'],
      apifiny: ['http://127.0.0.1:1/ac/v2/BINANCE', 'ws://127.0.0.1:1/ac/ws/v2/BINANCE/order'],
      coinut: ['http://127.0.0.1:1', 'ws://127.0.0.1:1'],
    };
    for (const mod of Object.values(VENUES)) {
      const [restUrl, wsUrl] = urls[mod.name];
      const adapter = mod.createAdapter(
        { restUrl, wsUrl, ...mod.simulatorCredentials },
        { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never,
      );
      expect([mod.name, adapter.capabilities.clientOrderId.kind === 'integer']).toEqual([mod.name, mod.integerClientOrderIds === true]);
    }
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
