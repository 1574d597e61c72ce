// What the order router tells the admin endpoint beyond the venue boundary: reconciliations that
// reached the venue, and how creates of unknown outcome were settled.
import { GatewayObserver } from '../../src/gateway/gateway-observer';
import { OutcomeUnknown } from '../../src/venues/venue';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

function recorder(): GatewayObserver & { events: string[] } {
  const events: string[] = [];
  return { events, reconciled: () => events.push('reconciled'), unknownOutcomeResolved: (o) => events.push(`resolved:${o}`) };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('a reconciliation counts once it reached the venue; one whose open-order query failed does not', async () => {
  const obs = recorder();
  h = await startHarness({ observer: obs });
  await h.deliver(nos('O1', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'O1' && m.get(150) === '0'), 2000, '150=0 for O1');
  h.venue.script('openOrders', { fail: new OutcomeUnknown('venue unreachable') });
  h.venue.setStreamState('connected');
  await tick(300);
  expect(obs.events).toEqual([]);
  h.venue.setStreamState('disconnected');
  h.venue.setStreamState('connected');
  await tick(300);
  expect(obs.events).toEqual(['reconciled']);
});

test('an unknown create outcome is reported settled: found when the venue has the order, absent when proven absent', async () => {
  const obs = recorder();
  h = await startHarness({ observer: obs, unknownOutcomeProofMs: 200 });
  h.venue.script('placeOrder', { performThenFail: new OutcomeUnknown('timeout after the venue took it') }, { fail: new OutcomeUnknown('timeout before the venue saw it') });
  await h.deliver(nos('U1', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'U1' && m.get(150) === '0'), 3000, 'U1 found and acked');
  await h.deliver(nos('U2', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'U2' && m.get(150) === '8'), 5000, 'U2 proven absent and rejected');
  await tick(50);
  expect(obs.events.filter((e) => e.startsWith('resolved'))).toEqual(['resolved:found', 'resolved:absent']);
});
