// Refused logons in /metrics (fixgw_logons_refused_total{port,reason}) on a real gateway child:
// wrong CompIDs, a wrong password, then the per-address throttle, each counted under a fixed reason
// and the FIX port: no label value comes from what the client sent.
import { FixTestClient } from '../support/fix-test-client';
import { buildConfig, GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import { parseMetrics } from '../support/prometheus-text';
import { LOGON_REFUSAL_REASONS } from '../../src/fix/acceptor';

const PASSWORD_ENV = 'LOGON_REFUSAL_METRICS_TEST_PASSWORD';
let gw: GatewayProcess;

afterAll(async () => {
  await killAllGateways();
  if (gw) removeDir(gw.dir);
});

async function refusedLogon(o: { senderCompId: string; password?: string }): Promise<void> {
  const c = await FixTestClient.connect({ port: gw.port, senderCompId: o.senderCompId });
  try {
    c.sendLogon({ heartBtInt: 30, password: o.password });
  } catch {
    /* closed at once (the throttle's back-off) */
  }
  await c.waitClosed(5000);
  expect(c.received.filter((m) => m.msgType === 'A')).toEqual([]);
  c.destroy();
}

test('refused logons are counted by port and a fixed reason', async () => {
  gw = await startGatewayProcess({
    config: buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'PWD', LogonPassword: `env:${PASSWORD_ENV}` }], {
      HttpAcceptPort: '{{PORT2}}',
      LogonFailureLimit: 3,
      LogonFailureWindow: 60,
      LogonFailureBackoff: 60,
    }),
    portCount: 2,
    env: { [PASSWORD_ENV]: 'right-one' },
  });
  await refusedLogon({ senderCompId: 'NO\u00e9SUCH"}' }); // a label value from this would break the exposition
  await refusedLogon({ senderCompId: 'PWD', password: 'wrong' });
  await refusedLogon({ senderCompId: 'PWD' });
  await refusedLogon({ senderCompId: 'PWD', password: 'right-one' }); // right, but in the back-off now

  const text = await (await fetch(`http://127.0.0.1:${gw.ports[1]}/metrics`)).text();
  const m = parseMetrics(text);
  const port = String(gw.port);
  expect(m.get(`fixgw_logons_refused_total{port="${port}",reason="unknown_session"}`)).toBe(1);
  expect(m.get(`fixgw_logons_refused_total{port="${port}",reason="password"}`)).toBe(2);
  expect(m.get(`fixgw_logons_refused_total{port="${port}",reason="throttled"}`)).toBe(1);
  for (const [series] of [...m].filter(([k]) => k.startsWith('fixgw_logons_refused_total'))) {
    const [, p, reason] = /^fixgw_logons_refused_total\{port="(\d+)",reason="([a-z_]+)"\}$/.exec(series) ?? [];
    expect(p).toBe(port);
    expect(LOGON_REFUSAL_REASONS).toContain(reason);
  }
}, 60_000);
