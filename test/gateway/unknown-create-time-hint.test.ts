// Gateway-level (fake venue, no sockets): a create of unknown outcome is looked up with the time
// span in which its request could have been sent (OrderRef.sentBetween), so a venue that can only
// search by time (Zerocap's fetch_orders) reads a window of seconds, not a day of history.
// `from` is the order's createdAt (the D arrived before any send), `to` the moment the resolver
// started (every request for the order was sent before then): after a failed create and at a
// restart's recovery alike.
import { OrderRef, OutcomeUnknown } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(15_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const lookups = (venue: FakeVenueAdapter) => venue.calls.filter((c) => c.op === 'getOrder').map((c) => c.arg as OrderRef);

test('a create that timed out is looked up with sentBetween = [createdAt, when resolution started]', async () => {
  h = await startHarness();
  const create = h.venue.script('placeOrder', 'hold');
  await h.deliver(nos('T1'));
  const held = await create.arrived;
  await tick(30);
  const failedAt = Date.now();
  held.reject(new OutcomeUnknown('timed out after the send'));
  await h.venue.whenCalled('getOrder');
  const createdAt = h.book.get('T1')!.createdAt;
  const [ref] = lookups(h.venue);
  expect(ref.venueOrderId).toBeUndefined();
  expect(ref.sentBetween).toBeDefined();
  expect(ref.sentBetween!.from).toBe(createdAt);
  // The request went out before it failed, and the resolver starts after the failure.
  expect(ref.sentBetween!.to).toBeGreaterThanOrEqual(failedAt);
  expect(ref.sentBetween!.to).toBeLessThanOrEqual(Date.now());
});

test('at a restart, an unanswered create is looked up with sentBetween = [createdAt, the recovery]', async () => {
  const venue = new FakeVenueAdapter();
  h = await startHarness({ venue });
  const create = venue.script('placeOrder', 'hold');
  await h.deliver(nos('T2'));
  await create.arrived; // sent, never answered: the process "dies" here
  const createdAt = h.book.get('T2')!.createdAt;
  const dir = h.dir;
  await h.close(true);
  const restartedAt = Date.now();
  h = await startHarness({ venue, dir });
  await venue.whenCalled('getOrder');
  const ref = lookups(venue).at(-1)!;
  expect(ref.sentBetween).toEqual({ from: createdAt, to: expect.any(Number) });
  expect(ref.sentBetween!.to).toBeGreaterThanOrEqual(restartedAt);
  expect(ref.sentBetween!.to).toBeLessThanOrEqual(Date.now());
});
