// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Coinut simulator: every ExecutionReport and OrderCancelReject we send
// must pass its validation (0 errors), every scenario step must pass, and the ER invariants of
// shared/qfclient/fixinvariants.py must hold over everything it received.
import { QfclientOnVenue, expectCleanScenario } from '../support/qfclient-venue';

jest.setTimeout(240_000);

let q: QfclientOnVenue;
beforeAll(async () => {
  q = await QfclientOnVenue.start('coinut');
});
afterAll(async () => {
  await q?.stop();
});

test('coinut scenario: rest, status, cancel, too-late cancel, three-level fill with exact AvgPx, market order, local rejects, duplicate, unknown order — all steps pass, 0 validation errors, invariants hold', async () => {
  expectCleanScenario(await q.scenario('coinut-basic.json'));
  // The venue's view: one order per NewOrderSingle that passed validation (R1, F1, M1).
  const { orders } = await q.sim.request<{ orders: Array<{ status: string; clientOrderId: string }> }>('GET', '/__sim/orders');
  expect(orders.map((o) => o.status).sort()).toEqual(['canceled', 'filled', 'filled']);
  for (const o of orders) expect(o.clientOrderId).toMatch(/^[1-9]\d{0,7}$/);
});
