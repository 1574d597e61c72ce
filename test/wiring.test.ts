// Start-up resolution of a gateway session's Venue* keys against the venue registry: environments
// per venue, both URLs explicit with the venue's own paths, credentials per venue, the exchange of
// an aggregator, rate limits. Every bad value is a ConfigError naming file, line and key.
import * as path from 'path';
import { ConfigError, loadSessionSettings, parseSessionSettings } from '../src/fix/config/session-settings';
import { checkVenueIdPrefixes, resolveVenue, simulateUsage } from '../src/wiring';
import { VENUES } from '../src/venues/registry';

const FILE = path.join('/cfg', 'sessions.cfg');
const ENV = { K: 'the-key', S: 'the-secret', A: 'STA-00000042', U: 'alice', K2: 'other-key' };

/** sessions.cfg with one gateway session on `venue`; `extra` lines start at line 9. */
function cfg(venue: string, extra: string[] = []): string {
  return [
    '[DEFAULT]',
    'BeginString=FIX.4.2',
    'SocketAcceptPort=9876',
    'FileStorePath=store',
    'FileLogPath=log',
    '[SESSION]',
    'SenderCompID=GATEWAY',
    'TargetCompID=DESK',
    ...extra,
    'Application=gateway',
    `Venue=${venue}`,
    'AllowedRemoteAddresses=127.0.0.1',
    '',
  ].join('\n');
}

function resolve(venue: string, extra: string[] = []) {
  return resolveVenue(parseSessionSettings(cfg(venue, extra), FILE, ENV)[0]);
}

