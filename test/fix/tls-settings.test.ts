// The TLS keys of sessions.cfg: QuickFIX's names and meanings, checked at start-up with
// file:line: key: problem, per-port agreement, and key material never in an error.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, parseSessionSettings, SessionConfig } from '../../src/fix/config/session-settings';
import { loadTlsMaterial, sslProtocolVersions } from '../../src/fix/config/tls-settings';
import { makeTestPki, TestPki } from '../support/tls-certs';

const DICTIONARY = path.resolve(__dirname, '../../dictionaries/FIX42.xml');

// Made at load time: the it.each tables below name these files.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-settings-'));
const pki: TestPki = makeTestPki(path.join(dir, 'pki'));

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A [DEFAULT] and one [SESSION] per entry; `defaults` lines go at the end of [DEFAULT] (line 9 on). */
function config(defaults: string[], ...sessions: string[][]): string {
  const head = ['[DEFAULT]', 'BeginString=FIX.4.2', 'SenderCompID=GATEWAY', 'FileStorePath=store', 'FileLogPath=log',
    `DataDictionary=${DICTIONARY}`, 'Application=echo', 'SocketAcceptPort=9876', ...defaults];
  return [...head, ...sessions.flatMap((s, i) => ['[SESSION]', `TargetCompID=CLIENT${i + 1}`, ...s]), ''].join('\n');
}

function parse(text: string): SessionConfig[] {
  return parseSessionSettings(text, path.join(dir, 'sessions.cfg'), {});
}

function configError(text: string): ConfigError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

function tlsDefaults(extra: string[] = []): string[] {
  return ['SocketUseSSL=Y', `ServerCertificateFile=${pki.server.cert}`, `ServerCertificateKeyFile=${pki.server.key}`, ...extra];
}

describe('SSLProtocol (QuickFIX syntax: [+|-]word ..., a bare word replaces the set)', () => {
  it.each([
    ['all -SSLv2', 'TLSv1.2', 'TLSv1.3'], // QuickFIX's default
    ['all -SSLv2 -SSLv3 -TLSv1 -TLSv1_1', 'TLSv1.2', 'TLSv1.3'],
    ['TLSv1_2', 'TLSv1.2', 'TLSv1.2'], // QuickFIX 1.15.1 would still allow TLS 1.3 here (no word to turn it off)
    ['tlsv1_2 +TLSv1_3', 'TLSv1.2', 'TLSv1.3'], // case-insensitive, as QuickFIX's strncasecmp
    ['+TLSv1_2+TLSv1_3', 'TLSv1.2', 'TLSv1.3'], // QuickFIX needs no space between words
    ['all -TLSv1_2', 'TLSv1.3', 'TLSv1.3'],
    ['TLSv1_3', 'TLSv1.3', 'TLSv1.3'],
  ])('%s -> %s..%s', (text, min, max) => {
    expect(sslProtocolVersions(text)).toEqual({ min, max });
  });

  it.each([
    ['+SSLv3', /SSLv3 is not available in Node\.js/],
    ['SSLv2', /SSLv2 is not available/],
    ['TLSv1', /TLS 1\.0 is refused .* RFC 8996.*offered: TLSv1_2, TLSv1_3/],
    ['all +TLSv1_1', /TLS 1\.1 is refused/],
    ['-TLSv1_2 -TLSv1_3', /leaves no protocol enabled/],
    ['all -TLSv1_2 -TLSv1_3', /leaves no protocol enabled/],
    ['TLSv1_4', /expected words SSLv2, SSLv3, TLSv1, TLSv1_1, TLSv1_2, TLSv1_3 or all/],
    ['TLSv1.2', /expected words/],
    ['all, -SSLv2', /expected words/],
  ])('%s is refused', (text, problem) => {
    expect(sslProtocolVersions(text).problem).toMatch(problem);
  });
});

