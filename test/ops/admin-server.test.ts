// The admin HTTP server over real loopback HTTP with a stubbed source, and the endpoint's
// readiness rule (acceptor listening, every venue ready).
import pino from 'pino';
import { AdminEndpoint } from '../../src/ops/admin-endpoint';
import { AdminServer, AdminSource } from '../../src/ops/admin-server';
import { SessionConfig } from '../../src/fix/config/session-settings';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';

const silent = pino({ level: 'silent' });

function source(over: Partial<AdminSource> = {}): AdminSource {
  return {
    metricsText: async () => 'fixgw_sessions_logged_on 0\n',
    metricsContentType: 'text/plain; version=0.0.4; charset=utf-8',
    readiness: () => ({ ready: false, reasons: ['FIX acceptor not listening'] }),
    snapshot: () => ({ now: Date.now(), ready: { ready: true, reasons: [] }, sessions: [], venues: [], rejects: [], refreshSeconds: 5 }),
    ...over,
  };
}

async function withServer(src: AdminSource, fn: (base: string) => Promise<void>): Promise<void> {
  const server = new AdminServer(src, silent);
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    await server.close();
  }
}

describe('admin server', () => {
  it('serves GET and HEAD, refuses other methods, 404s unknown paths', async () => {
    await withServer(source(), async (base) => {
      const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '27', '']);
      const post = await fetch(`${base}/ready`, { method: 'POST' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
      expect((await fetch(`${base}/admin`)).status).toBe(404);
      const ready = await fetch(`${base}/ready?verbose=1`);
      expect([ready.status, await ready.json()]).toEqual([503, { status: 'not ready', reasons: ['FIX acceptor not listening'] }]);
    });
  });

  it('serves the page with a policy that runs no script, and never caches', async () => {
    await withServer(source(), async (base) => {
      const res = await fetch(`${base}/`);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).toContain('<!doctype html>');
    });
  });

  it('answers 500 when the metrics cannot be read, and keeps serving', async () => {
    await withServer(source({ metricsText: async () => Promise.reject(new Error('collector broke')) }), async (base) => {
      expect((await fetch(`${base}/metrics`)).status).toBe(500);
      expect((await fetch(`${base}/health`)).status).toBe(200);
    });
  });
});

describe('readiness', () => {
  const cfg = { sessionId: 'FIX.4.2:GW->C', venue: { name: 'fake', environment: 'simulator' } } as SessionConfig;

  it('is ready only when the acceptor listens and every venue is started with its stream connected', async () => {
    const admin = new AdminEndpoint({ host: '127.0.0.1', port: 0 }, silent);
    expect(admin.readiness()).toEqual({ ready: false, reasons: ['FIX acceptor not listening'] });
    admin.setAcceptorListening(true);
    expect(admin.readiness().ready).toBe(true);

    const fake = new FakeVenueAdapter();
    const venue = admin.venueMonitor(cfg, 'fake').wrap(fake);
    expect(admin.readiness()).toEqual({ ready: false, reasons: ['venue fake (FIX.4.2:GW->C): not started'] });
    await venue.start();
    expect(admin.readiness().reasons).toEqual(['venue fake (FIX.4.2:GW->C): stream not connected yet']);
    fake.setStreamState('connected');
    expect(admin.readiness()).toEqual({ ready: true, reasons: [] });
    fake.setStreamState('disconnected');
    expect(admin.readiness().reasons).toEqual(['venue fake (FIX.4.2:GW->C): stream disconnected']);
  });
});
