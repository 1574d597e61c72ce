// The admin endpoint of a real gateway child (HttpAcceptPort) trading on a HashKey simulator
// child: orders sent over FIX/TCP show up in /metrics, /ready says ready, and says not ready (with
// the reason) once the venue's simulator is gone, while /health still answers.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FixMsg } from '../support/fix-test-client';
import { killAllGateways, REPO_ROOT } from '../support/gateway-process';
import { killAllSimulators, reportsFor, startVenueE2e, VenueE2e, waitForMessage, waitUntil } from '../support/gateway-e2e';
import { parseMetrics } from '../support/prometheus-text';

jest.setTimeout(40_000);

const SESSION = 'FIX.4.2:GATEWAY->QFCLIENT';

let e: VenueE2e;
let base: string;

async function get(path: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`${what}: last seen ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the Dockerfile's HEALTHCHECK command (outside Docker) against this gateway; its exit code. */
function dockerHealthcheck(): Promise<number> {
  const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, '');
  const cmd = /^HEALTHCHECK .*? CMD (\[.*\])$/m.exec(dockerfile);
  if (!cmd) throw new Error('no HEALTHCHECK ... CMD [...] in the Dockerfile');
  const [program, ...args] = JSON.parse(cmd[1]) as string[];
  expect(program).toBe('node');
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, HEALTHCHECK_URL: `${base}/ready` }, timeout: 10_000 }, (err) =>
      resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
    );
  });
}

beforeAll(async () => {
  e = await startVenueE2e('hashkey', { defaults: { HttpAcceptPort: 0 } });
  const listening = await e.gw.waitForLog((l) => l.msg === 'admin endpoint listening');
  base = `http://127.0.0.1:${listening.port}`;
});

afterAll(async () => {
  await e?.stop();
  await killAllGateways();
  await killAllSimulators();
});

test('/health answers and /ready says ready once the acceptor listens and the venue stream is up', async () => {
  expect(await get('/health')).toMatchObject({ status: 200, body: '{"status":"ok"}\n' });
  const ready = await eventually('ready', () => get('/ready'), (r) => r.status === 200);
  expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
  expect(await dockerHealthcheck()).toBe(0);
  expect((await get('/nothing')).status).toBe(404);
});

test('/metrics counts the orders sent over FIX: acked, filled, rejected by reason, with venue latency and store flushes', async () => {
  const { client, profile } = e;
  const from = client.received.length;
  client.send('D', e.nos('m-fill', { price: profile.fillingBuyPrice }));
  client.send('D', e.nos('m-rest'));
  client.send('D', e.nos('m-bad', { symbol: 'NOPEUSDT' }));
  await waitUntil(client, () => reportsFor(client, 'm-fill', from).some((m) => m.get(39) === '2'), 10_000, 'm-fill filled');
  await waitUntil(client, () => reportsFor(client, 'm-rest', from).some((m) => m.get(150) === '0'), 10_000, 'm-rest acked');
  const bad = await waitForMessage(client, (m: FixMsg) => m.msgType === '8' && m.get(11) === 'm-bad', { from, timeoutMs: 10_000 });
  expect([bad.get(150), bad.get(103)]).toEqual(['8', '1']);

  const res = await get('/metrics');
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  const v = parseMetrics(res.body);
  expect(v.get('fixgw_sessions_logged_on')).toBe(1);
  expect(v.get(`fixgw_messages_received_total{session="${SESSION}",msg_type="D"}`)).toBe(3);
  expect(v.get(`fixgw_messages_received_total{session="${SESSION}",msg_type="A"}`)).toBe(1);
  expect(v.get(`fixgw_orders_total{session="${SESSION}",outcome="acked",reason=""}`)).toBe(2);
  expect(v.get(`fixgw_orders_total{session="${SESSION}",outcome="filled",reason=""}`)).toBe(1);
  expect(v.get(`fixgw_orders_total{session="${SESSION}",outcome="rejected",reason="unknown_symbol"}`)).toBe(1);
  const sentReports = reportsFor(client, 'm-fill', from).length + reportsFor(client, 'm-rest', from).length + 1;
  expect(v.get(`fixgw_messages_sent_total{session="${SESSION}",msg_type="8"}`)).toBe(sentReports);
  expect(v.get('fixgw_venue_request_duration_seconds_count{venue="hashkey",operation="place_order"}')).toBe(2);
  expect(v.get('fixgw_venue_request_duration_seconds_count{venue="hashkey",operation="start"}')).toBe(1);
  expect(v.get(`fixgw_venue_ready{session="${SESSION}",venue="hashkey"}`)).toBe(1);
  expect(v.get(`fixgw_venue_reconciliations_total{session="${SESSION}",venue="hashkey"}`)).toBeGreaterThanOrEqual(1);
  expect(v.get(`fixgw_venue_rate_limit_queue_depth{session="${SESSION}",venue="hashkey",class="orders"}`)).toBe(0);
  expect(v.get(`fixgw_store_flush_duration_seconds_count{session="${SESSION}",store="session"}`)).toBeGreaterThan(0);
  // The order book shares the session's journal: its writes are the session's flushes, not a series of their own.
  expect(v.get(`fixgw_store_flush_duration_seconds_count{session="${SESSION}",store="orders"}`)).toBeUndefined();
  expect(v.has('nodejs_eventloop_lag_seconds')).toBe(true);
});

test('/ready says not ready, naming the venue, while its simulator is down; /health still answers', async () => {
  await e.sim.stop();
  const down = await eventually('not ready', () => get('/ready'), (r) => r.status === 503);
  expect(down.type).toBe('application/json');
  const body = JSON.parse(down.body);
  expect(body.status).toBe('not ready');
  expect(body.reasons).toEqual([`venue hashkey (${SESSION}): stream disconnected`]);
  expect((await get('/health')).status).toBe(200);
  expect(await dockerHealthcheck()).toBe(1);
  const v = parseMetrics((await get('/metrics')).body);
  expect(v.get(`fixgw_venue_ready{session="${SESSION}",venue="hashkey"}`)).toBe(0);
  expect(v.get(`fixgw_venue_stream_connected{session="${SESSION}",venue="hashkey"}`)).toBe(0);
});
