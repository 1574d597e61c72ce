// TLS keys of sessions.cfg, with QuickFIX's names and meanings (QuickFIX C++ 1.15.1
// src/C++/UtilitySSL.cpp and SessionSettings.h; `SocketUseSSL` is QuickFIX/J's switch, as QuickFIX
// C++ picks TLS by class). What Node's TLS (OpenSSL 3) cannot do is refused here, at start-up,
// with file:line: key: problem — never silently weakened. Problems name files, never their bytes.
//
//   CertificateVerifyLevel (UtilitySSL.cpp loadCAInfo): 0 = SSL_VERIFY_NONE (no client certificate
//   asked), 1 = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT (required), 2 = SSL_VERIFY_PEER
//   (asked; one that is sent must verify). QuickFIX applies it only when a CA is configured and
//   otherwise silently asks for nothing; here a level without CertificationAuthoritiesFile is an
//   error. QuickFIX also trusts OpenSSL's system CA paths for client certificates
//   (SSL_CTX_set_default_verify_paths); here only CertificationAuthoritiesFile is trusted.
//
//   SSLProtocol (UtilitySSL.cpp protocolOptions): words SSLv2 SSLv3 TLSv1 TLSv1_1 TLSv1_2 all,
//   each optionally prefixed + (add) or - (remove); a bare word replaces the set. Default
//   "all -SSLv2". QuickFIX has no TLS 1.3 word and never turns TLS 1.3 off; here TLSv1_3 is a word
//   (ours) and `all` includes it. Node 20's OpenSSL 3 refuses SSLv2/SSLv3 outright and TLS 1.0/1.1
//   at its default security level (and RFC 8996 deprecates them): naming one of those as enabled
//   is an error; `all` means every protocol offered here, TLS 1.2 and 1.3.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as tls from 'tls';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsSettings {
  /** Absolute path of the PEM certificate (chain) the acceptor presents. */
  certificateFile: string;
  /** Absolute path of its PEM private key (QuickFIX's default: the certificate file). */
  keyFile: string;
  /** Absolute path of the PEM CA certificates client certificates must chain to. */
  caFile?: string;
  /** QuickFIX's CertificateVerifyLevel: 0 none asked, 1 required, 2 optional (verified if sent). */
  verifyLevel: 0 | 1 | 2;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** OpenSSL cipher list (TLS 1.2 and below; `TLS_*` names restrict the TLS 1.3 suites). */
  cipherSuite?: string;
  /** A connection that has not finished its TLS handshake by then is closed. */
  handshakeTimeoutMs: number;
}

/** Keys that every session on one SocketAcceptPort must agree on (the listener is one tls.Server). */
export const PORT_TLS_KEYS = [
  'SocketUseSSL',
  'ServerCertificateFile',
  'ServerCertificateKeyFile',
  'CertificationAuthoritiesFile',
  'CertificateVerifyLevel',
  'SSLProtocol',
  'SSLCipherSuite',
  'SSLHandshakeTimeout',
] as const;

/** Per-session key (ours): the client certificate's subject CN must be the session's TargetCompID. */
export const PIN_KEY = 'SSLClientCNIsTargetCompID';

export const DEFAULT_SSL_HANDSHAKE_TIMEOUT_S = 10; // QuickFIX's acceptSSLConnection gives up after 10 s too

const shown = (v: string): string => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v);
const yesNo = (v: string) => (v === 'Y' || v === 'N' ? undefined : `expected Y or N, got ${shown(v)}`);
const anyPath = () => undefined;
const unsupported = (instead: string) => () => `not supported: ${instead}`;

/** Value checks of the TLS keys (the loader adds them to its key table). */
export const TLS_KEY_CHECKS: ReadonlyArray<[string, (value: string) => string | undefined]> = [
  ['SocketUseSSL', yesNo],
  ['ServerCertificateFile', anyPath],
  ['ServerCertificateKeyFile', anyPath],
  ['CertificationAuthoritiesFile', anyPath],
  ['CertificateVerifyLevel', (v) => (/^[012]$/.test(v) ? undefined : `expected 0 (no client certificate asked), 1 (required) or 2 (optional), got ${shown(v)}`)],
  ['SSLProtocol', (v) => sslProtocolVersions(v).problem],
  ['SSLCipherSuite', cipherSuiteProblem],
  ['SSLHandshakeTimeout', (v) => (/^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 600 ? undefined : `expected seconds 1-600, got ${shown(v)}`)],
  [PIN_KEY, yesNo],
  // QuickFIX keys with no Node equivalent wired here: refused rather than ignored.
  ['CertificationAuthoritiesDirectory', unsupported('put the CA certificates (PEM) in one CertificationAuthoritiesFile')],
  ['CertificateRevocationListFile', unsupported('certificate revocation lists are not checked (QuickFIX 1.15.1 built on OpenSSL 1.1+ does not check them either)')],
  ['CertificateRevocationListDirectory', unsupported('certificate revocation lists are not checked (QuickFIX 1.15.1 built on OpenSSL 1.1+ does not check them either)')],
];