function configError(venue: string, extra: string[]): ConfigError {
  try {
    resolve(venue, extra);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('environments, as each venue note lists them', () => {
  it.each([
    ['hashkey', 'production', 'https://api-glb.hashkey.com', 'wss://stream-glb.hashkey.com/api/v1/ws'],
    ['hashkey', 'sandbox', 'https://api-glb.sim.hashkeydev.com', 'wss://stream-glb.sim.hashkeydev.com/api/v1/ws'],
    ['zerocap', 'production', 'https://dma-api.zerocap.com/v2', 'wss://dma-ws.zerocap.com/v2'],
    ['zerocap', 'sandbox', 'https://sandbox-api.zerocap.com/v2', 'wss://sandbox-ws.zerocap.com/v2'],
    ['dzengi', 'live', 'https://api-adapter.dzengi.com', 'wss://api-adapter.dzengi.com/connect'],
    ['dzengi', 'production', 'https://api-adapter.dzengi.com', 'wss://api-adapter.dzengi.com/connect'],
    ['coinut', 'production', 'https://api.coinut.com', 'wss://wsapi.coinut.com'],
  ])('%s %s: %s and %s', (venue, env, restUrl, wsUrl) => {
    const extra = [`VenueEnvironment=${env}`, 'VenueApiKey=env:K'];
    if (venue !== 'coinut') extra.push('VenueApiSecret=env:S');
    if (venue === 'coinut') extra.push('VenueAccount=env:U');
    expect(resolve(venue, extra).urls).toEqual({ restUrl, wsUrl });
  });

  it('Apifiny: the URL names the exchange (unified host) or the host is the exchange\'s own (co-located)', () => {
    const base = ['VenueEnvironment=production', 'VenueApiKey=env:K', 'VenueApiSecret=env:S', 'VenueAccount=env:A'];
    const ftx = resolve('apifiny', [...base, 'VenueExDestination=FTX']);
    expect(ftx.urls).toEqual({ restUrl: 'https://api.apifiny.com/ac/v2/FTX', wsUrl: 'wss://api.apifiny.com/ac/ws/v2/FTX/order' });
    expect(ftx.exDestination).toBe('FTX');
    const bn = resolve('apifiny', [...base, 'VenueExDestination=BINANCE']);
    expect(bn.urls).toEqual({ restUrl: 'https://apibn.apifiny.com/ac/v2', wsUrl: 'wss://apibn.apifiny.com/ac/ws/v2/order' });
    expect(bn.account).toBe('STA-00000042');
  });

  it('Apifiny production without an exchange: VenueExDestination is required', () => {
    const e = configError('apifiny', ['VenueEnvironment=production', 'VenueApiKey=env:K', 'VenueApiSecret=env:S', 'VenueAccount=env:A']);
    expect(e.key).toBe('VenueExDestination');
    expect(e.problem).toMatch(/names the exchange/);
  });

  it('Dzengi demo fails at start-up saying it is v1-only', () => {
    const e = configError('dzengi', ['VenueEnvironment=demo', 'VenueApiKey=env:K', 'VenueApiSecret=env:S']);
    expect(e.message).toMatch(/^\/cfg\/sessions\.cfg:9: VenueEnvironment: Dzengi demo accounts support only the v1 API/);
  });

  it('an environment the venue does not have names the ones it has (Coinut: production only)', () => {
    const e = configError('coinut', ['VenueEnvironment=sandbox', 'VenueApiKey=env:K', 'VenueAccount=env:U']);
    expect(e.line).toBe(9);
    expect(e.key).toBe('VenueEnvironment');
    expect(e.problem).toBe('coinut has no environment "sandbox"; known: production, simulator');
  });

  it('an unknown venue names the known ones', () => {
    expect(configError('nasdaq', []).problem).toMatch(/unknown venue "nasdaq"; known: hashkey, zerocap, dzengi, apifiny, coinut/);
  });
});

describe('the URL rule: base URLs exactly as the notes list them, only scheme/host/port changed', () => {
  it.each([
    ['hashkey', 'http://127.0.0.1:1/', 'ws://127.0.0.1:1/api/v1/ws'],
    ['zerocap', 'http://127.0.0.1:1/v2', 'ws://127.0.0.1:1/v2'],
    ['dzengi', 'http://127.0.0.1:1', 'ws://127.0.0.1:1/connect'],
    ['apifiny', 'http://127.0.0.1:1/ac/v2/BINANCE', 'ws://127.0.0.1:1/ac/ws/v2/BINANCE/order'],
    ['coinut', 'http://127.0.0.1:1', 'ws://127.0.0.1:1'],
  ])('%s accepts %s + %s', (venue, rest, ws) => {
    const r = resolve(venue, [`VenueRestUrl=${rest}`, `VenueWsUrl=${ws}`]);
    expect(r.urls).toEqual({ restUrl: rest, wsUrl: ws });
  });

  it.each([
    ['zerocap', 'http://127.0.0.1:1', 'ws://127.0.0.1:1/v2', 'VenueRestUrl', /\/v2/],
    ['zerocap', 'http://127.0.0.1:1/v2', 'ws://127.0.0.1:1', 'VenueWsUrl', /wss:\/\/dma-ws\.zerocap\.com\/v2/],
    ['dzengi', 'http://127.0.0.1:1', 'ws://127.0.0.1:1', 'VenueWsUrl', /\/connect/],
    ['hashkey', 'http://127.0.0.1:1', 'ws://127.0.0.1:1', 'VenueWsUrl', /\/api\/v1\/ws/],
    ['apifiny', 'http://127.0.0.1:1/api/v2', 'ws://127.0.0.1:1/ac/ws/v2/order', 'VenueRestUrl', /\/ac\/v2/],
  ])('%s refuses %s + %s naming %s', (venue, rest, ws, key, problem) => {
    const e = configError(venue, [`VenueRestUrl=${rest}`, `VenueWsUrl=${ws}`]);
    expect(e.key).toBe(key);
    expect(e.line).toBe(key === 'VenueRestUrl' ? 9 : 10);
    expect(e.problem).toMatch(problem);
  });

  it('one URL without the other is an error: the WS URL is never guessed', () => {
    const e = configError('zerocap', ['VenueRestUrl=http://127.0.0.1:1/v2']);
    expect(e.message).toBe('/cfg/sessions.cfg:9: VenueRestUrl: VenueWsUrl must be given too: both base URLs are explicit, never derived from one another');
    expect(configError('zerocap', ['VenueWsUrl=ws://127.0.0.1:1/v2']).key).toBe('VenueWsUrl');
  });

  it('overrides an environment\'s URLs when both are given', () => {
    const r = resolve('dzengi', ['VenueEnvironment=live', 'VenueApiKey=env:K', 'VenueApiSecret=env:S', 'VenueRestUrl=https://proxy.example:8443', 'VenueWsUrl=wss://proxy.example:8443/connect']);
    expect(r.urls).toEqual({ restUrl: 'https://proxy.example:8443', wsUrl: 'wss://proxy.example:8443/connect' });
  });
});

describe('VenueExDestination', () => {
  const apifiny = (extra: string[]) => ['VenueApiKey=env:K', 'VenueApiSecret=env:S', 'VenueAccount=env:A', ...extra];

  it('gives the exchange for a co-located URL that names none', () => {
    const r = resolve('apifiny', apifiny(['VenueRestUrl=http://127.0.0.1:1/ac/v2', 'VenueWsUrl=ws://127.0.0.1:1/ac/ws/v2/order', 'VenueExDestination=binance']));
    expect(r.exDestination).toBe('BINANCE');
  });

  it('agreeing with the URL is fine; disagreeing fails naming file, line and key', () => {
    const urls = ['VenueRestUrl=http://127.0.0.1:1/ac/v2/BINANCE', 'VenueWsUrl=ws://127.0.0.1:1/ac/ws/v2/BINANCE/order'];
    expect(resolve('apifiny', apifiny([...urls, 'VenueExDestination=BINANCE'])).exDestination).toBe('BINANCE');
    const e = configError('apifiny', apifiny([...urls, 'VenueExDestination=HUOBI']));
    expect(e.line).toBe(14);
    expect(e.key).toBe('VenueExDestination');
    expect(e.problem).toMatch(/exchange mismatch: REST URL BINANCE, stream URL BINANCE, configured HUOBI/);
  });

  it('a co-located URL and no exchange anywhere: an error on the URL', () => {
    const e = configError('apifiny', apifiny(['VenueRestUrl=http://127.0.0.1:1/ac/v2', 'VenueWsUrl=ws://127.0.0.1:1/ac/ws/v2/order']));
    expect(e.key).toBe('VenueRestUrl');
    expect(e.problem).toMatch(/VenueExDestination/);
  });

  it('is an error on a venue that routes nowhere else', () => {
    const e = configError('zerocap', ['VenueExDestination=BINANCE']);
    expect(e.key).toBe('VenueExDestination');
    expect(e.line).toBe(9);
  });
});

describe('credentials per venue', () => {
  it('simulator sessions get the simulator\'s demo credentials, account included where the venue names one', () => {
    expect(resolve('hashkey')).toMatchObject({ urls: undefined, apiKey: 'sim-hashkey-key', apiSecret: 'sim-hashkey-secret', account: undefined });
    expect(resolve('apifiny')).toMatchObject({ apiKey: 'sim-apifiny-key-id', account: 'STA-00000001' });
    expect(resolve('coinut')).toMatchObject({ apiKey: 'sim-coinut-key', apiSecret: 'sim-coinut-key', account: 'simuser' });
  });

  it('VenueApiSecret is required where the venue has a secret', () => {
    const e = configError('zerocap', ['VenueEnvironment=sandbox', 'VenueApiKey=env:K']);
    expect(e.key).toBe('VenueApiSecret');
    expect(e.problem).toBe('required with VenueEnvironment=sandbox');
  });

  it('Coinut: the API key is the HMAC key; VenueApiSecret may be left out, or must be the same key', () => {
    const ok = resolve('coinut', ['VenueEnvironment=production', 'VenueApiKey=env:K', 'VenueAccount=env:U']);
    expect(ok).toMatchObject({ apiKey: 'the-key', apiSecret: 'the-key', account: 'alice' });
    expect(resolve('coinut', ['VenueEnvironment=production', 'VenueApiKey=env:K', 'VenueApiSecret=env:K', 'VenueAccount=env:U']).apiSecret).toBe('the-key');
    const e = configError('coinut', ['VenueEnvironment=production', 'VenueApiKey=env:K', 'VenueApiSecret=env:K2', 'VenueAccount=env:U']);
    expect(e.key).toBe('VenueApiSecret');
    expect(e.line).toBe(11);
    expect(e.problem).not.toContain('other-key');
  });

  it('VenueAccount: required by Coinut (username) and Apifiny (accountId STA-…), refused where unused', () => {
    const coinut = configError('coinut', ['VenueEnvironment=production', 'VenueApiKey=env:K']);
    expect(coinut.key).toBe('VenueAccount');
    expect(coinut.problem).toMatch(/Coinut username/);
    const bad = configError('apifiny', ['VenueAccount=env:U']);
    expect(bad.key).toBe('VenueAccount');
    expect(bad.problem).toMatch(/must end in digits/);
    expect(configError('dzengi', ['VenueAccount=env:U']).key).toBe('VenueAccount');
  });
});

describe('rate limits', () => {
  it('production keeps the venue\'s published budgets (Dzengi 1200 weight/min and 10 orders/s; Apifiny 20/s per account)', () => {
    const dz = resolve('dzengi', ['VenueEnvironment=live', 'VenueApiKey=env:K', 'VenueApiSecret=env:S']).rateLimits;
    expect(dz.budgets).toEqual([
      { name: 'weight', limit: 1200, windowMs: 60_000, weights: { orders: 1, queries: 1 } },
      { name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } },
    ]);
  });

  it('VenueRateLimitOrders/Queries override: replace the budget of that name, add it otherwise, keep the rest', () => {
    const dz = resolve('dzengi', ['VenueEnvironment=live', 'VenueApiKey=env:K', 'VenueApiSecret=env:S', 'VenueRateLimitOrders=5', 'VenueRateLimitQueries=2']).rateLimits;
    expect(dz.budgets.map((b) => `${b.name}:${b.limit}/${b.windowMs}`)).toEqual(['weight:1200/60000', 'orders:5/1000', 'queries:2/1000']);
  });

  it('VenueMaxQueueWait (seconds) becomes the limits\' maxQueueWaitMs; absent, the limiter\'s default applies', () => {
    expect(resolve('apifiny', ['VenueMaxQueueWait=2.5']).rateLimits.maxQueueWaitMs).toBe(2500);
    expect(resolve('apifiny', []).rateLimits.maxQueueWaitMs).toBeUndefined();
  });

  it('a simulator session gets the simulator\'s high limits, then the overrides', () => {
    const r = resolve('apifiny', ['VenueRateLimitOrders=7']).rateLimits;
    expect(r.budgets.map((b) => `${b.name}:${b.limit}`)).toEqual(['orders:7', 'queries:20000']);
  });
});

describe('simulate --help', () => {
  it('lists every registered venue', () => {
    for (const name of Object.keys(VENUES)) expect(simulateUsage()).toContain(name);
    expect(Object.keys(VENUES)).toEqual(['hashkey', 'zerocap', 'dzengi', 'apifiny', 'coinut']);
  });
});

describe('the shipped sessions.cfg', () => {
  it('has one gateway session per working venue, each its own TargetCompID, all resolvable', () => {
    const configs = loadSessionSettings(path.join(__dirname, '..', 'sessions.cfg'), {});
    checkVenueIdPrefixes(configs);
    const gateway = configs.filter((c) => c.application === 'gateway');
    expect(gateway.map((c) => [c.targetCompId, c.venue!.name])).toEqual([
      ['QFCLIENT', 'hashkey'],
      ['QFZEROCAP', 'zerocap'],
      ['QFDZENGI', 'dzengi'],
      ['QFAPIFINY', 'apifiny'],
      ['QFCOINUT', 'coinut'],
    ]);
    for (const c of gateway) expect(resolveVenue(c).urls).toBeUndefined(); // each starts its simulator in-process
  });
});

describe('the shipped sessions.cfg admin endpoint', () => {
  it('serves the status page on loopback port 9879, so `npm start` has one', () => {
    const configs = loadSessionSettings(path.join(__dirname, '..', 'sessions.cfg'), {});
    expect(configs[0].admin).toEqual({ host: '127.0.0.1', port: 9879 });
  });
});
