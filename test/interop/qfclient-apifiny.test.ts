// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Apifiny simulator: every ExecutionReport and OrderCancelReject of the
// Apifiny scenario passes its validation (0 errors), every step passes, and the ER invariants of
// shared/qfclient/fixinvariants.py hold over everything it received.
import { QfclientOnVenue, expectCleanScenario } from '../support/qfclient-venue';

jest.setTimeout(240_000);

let q: QfclientOnVenue;
beforeAll(async () => {
  q = await QfclientOnVenue.start('apifiny');
});
afterAll(async () => {
  await q?.stop();
});

test('apifiny scenario: IOC ending PART_FILLED, rest, status, cancel, too-late cancel, fill, post-only, FOK and ExDestination rejects, duplicate, unknown order: all steps pass, 0 validation errors', async () => {
  const r = await q.scenario('apifiny-basic.json');
  expectCleanScenario(r);
  expect(Number(/^(\d+) passed/m.exec(r.stdout)![1])).toBeGreaterThanOrEqual(28);
  // The venue's view: the IOC ended partly filled (PART_FILLED), the resting order canceled.
  const { orders } = await q.sim.request<{ orders: Array<{ status: string; cumQty: string; timeInForce: string; qty: string }> }>('GET', '/__sim/orders');
  expect(orders.find((o) => o.qty === '3')).toMatchObject({ cumQty: '1', timeInForce: 'IOC' });
  expect(orders.filter((o) => o.status === 'canceled')).toHaveLength(1);
});