describe('reading TLS sessions', () => {
  it('a TLS port and a plain port coexist; defaults are QuickFIX-like (no client certificate asked, TLS 1.2-1.3, 10 s handshake)', () => {
    const [plain, secure] = parse(config([], ['SocketAcceptPort=9877'], tlsDefaults()));
    expect(plain.tls).toBeUndefined();
    expect(secure.tls).toEqual({
      certificateFile: pki.server.cert,
      keyFile: pki.server.key,
      verifyLevel: 0,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      handshakeTimeoutMs: 10_000,
    });
    expect(secure.clientCnIsTargetCompId).toBeUndefined();
  });

  it('reads every key; relative paths are relative to the config file', () => {
    const rel = (p: string) => path.relative(dir, p);
    const [cfg] = parse(
      config(['SocketUseSSL=Y', `ServerCertificateFile=${rel(pki.server.cert)}`, `ServerCertificateKeyFile=${rel(pki.server.key)}`,
        `CertificationAuthoritiesFile=${rel(pki.ca)}`, 'CertificateVerifyLevel=1', 'SSLProtocol=TLSv1_2', 'SSLCipherSuite=ECDHE-RSA-AES128-GCM-SHA256',
        'SSLHandshakeTimeout=3', 'SSLClientCNIsTargetCompID=Y'], []),
    );
    expect(cfg.tls).toEqual({
      certificateFile: pki.server.cert,
      keyFile: pki.server.key,
      caFile: pki.ca,
      verifyLevel: 1,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
      handshakeTimeoutMs: 3000,
    });
    expect(cfg.clientCnIsTargetCompId).toBe(true);
  });

  it('ServerCertificateKeyFile defaults to the certificate file (QuickFIX), which then holds both', () => {
    const both = path.join(dir, 'server-both.pem');
    fs.writeFileSync(both, Buffer.concat([fs.readFileSync(pki.server.cert), fs.readFileSync(pki.server.key)]));
    const [cfg] = parse(config(['SocketUseSSL=Y', `ServerCertificateFile=${both}`], []));
    expect(cfg.tls?.keyFile).toBe(both);
    const e = configError(config(['SocketUseSSL=Y', `ServerCertificateFile=${pki.server.cert}`], []));
    expect(e.message).toBe(`${path.join(dir, 'sessions.cfg')}:10: ServerCertificateFile: no PEM private key in ${pki.server.cert}`);
  });
});

