// The windows the shared session journal and the overlapped pre-save open, across real SIGKILLs of
// the gateway child (the HashKey simulator runs as its own child and keeps the venue's state):
//  - power loss after the pre-save was written but before its fdatasync (the venue call had started):
//    simulated by a SIGKILL and cutting the journal back to before the NewOrderSingle, as an OS crash
//    would drop the unflushed tail. The client's resend (PossDup, same MsgSeqNum) gets the same
//    venue client order id, which the venue refuses as a reuse (-1141): the order is found, never
//    placed twice;
//  - SIGKILL at arbitrary instants in a stream of orders, which lands in the overlapped pre-save,
//    between a venue reply and its journal write, and between the shared write and the wire:
//    afterwards every order is at the venue exactly once, each report reaches the client once
//    (a PossDup resend aside), seqnums continue;
//  - the durable writes per order: the gateway logs its journal's fdatasyncs at shutdown.
import * as fs from 'fs';
import * as path from 'path';
import { FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, journalPath } from '../support/gateway-process';
import { CLIENT_COMP_ID, GATEWAY_COMP_ID, expectFixInvariants, fileSize, logonAndSync, nosFields, waitUntil } from '../support/gateway-e2e';
import { sleep, useVenueCrashSuite } from '../support/venue-crash-suite';

jest.setTimeout(90_000);

const suite = useVenueCrashSuite({ session: { VenueRateLimitOrders: 1000, VenueRateLimitQueries: 1000 } });
const { startGateway, connectClient } = suite;

/** 150=0 reports per ClOrdID, PossDup resends of one already received dropped; throws on an ExecID sent twice without PossDup. */
function acks(client: FixTestClient): Map<string, number> {
  const seen = new Map<string, boolean>();
  const out = new Map<string, number>();
  for (const m of client.received) {
    if (m.msgType !== '8' || m.get(20) !== '0') continue;
    const id = m.get(17)!;
    if (seen.has(id)) {
      if (!m.possDup) throw new Error(`ExecID ${id} sent twice without PossDup`);
      continue;
    }
    seen.set(id, true);
    if (m.get(150) === '0') out.set(m.get(11)!, (out.get(m.get(11)!) ?? 0) + 1);
  }
  return out;
}

const journalOf = (gw: GatewayProcess) => journalPath(gw.storeDir, GATEWAY_COMP_ID, CLIENT_COMP_ID);

test('power loss after the overlapped pre-save was written, before its flush: the resent order gets the same venue id, is refused as a reuse and found, never placed twice', async () => {
  const sim = suite.control;
  let gw = await startGateway();
  const { client, rec } = await connectClient(gw.port);
  await sleep(300); // the Logon's records are flushed
  const file = journalOf(gw);
  const beforeOrder = fileSize(file);
  // (A gateway that keeps the order book in a file of its own: that file's tail is lost too.)
  const bookFile = path.join(gw.storeDir, 'orders', `${path.basename(file, '.journal')}.orders.journal`);
  const bookBefore = fs.existsSync(bookFile) ? fileSize(bookFile) : undefined;
  // The venue takes the order and never answers (nor streams it): the gateway is mid-call.
  await sim.armFaults([
    { kind: 'timeoutAfter', operation: 'create', holdMs: 60_000 },
    { kind: 'suppressStreamEvents', count: 1 },
  ]);
  const price = '51234.56';
  client.send('D', nosFields('PL-1', { symbol: 'BTCUSDT', qty: '0.2', price }));
  for (let i = 0; !(await sim.orders({ symbol: 'BTCUSDT' })).some((o) => o.price === price); i++) {
    if (i > 100) throw new Error('the venue never got the order');
    await sleep(20);
  }
  await gw.kill('SIGKILL');
  await client.waitClosed(5000);
  expect(client.received.filter((m) => m.msgType === '8' && m.get(11) === 'PL-1')).toEqual([]);
  // The OS crash drops what was not flushed: the pre-save and everything after it.
  expect(fileSize(file)).toBeGreaterThan(beforeOrder);
  fs.truncateSync(file, beforeOrder);
  if (bookBefore !== undefined) fs.truncateSync(bookFile, bookBefore);
  await sim.clearFaults();

  gw = await startGateway(gw);
  await client.reconnect(gw.port);
  await logonAndSync(client); // the gateway asks for the NewOrderSingle again; the client resends it (PossDup)
  await waitUntil(client, () => (acks(client).get('PL-1') ?? 0) >= 1, 15_000, 'ack of PL-1 after the restart');
  await sleep(300);
  expect(acks(client).get('PL-1')).toBe(1);
  const atVenue = (await sim.orders({ symbol: 'BTCUSDT' })).filter((o) => o.price === price);
  expect(atVenue).toHaveLength(1);
  expect(client.received.find((m) => m.get(11) === 'PL-1' && m.get(150) === '0')!.get(37)).toBe(atVenue[0].orderId);
  expectFixInvariants(rec);
});

