// The status page as pure rendering: what it shows, that client input is escaped, that it needs
// nothing from outside and fits a phone.
import { esc, renderStatusPage, StatusSnapshot, when } from '../../src/ops/status-page';

const NOW = Date.UTC(2026, 11, 4, 8, 30, 0);

function snapshot(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    now: NOW,
    ready: { ready: true, reasons: [] },
    sessions: [
      {
        id: 'FIX.4.2:GATEWAY->QFCLIENT',
        application: 'gateway',
        venue: 'hashkey (simulator)',
        endpoint: '127.0.0.1:9878',
        status: { loggedOn: true, remote: '127.0.0.1:51234', nextSenderSeqNum: 17, nextTargetSeqNum: 12, lastReceivedAt: NOW - 3000, lastSentAt: NOW - 4000 },
      },
      {
        id: 'FIX.4.2:GATEWAY->ECHO',
        application: 'echo',
        endpoint: '127.0.0.1:9878',
        status: { loggedOn: false, nextSenderSeqNum: 1, nextTargetSeqNum: 1, lastReceivedAt: 0, lastSentAt: 0 },
      },
    ],
    venues: [
      {
        session: 'FIX.4.2:GATEWAY->QFCLIENT',
        venue: 'hashkey',
        environment: 'simulator',
        started: true,
        stream: 'connected',
        streamSince: NOW - 60_000,
        lastReconciliationAt: NOW - 59_000,
        queued: { orders: 2, queries: 5 },
        ready: true,
      },
    ],
    rejects: [
      { at: NOW - 1000, session: 'FIX.4.2:GATEWAY->QFCLIENT', kind: 'order_reject', reason: 'unknown_symbol', ref: 'ClOrdID <x>', text: 'Unknown symbol "<script>alert(1)</script>" & more' },
    ],
    refreshSeconds: 5,
    ...over,
  };
}

describe('status page rendering', () => {
  it('shows each session with its state, seqnums, remote address and last message time', () => {
    const html = renderStatusPage(snapshot());
    const row = /<tr data-session="FIX\.4\.2:GATEWAY-&gt;QFCLIENT">(.*?)<\/tr>/.exec(html)![1];
    expect(row).toContain('logged on');
    expect(row).toMatch(/class="num seq-in"[^>]*>12</);
    expect(row).toMatch(/class="num seq-out"[^>]*>17</);
    expect(row).toContain('127.0.0.1:51234');
    expect(row).toContain('08:29:57Z (3 s ago)');
    const echo = /<tr data-session="FIX\.4\.2:GATEWAY-&gt;ECHO">(.*?)<\/tr>/.exec(html)![1];
    expect(echo).toContain('logged off');
    expect(echo).toContain('never');
  });

  it('shows each venue with its stream state, last reconciliation and queued requests', () => {
    const html = renderStatusPage(snapshot());
    const row = /<tr data-venue-session="[^"]*">(.*?)<\/tr>/.exec(html)![1];
    expect(row).toContain('hashkey');
    expect(row).toContain('connected since 08:29:00Z (60 s ago)');
    expect(row).toContain('08:29:01Z (59 s ago)');
    expect(row).toMatch(/class="num queued"[^>]*>2 \/ 5</);
  });

  it('escapes every text that can hold client input', () => {
    const html = renderStatusPage(snapshot());
    expect(html).not.toContain('<script>');
    expect(html).toContain('Unknown symbol &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; more');
    expect(html).toContain('ClOrdID &lt;x&gt;');
    expect(esc(`<a href='x'>&"`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
  });

  it('is one self-contained document for a phone: viewport, inline CSS, no scripts or external assets, auto-refresh', () => {
    const html = renderStatusPage(snapshot());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    // On a narrow screen each row becomes a card whose cells say what they are.
    expect(html).toMatch(/@media \(max-width:640px\)/);
    expect(html).toContain('<td class="num seq-in" data-label="next in">12</td>');
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(renderStatusPage(snapshot({ refreshSeconds: 0 }))).not.toContain('http-equiv="refresh"');
  });

  it('says why it is not ready, and what a venue that never started failed with', () => {
    const html = renderStatusPage(
      snapshot({
        ready: { ready: false, reasons: ['venue hashkey (FIX.4.2:GATEWAY->QFCLIENT): stream disconnected'] },
        venues: [{ session: 'S', venue: 'hashkey', environment: 'production', started: false, queued: { orders: 0, queries: 0 }, lastError: 'HTTP 401 <bad key>', ready: false }],
        rejects: [],
      }),
    );
    expect(html).toContain('<span class="badge bad">not ready</span>');
    expect(html).toContain('<li>venue hashkey (FIX.4.2:GATEWAY-&gt;QFCLIENT): stream disconnected</li>');
    expect(html).toContain('not started');
    expect(html).toContain('HTTP 401 &lt;bad key&gt;');
    expect(html).toContain('No rejects since start-up.');
  });

  it('formats times as UTC with how long ago', () => {
    expect(when(undefined, NOW)).toBe('never');
    expect(when(NOW - 5 * 60_000, NOW)).toBe('08:25:00Z (5 min ago)');
    expect(when(NOW - 3 * 3600_000, NOW)).toBe('05:30:00Z (3 h ago)');
    expect(when(NOW - 10 * 3600_000, NOW)).toBe('2026-12-03 22:30:00Z (10 h ago)');
  });
});