describe('bad TLS settings stop start-up naming file, line and key', () => {
  const file = () => path.join(dir, 'sessions.cfg');

  it.each([
    [['SocketUseSSL=yes'], 9, 'SocketUseSSL', /expected Y or N/],
    [tlsDefaults(['CertificateVerifyLevel=3']), 12, 'CertificateVerifyLevel', /expected 0 \(no client certificate asked\), 1 \(required\) or 2 \(optional\), got "3"/],
    [tlsDefaults(['SSLProtocol=+SSLv3']), 12, 'SSLProtocol', /SSLv3 is not available/],
    [tlsDefaults(['SSLCipherSuite=NO-SUCH-CIPHER']), 12, 'SSLCipherSuite', /not an OpenSSL cipher list .*no cipher match/],
    [tlsDefaults(['SSLHandshakeTimeout=0']), 12, 'SSLHandshakeTimeout', /seconds 1-600/],
    [tlsDefaults(['SSLClientCNIsTargetCompID=true']), 12, 'SSLClientCNIsTargetCompID', /Y or N/],
    [tlsDefaults(['CertificationAuthoritiesDirectory=/etc/ssl/certs']), 12, 'CertificationAuthoritiesDirectory', /not supported: put the CA certificates/],
    [tlsDefaults(['CertificateRevocationListFile=crl.pem']), 12, 'CertificateRevocationListFile', /not supported/],
    [tlsDefaults(['CertificateVerifyLevel=1']), 12, 'CertificateVerifyLevel', /1 needs CertificationAuthoritiesFile/],
    [tlsDefaults(['CertificateVerifyLevel=2']), 12, 'CertificateVerifyLevel', /2 needs CertificationAuthoritiesFile/],
    [['SocketUseSSL=Y'], 10, 'ServerCertificateFile', /required with SocketUseSSL=Y/], // at the [SESSION] line
    [[`ServerCertificateFile=${'x'}`], 9, 'ServerCertificateFile', /only valid with SocketUseSSL=Y/],
    [['SocketUseSSL=N', 'CertificateVerifyLevel=1'], 10, 'CertificateVerifyLevel', /only valid with SocketUseSSL=Y/],
    [['SocketUseSSL=Y', 'ServerCertificateFile=missing.pem'], 10, 'ServerCertificateFile', /cannot read .*missing\.pem \(ENOENT\)/],
  ])('%j', (defaults, line, key, problem) => {
    const e = configError(config(defaults as string[], []));
    expect({ file: e.file, line: e.line, key: e.key }).toEqual({ file: file(), line, key });
    expect(e.problem).toMatch(problem);
  });

  it('SSLClientCNIsTargetCompID=Y needs a required client certificate (CertificateVerifyLevel=1)', () => {
    const e = configError(config(tlsDefaults([`CertificationAuthoritiesFile=${pki.ca}`, 'CertificateVerifyLevel=2']), ['SSLClientCNIsTargetCompID=Y']));
    expect(e.message).toBe(`${file()}:16: SSLClientCNIsTargetCompID: Y needs CertificateVerifyLevel=1 (a client certificate required), got 2`);
  });

  it('a key that is not the certificate\'s is named, and no key bytes appear in the message', () => {
    const otherKey = pki.client('SOMEONE').key;
    const e = configError(config(['SocketUseSSL=Y', `ServerCertificateFile=${pki.server.cert}`, `ServerCertificateKeyFile=${otherKey}`], []));
    expect({ line: e.line, key: e.key }).toEqual({ line: 11, key: 'ServerCertificateKeyFile' });
    expect(e.problem).toBe(`the private key in ${otherKey} does not belong to the certificate in ${pki.server.cert}`);
    const keyLines = fs.readFileSync(otherKey, 'latin1').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    for (const l of keyLines) expect(e.message).not.toContain(l);
  });

  it('a passphrase-protected key is refused (QuickFIX sets no passphrase either)', () => {
    const encrypted = path.join(dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', pki.server.key, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    const e = configError(config(['SocketUseSSL=Y', `ServerCertificateFile=${pki.server.cert}`, `ServerCertificateKeyFile=${encrypted}`], []));
    expect({ line: e.line, key: e.key }).toEqual({ line: 11, key: 'ServerCertificateKeyFile' });
    expect(e.problem).toMatch(/it is encrypted \(passphrase-protected keys are not supported/);
  });

  it('a CA file without a certificate is refused', () => {
    const e = configError(config(tlsDefaults([`CertificationAuthoritiesFile=${pki.server.key}`]), []));
    expect({ line: e.line, key: e.key, problem: e.problem }).toEqual({ line: 12, key: 'CertificationAuthoritiesFile', problem: `no PEM certificate in ${pki.server.key}` });
  });

  it('an expired certificate is refused', () => {
    const inThreeDays = new Date(Date.now() + 3 * 86_400_000); // the test certificates live 2 days
    const r = loadTlsMaterial(
      { certificateFile: pki.server.cert, keyFile: pki.server.key, verifyLevel: 0, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', handshakeTimeoutMs: 1000 },
      inThreeDays,
    );
    expect(r).toMatchObject({ ok: false, key: 'ServerCertificateFile', problem: expect.stringMatching(/expired on/) });
  });
});

describe('one port, one TLS policy', () => {
  it('a [DEFAULT] TLS setup is ignored by a session that says SocketUseSSL=N on its own port', () => {
    const [secure, plain] = parse(config(tlsDefaults(), [], ['SocketUseSSL=N', 'SocketAcceptPort=9877']));
    expect(secure.tls).toBeDefined();
    expect(plain.tls).toBeUndefined();
  });

  it('plain and TLS sessions on the same port are a config error', () => {
    const e = configError(config(tlsDefaults(), [], ['SocketUseSSL=N']));
    expect(e.message).toBe(`${path.join(dir, 'sessions.cfg')}:16: SocketUseSSL: sessions sharing SocketAcceptPort 9876 must share its TLS settings: N here, Y in the session at line 12`);
  });

  it('different client-certificate policies on one port are a config error', () => {
    const e = configError(config(tlsDefaults([`CertificationAuthoritiesFile=${pki.ca}`]), ['CertificateVerifyLevel=1'], ['CertificateVerifyLevel=2']));
    expect({ line: e.line, key: e.key }).toEqual({ line: 18, key: 'CertificateVerifyLevel' });
    expect(e.problem).toMatch(/sharing SocketAcceptPort 9876 must share its TLS settings: 2 here, 1 in the session at line 13/);
  });

  it('pinning is per session: one session on a port may pin its CN, another not', () => {
    const [a, b] = parse(config(tlsDefaults([`CertificationAuthoritiesFile=${pki.ca}`, 'CertificateVerifyLevel=1']), ['SSLClientCNIsTargetCompID=Y'], []));
    expect([a.clientCnIsTargetCompId, b.clientCnIsTargetCompId]).toEqual([true, undefined]);
  });
});