// ---------------------------------------------------------------------------------------------
// SSLProtocol

const PROTOCOL_WORDS = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const;
type ProtocolWord = (typeof PROTOCOL_WORDS)[number];
const OFFERED: ReadonlyMap<ProtocolWord, TlsVersion> = new Map([
  ['TLSv1_2', 'TLSv1.2'],
  ['TLSv1_3', 'TLSv1.3'],
]);
const WHY_NOT: Partial<Record<ProtocolWord, string>> = {
  SSLv2: 'SSLv2 is not available in Node.js (OpenSSL 3)',
  SSLv3: 'SSLv3 is not available in Node.js (OpenSSL 3)',
  TLSv1: "TLS 1.0 is refused by Node.js's OpenSSL 3 at its default security level (and deprecated, RFC 8996)",
  TLSv1_1: "TLS 1.1 is refused by Node.js's OpenSSL 3 at its default security level (and deprecated, RFC 8996)",
};

/**
 * The TLS versions an SSLProtocol value enables, by QuickFIX's rules (see the top of this file), or
 * the problem with it.
 */
export function sslProtocolVersions(text: string): { min?: TlsVersion; max?: TlsVersion; problem?: string } {
  const enabled = new Set<ProtocolWord>();
  // Longest word first: "TLSv1_2" must not be read as "TLSv1" followed by "_2".
  const token = /\s*([+-]?)(all|SSLv2|SSLv3|TLSv1_1|TLSv1_2|TLSv1_3|TLSv1)(?=[\s+-]|$)/iy;
  const rest = text.trim();
  let at = 0;
  while (at < rest.length) {
    token.lastIndex = at;
    const m = token.exec(rest);
    if (!m) {
      return { problem: `expected words SSLv2, SSLv3, TLSv1, TLSv1_1, TLSv1_2, TLSv1_3 or all, each optionally prefixed + or -, at ${shown(rest.slice(at).trim())}` };
    }
    at = token.lastIndex;
    const action = m[1];
    const word = m[2].toLowerCase() === 'all' ? undefined : PROTOCOL_WORDS.find((w) => w.toLowerCase() === m[2].toLowerCase())!;
    // `all` is every protocol offered here; a named protocol this gateway cannot offer is an error
    // unless it is being removed.
    const words: ProtocolWord[] = word === undefined ? [...OFFERED.keys()] : [word];
    if (word !== undefined && action !== '-' && !OFFERED.has(word)) {
      return { problem: `${WHY_NOT[word]}; offered: TLSv1_2, TLSv1_3 (write -${word} or leave it out)` };
    }
    if (action === '') enabled.clear();
    for (const w of words) {
      if (action === '-') enabled.delete(w);
      else enabled.add(w);
    }
  }
  if (rest === '') return { problem: 'empty value' };
  const versions = [...OFFERED].filter(([w]) => enabled.has(w)).map(([, v]) => v);
  if (versions.length === 0) return { problem: `${shown(text)} leaves no protocol enabled (offered: TLSv1_2, TLSv1_3)` };
  return { min: versions[0], max: versions[versions.length - 1] };
}

// ---------------------------------------------------------------------------------------------
// SSLCipherSuite

