// The status page in a real browser: Debian's headless chromium loads it from a gateway child
// (HttpAcceptPort) trading on a HashKey simulator child, and the DOM it renders shows the FIX
// session logged on with its sequence numbers and the Text of a reject, whose client-supplied
// markup stays text. `.ci/run` installs chromium; without it the test is skipped, saying so.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixMsg } from '../support/fix-test-client';
import { killAllGateways } from '../support/gateway-process';
import { killAllSimulators, startVenueE2e, VenueE2e, waitForMessage } from '../support/gateway-e2e';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED status page browser test: ${CHROMIUM} not found (apt-get install chromium; .ci/run does)`);
}
const browserTest = HAVE_CHROMIUM ? test : test.skip;

jest.setTimeout(90_000);

const SESSION = 'FIX.4.2:GATEWAY->QFCLIENT';
const HOSTILE_SYMBOL = '<img src=x onerror=alert(1)>';

/**
 * Loads `url` in headless chromium and returns the DOM it rendered (--dump-dom). Chromium runs in
 * its own process group, which is killed afterwards, so none of its helper processes outlive the test.
 */
async function renderedDom(url: string, timeoutMs = 60_000): Promise<string> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`,
      '--dump-dom',
      url,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* the group is gone */
    }
  };
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`chromium did not finish within ${timeoutMs} ms\n${err.slice(-2000)}`)), timeoutMs);
      child.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      child.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    if (code !== 0 || out === '') throw new Error(`chromium exited ${code} with ${out.length} bytes of DOM\n${err.slice(-2000)}`);
    return out;
  } finally {
    killGroup();
    // Nothing of chromium's may be left running.
    for (let i = 0; i < 50 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 100));
    expect(groupAlive(child.pid!)).toBe(false);
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The text content of the element whose opening tag matches `open` (first match), tags stripped. */
function textOf(html: string, open: RegExp): string {
  const m = open.exec(html);
  if (!m) throw new Error(`no element matching ${open} in the rendered DOM`);
  const start = m.index + m[0].length;
  const end = html.indexOf('</tr>', start);
  return html
    .slice(start, end)
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

let e: VenueE2e | undefined;

afterAll(async () => {
  await e?.stop();
  await killAllGateways();
  await killAllSimulators();
});

browserTest('headless chromium shows the session logged on with its seqnums, the venue, and a reject Text as text', async () => {
  e = await startVenueE2e('hashkey', { defaults: { HttpAcceptPort: 0 } });
  const listening = await e.gw.waitForLog((l) => l.msg === 'admin endpoint listening');
  const url = `http://127.0.0.1:${listening.port}/`;

  const from = e.client.received.length;
  e.client.send('D', e.nos('browser-1', { symbol: HOSTILE_SYMBOL }));
  const rejected = await waitForMessage(e.client, (m: FixMsg) => m.msgType === '8' && m.get(11) === 'browser-1', { from, timeoutMs: 10_000 });
  expect(rejected.get(150)).toBe('8');
  const rejectText = rejected.get(58)!;
  expect(rejectText).toContain(HOSTILE_SYMBOL);

  const dom = await renderedDom(url);
  expect(dom).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');

  const session = textOf(dom, /<tr data-session="FIX\.4\.2:GATEWAY-&gt;QFCLIENT">/);
  expect(session).toContain('logged on');
  expect(session).not.toContain('logged off');
  // What the gateway expects next from the client is what the client sends next, and vice versa.
  const seqIn = /<td class="num seq-in"[^>]*>(\d+)<\/td>/.exec(dom)![1];
  const seqOut = /<td class="num seq-out"[^>]*>(\d+)<\/td>/.exec(dom)![1];
  expect(Number(seqIn)).toBe(e.client.nextSeqNum);
  expect(Number(seqOut)).toBe(e.client.expectedSeqNum);
  expect(session).toMatch(/127\.0\.0\.1:\d+/);

  const venue = textOf(dom, /<tr data-venue-session="FIX\.4\.2:GATEWAY-&gt;QFCLIENT">/);
  expect(venue).toContain('hashkey');
  expect(venue).toContain('ready');
  expect(venue).toContain('connected since');

  const reject = textOf(dom, /<tr class="reject">/);
  expect(reject).toContain(rejectText);
  expect(reject).toContain(SESSION);
  // The client's markup was rendered as text: no element came of it.
  expect(dom).not.toMatch(/<img/i);
});