test('SIGKILL at arbitrary instants in a stream of orders: each order at the venue once, each acked once, seqnums continue', async () => {
  const sim = suite.control;
  let gw = await startGateway();
  const { client, rec } = await connectClient(gw.port);
  const sent: { clOrdId: string; price: string }[] = [];
  // Kill delays spread over the life of an order: intake + pre-save, the venue call, the reply's
  // commit, the shared write and the wire.
  const delays = [2, 7, 15, 30];
  for (let round = 0; round < delays.length; round++) {
    for (let i = 0; i < 12; i++) {
      const clOrdId = `SK-${round}-${i}`;
      const price = `5${round}${String(100 + i)}.${String(25 + round)}`;
      sent.push({ clOrdId, price });
      client.send('D', nosFields(clOrdId, { symbol: 'BTCUSDT', qty: '0.01', price }));
      if (i === 5) await sleep(delays[round]);
    }
    await sleep(delays[round]);
    await gw.kill('SIGKILL');
    await client.waitClosed(5000);
    gw = await startGateway(gw);
    await client.reconnect(gw.port);
    await logonAndSync(client, 10_000);
    await waitUntil(client, () => sent.every((s) => (acks(client).get(s.clOrdId) ?? 0) >= 1), 20_000, `every order acked after restart ${round + 1}`);
  }
  await sleep(500);
  const a = acks(client);
  expect(sent.filter((s) => a.get(s.clOrdId) !== 1)).toEqual([]);
  const venueOrders = await sim.orders({ symbol: 'BTCUSDT' });
  const twice = sent.filter((s) => venueOrders.filter((o) => o.price === s.price).length !== 1);
  expect(twice).toEqual([]);
  expectFixInvariants(rec);
});

test('durable writes per order: at most two fdatasyncs per acknowledged order (the pre-save, then the ack with its report)', async () => {
  const gw = await startGateway();
  const { client } = await connectClient(gw.port);
  await sleep(300);
  const n = 20;
  for (let i = 0; i < n; i++) {
    const from = client.received.length;
    client.send('D', nosFields(`DW-${i}`, { symbol: 'BTCUSDT', qty: '0.01', price: `4${String(1000 + i)}.5` }));
    await waitUntil(client, () => client.received.slice(from).some((m) => m.get(11) === `DW-${i}` && m.get(150) === '0'), 5000, `ack of DW-${i}`);
  }
  const before = gw.logs().length;
  await gw.stop();
  const stats = gw.logs().slice(before).find((e) => e.msg === 'journal stats') as { durableWrites: number } | undefined;
  expect(stats).toBeDefined();
  // Start-up, logon and logout add a handful; three per order (as before: book, book + outbox, session store) would be 60+.
  expect(stats!.durableWrites).toBeLessThanOrEqual(2 * n + 10);
});