function cipherSuiteProblem(v: string): string | undefined {
  try {
    // Node passes TLS_* names to SSL_CTX_set_ciphersuites (TLS 1.3) and the rest to
    // SSL_CTX_set_cipher_list, as QuickFIX does; a list with no TLS_* name keeps the default TLS 1.3
    // suites, so QuickFIX's cipher lists mean the same here.
    tls.createSecureContext({ ciphers: v });
    return undefined;
  } catch (e) {
    return `not an OpenSSL cipher list this Node.js accepts (${(e as Error).message.replace(/^error:[0-9A-F]+:[^:]*::/, '')}): ${shown(v)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a session's TLS keys

/** What the loader's per-session reader offers (kept structural so the loader owns its class). */
export interface TlsSettingsSource {
  optional(key: string): string | undefined;
  /** The value resolved against the config file's directory. */
  path(key: string): string | undefined;
  /** Set in this [SESSION] itself, not inherited from [DEFAULT]. */
  own(key: string): boolean;
  error(key: string, problem: string): Error;
}

const FILE_KEYS = ['ServerCertificateFile', 'ServerCertificateKeyFile', 'CertificationAuthoritiesFile'] as const;

/**
 * The session's TLS settings (undefined for a plain session) and whether its client certificate
 * is pinned to its TargetCompID. Reads and checks the certificate, key and CA files.
 */
export function readTlsSettings(r: TlsSettingsSource, now = new Date()): { tls?: TlsSettings; clientCnIsTargetCompId: boolean } {
  const useSsl = r.optional('SocketUseSSL') === 'Y';
  const pinned = r.optional(PIN_KEY) === 'Y';
  if (!useSsl) {
    // Keys inherited from [DEFAULT] are ignored only by a session that says SocketUseSSL=N itself;
    // anywhere else they are a forgotten switch (QuickFIX C++ configs have no SocketUseSSL).
    for (const [key] of TLS_KEY_CHECKS) {
      if (key === 'SocketUseSSL' || r.optional(key) === undefined) continue;
      if (r.own(key) || !r.own('SocketUseSSL')) throw r.error(key, 'only valid with SocketUseSSL=Y (set SocketUseSSL=Y to serve TLS on this port)');
    }
    return { clientCnIsTargetCompId: false };
  }

  const certificateFile = r.path('ServerCertificateFile');
  if (certificateFile === undefined) throw r.error('ServerCertificateFile', 'required with SocketUseSSL=Y');
  const keyFile = r.path('ServerCertificateKeyFile') ?? certificateFile;
  const caFile = r.path('CertificationAuthoritiesFile');
  const verifyLevel = Number(r.optional('CertificateVerifyLevel') ?? '0') as 0 | 1 | 2;
  if (verifyLevel !== 0 && caFile === undefined) {
    throw r.error('CertificateVerifyLevel', `${verifyLevel} needs CertificationAuthoritiesFile (the CA client certificates must chain to)`);
  }
  if (pinned && verifyLevel !== 1) {
    throw r.error(PIN_KEY, `Y needs CertificateVerifyLevel=1 (a client certificate required), got ${verifyLevel}`);
  }
  const protocol = sslProtocolVersions(r.optional('SSLProtocol') ?? 'all -SSLv2');
  const settings: TlsSettings = {
    certificateFile,
    keyFile,
    verifyLevel,
    minVersion: protocol.min!,
    maxVersion: protocol.max!,
    handshakeTimeoutMs: Number(r.optional('SSLHandshakeTimeout') ?? DEFAULT_SSL_HANDSHAKE_TIMEOUT_S) * 1000,
  };
  if (caFile !== undefined) settings.caFile = caFile;
  const cipherSuite = r.optional('SSLCipherSuite');
  if (cipherSuite !== undefined) settings.cipherSuite = cipherSuite;

  const material = loadTlsMaterial(settings, now);
  if (!material.ok) throw r.error(material.key, material.problem);
  return { tls: settings, clientCnIsTargetCompId: pinned };
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** For the start-up log: subject, issuer and validity of the acceptor's certificate. */
  summary: { subject: string; issuer: string; validTo: string; caCertificates: number };
}

type FileKey = (typeof FILE_KEYS)[number];

/**
 * Reads the certificate, key and CA files and checks that Node can serve with them. Problems say
 * which key and what is wrong, never the files' contents.
 */
export function loadTlsMaterial(s: TlsSettings, now = new Date()): ({ ok: true } & TlsMaterial) | { ok: false; key: FileKey | 'SSLCipherSuite'; problem: string } {
  const read = (key: FileKey, file: string): Buffer | { key: FileKey; problem: string } => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      return { key, problem: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'read error'})` };
    }
  };
  const cert = read('ServerCertificateFile', s.certificateFile);
  if (!Buffer.isBuffer(cert)) return { ok: false, ...cert };
  const key = s.keyFile === s.certificateFile ? cert : read('ServerCertificateKeyFile', s.keyFile);
  if (!Buffer.isBuffer(key)) return { ok: false, ...key };
  const keyKey: FileKey = s.keyFile === s.certificateFile ? 'ServerCertificateFile' : 'ServerCertificateKeyFile';

  const certs = pemCertificates(cert);
  if (certs.length === 0) return { ok: false, key: 'ServerCertificateFile', problem: `no PEM certificate in ${s.certificateFile}` };
  let leaf: crypto.X509Certificate;
  try {
    leaf = new crypto.X509Certificate(certs[0]);
  } catch {
    return { ok: false, key: 'ServerCertificateFile', problem: `the first certificate in ${s.certificateFile} cannot be parsed` };
  }
  if (Date.parse(leaf.validTo) < now.getTime()) {
    return { ok: false, key: 'ServerCertificateFile', problem: `the certificate in ${s.certificateFile} expired on ${leaf.validTo}` };
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
    return { ok: false, key: keyKey, problem: `no PEM private key in ${s.keyFile}` };
  }
  try {
    crypto.createPrivateKey(key);
  } catch (e) {
    // A Buffer key that needs a passphrase fails with ERR_MISSING_PASSPHRASE or, from OpenSSL 3's
    // decoder, "interrupted or cancelled"; the PEM label says it in any case.
    const encrypted = /-----BEGIN (ENCRYPTED PRIVATE KEY|[A-Z ]*PRIVATE KEY-----\s*Proc-Type: 4,ENCRYPTED)/.test(key.toString('latin1'));
    const code = (e as NodeJS.ErrnoException).code;
    const why = encrypted || code === 'ERR_MISSING_PASSPHRASE' ? 'it is encrypted (passphrase-protected keys are not supported, as in QuickFIX)' : 'it cannot be parsed';
    return { ok: false, key: keyKey, problem: `the private key in ${s.keyFile}: ${why}` };
  }
  if (!leaf.checkPrivateKey(crypto.createPrivateKey(key))) {
    return { ok: false, key: keyKey, problem: `the private key in ${s.keyFile} does not belong to the certificate in ${s.certificateFile}` };
  }

  let ca: Buffer | undefined;
  let caCertificates = 0;
  if (s.caFile !== undefined) {
    const caBytes = read('CertificationAuthoritiesFile', s.caFile);
    if (!Buffer.isBuffer(caBytes)) return { ok: false, ...caBytes };
    const caPems = pemCertificates(caBytes);
    if (caPems.length === 0) return { ok: false, key: 'CertificationAuthoritiesFile', problem: `no PEM certificate in ${s.caFile}` };
    for (const [i, pem] of caPems.entries()) {
      try {
        new crypto.X509Certificate(pem);
      } catch {
        return { ok: false, key: 'CertificationAuthoritiesFile', problem: `certificate ${i + 1} in ${s.caFile} cannot be parsed` };
      }
    }
    ca = caBytes;
    caCertificates = caPems.length;
  }

  try {
    tls.createSecureContext({ cert, key, ...(ca ? { ca } : {}), ...(s.cipherSuite ? { ciphers: s.cipherSuite } : {}), minVersion: s.minVersion, maxVersion: s.maxVersion });
  } catch (e) {
    // Key/cert mismatch and unusable cipher lists are caught above; anything left is about the pair.
    return { ok: false, key: keyKey, problem: `Node.js cannot serve TLS with ${s.certificateFile} and ${s.keyFile}: ${(e as Error).message}` };
  }
  const material: { ok: true } & TlsMaterial = {
    ok: true,
    cert,
    key,
    summary: { subject: oneLine(leaf.subject), issuer: oneLine(leaf.issuer), validTo: leaf.validTo, caCertificates },
  };
  if (ca) material.ca = ca;
  return material;
}

function pemCertificates(bytes: Buffer): string[] {
  return bytes.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

function oneLine(dn: string): string {
  return dn.split('\n').filter((p) => p !== '').join(', ');
}

/** The port-wide TLS keys whose values differ between two sessions' settings (by resolved value). */
export function differingPortTlsKey(
  a: { tls?: TlsSettings },
  b: { tls?: TlsSettings },
): { key: (typeof PORT_TLS_KEYS)[number]; here: string; there: string } | undefined {
  const describe = (t: TlsSettings | undefined): Record<(typeof PORT_TLS_KEYS)[number], string> => ({
    SocketUseSSL: t ? 'Y' : 'N',
    ServerCertificateFile: t?.certificateFile ?? '(none)',
    ServerCertificateKeyFile: t?.keyFile ?? '(none)',
    CertificationAuthoritiesFile: t?.caFile ?? '(none)',
    CertificateVerifyLevel: t ? String(t.verifyLevel) : '(none)',
    SSLProtocol: t ? `${t.minVersion}-${t.maxVersion}` : '(none)',
    SSLCipherSuite: t?.cipherSuite ?? '(default)',
    SSLHandshakeTimeout: t ? `${t.handshakeTimeoutMs / 1000} s` : '(none)',
  });
  const here = describe(a.tls);
  const there = describe(b.tls);
  const key = PORT_TLS_KEYS.find((k) => here[k] !== there[k]);
  return key && { key, here: here[key], there: there[key] };
}
