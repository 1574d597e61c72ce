// sessions.cfg: QuickFIX's flat settings format, validated strictly. A `[DEFAULT]` section (at
// most one, first) supplies values every `[SESSION]` inherits and may override. Key names are
// QuickFIX's (case-sensitive); the few of our own are marked "ours". Every problem is a
// ConfigError naming file, line and key; no error message ever contains a secret's value.

import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { parseSecretRef, readSecret, secretRefProblem } from './secret-ref';
import { differingPortTlsKey, readTlsSettings, TLS_KEY_CHECKS, TlsSettings } from './tls-settings';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly key: string | undefined,
    readonly problem: string,
  ) {
    super([line === undefined ? file : `${file}:${line}`, ...(key === undefined ? [] : [key]), problem].join(': '));
    this.name = 'ConfigError';
  }
}

export type Application = 'echo' | 'gateway';
/** `simulator`, or one of the environments the venue lists (checked against the venue registry by the gateway). */
export type VenueEnvironment = string;

export interface VenueSettings {
  /** Not validated here: the gateway checks it against its venue registry (use configErrorFor(cfg, 'Venue', ...)). */
  name: string;
  environment: VenueEnvironment;
  apiKey?: string;
  apiSecret?: string;
  account?: string;
  restUrl?: string;
  wsUrl?: string;
  /** The exchange an aggregator venue routes to (VenueExDestination). */
  exDestination?: string;
  rateLimitOrders?: number;
  rateLimitQueries?: number;
  /** Seconds a request may wait unsent, for the venue's budget or a pause it imposed (429/418), before it is refused (VenueMaxQueueWait). */
  maxQueueWaitSeconds?: number;
  /** What a FIX Day order (59=0) becomes on a venue without Day orders; absent = rejected. */
  dayOrderTimeInForce?: 'GTC' | 'IOC' | 'FOK';
  /** 0 or undefined: ephemeral. Only with environment 'simulator'. */
  simulatorPort?: number;
}

export interface KeyOrigin {
  file: string;
  line: number;
}

export type SecretKey = 'LogonPassword' | 'VenueApiKey' | 'VenueApiSecret' | 'VenueAccount';

export interface SessionConfig {
  /** Where this session's [SESSION] header is. */
  file: string;
  line: number;
  beginString: string;
  senderCompId: string;
  targetCompId: string;
  /** `${beginString}:${senderCompId}->${targetCompId}` */
  sessionId: string;
  acceptHost: string;
  acceptPort: number;
  /** Expected/fallback; an acceptor adopts the client's HeartBtInt from its Logon. */
  heartBtInt: number;
  fileStorePath: string;
  fileLogPath: string;
  /** Start a new FIX message / event log file before one would exceed this many bytes (FileLogRotateBytes); absent = never. */
  fileLogRotateBytes?: number;
  /** Start new log files at UTC midnight (FileLogRotateDaily). */
  fileLogRotateDaily: boolean;
  /** Process-wide (LogFormat, [DEFAULT] only): absent = pretty on a terminal, JSON otherwise. */
  logFormat?: 'pretty' | 'json';
  dataDictionary: string;
  resetOnLogon: boolean;
  resetOnLogout: boolean;
  resetOnDisconnect: boolean;
  checkLatency: boolean;
  maxLatencySeconds: number;
  /** 'HH:MM:SS' UTC; equal start and end = always on. */
  startTime: string;
  endTime: string;
  socketNodelay: boolean;
  socketReuseAddress: boolean;
  validateUserDefinedFields: boolean;
  validateFieldsOutOfOrder: boolean;
  validateFieldsHaveValues: boolean;
  allowUnknownMsgFields: boolean;
  useDataDictionary: boolean;
  persistMessages: boolean;
  application: Application;
  /** Absent = any address may connect. */
  allowedRemoteAddresses?: string[];
  /**
   * The admin HTTP endpoint (HttpAcceptPort / HttpAcceptHost, [DEFAULT] only, so the same in every
   * session); absent = none. Port 0 = ephemeral.
   */
  admin?: { host: string; port: number };
  /** Resolved secret, compared with RawData(96) of the client's Logon. */
  logonPassword?: string;
  /** SocketUseSSL=Y: the port's TLS settings (the same for every session on the port). */
  tls?: TlsSettings;
  /** SSLClientCNIsTargetCompID=Y: the client certificate's subject CN must equal TargetCompID. */
  clientCnIsTargetCompId?: boolean;
  venue?: VenueSettings;
  /** Seconds a new connection has to send its Logon (LogonTimeout); per port. */
  logonTimeoutSeconds: number;
  /** Refused logons per remote address before its connections are closed at once (per port, ours). */
  logonThrottle: { failureLimit: number; windowSeconds: number; backoffSeconds: number };
  /** Largest inbound BodyLength after logon (MaxMessageSize, ours); a larger frame drops the connection. */
  maxMessageSize: number;
  /** Bytes written but not yet taken by a client that stops reading before it is disconnected (MaxOutboundBuffer, ours). */
  maxOutboundBuffer: number;
  /** Bytes kept free in FileStorePath for the protocol when its file system fills up (StoreSpaceReserve, ours; 0 = none). */
  storeSpaceReserve: number;
  /** The reference text (`env:NAME` / `file:PATH`) of each secret that is set: safe to log. */
  secretRefs: Partial<Record<SecretKey, string>>;
  /** file:line of each key as set (DEFAULT's line when inherited), for later ConfigErrors. */
  origin: Record<string, KeyOrigin>;
}

// ---------------------------------------------------------------------------------------------
// Value checks: each returns the problem, or undefined when the value is fine. Only non-secret
// keys echo the offending value.

type Check = (value: string) => string | undefined;

const shown = (v: string): string => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v);

const environmentName: Check = (v) =>
  /^[a-z][a-z0-9_-]*$/.test(v) ? undefined : `expected an environment name (simulator, or one the venue lists: production, sandbox, live, ...), got ${shown(v)}`;
const exchangeName: Check = (v) => (/^[A-Za-z0-9_]{1,32}$/.test(v) ? undefined : `expected an exchange name like BINANCE, got ${shown(v)}`);

const yesNo: Check = (v) => (v === 'Y' || v === 'N' ? undefined : `expected Y or N, got ${shown(v)}`);

const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : `expected ${allowed.join(' or ')}, got ${shown(v)}`;

const intIn =
  (min: number, max: number, what: string): Check =>
  (v) =>
    /^\d{1,10}$/.test(v) && Number(v) >= min && Number(v) <= max ? undefined : `expected ${what}, got ${shown(v)}`;

const positiveInt = intIn(1, 2_147_483_647, 'a positive integer');

const BYTE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
/** `10485760`, `10M`, `512K`, `1G` (binary units) as bytes; undefined when not one. */
export function parseByteSize(v: string): number | undefined {
  const m = /^(\d{1,12})([KMG]?)$/.exec(v);
  return m ? Number(m[1]) * BYTE_UNITS[m[2]] : undefined;
}
const MIN_ROTATE_BYTES = 1024;
const rotateBytes: Check = (v) => {
  const n = parseByteSize(v);
  return n !== undefined && n >= MIN_ROTATE_BYTES && n <= 1024 ** 4
    ? undefined
    : `expected a size of at least ${MIN_ROTATE_BYTES} bytes: a number of bytes or with K, M or G (e.g. 100M), got ${shown(v)}`;
};

const positiveNumber: Check = (v) =>
  /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 ? undefined : `expected a positive number, got ${shown(v)}`;

const nonNegativeNumber: Check = (v) =>
  /^\d+(\.\d+)?$/.test(v) && Number(v) <= 3600 ? undefined : `expected a number of seconds 0-3600, got ${shown(v)}`;

const TIME = /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$/;
const timeOfDay: Check = (v) => (TIME.test(v) ? undefined : `expected HH:MM:SS (UTC), got ${shown(v)}`);

const compId: Check = (v) =>
  /^[\x21-\x7e]+$/.test(v) ? undefined : `expected printable ASCII without spaces, got ${shown(v)}`;

const host: Check = (v) =>
  net.isIP(v) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(v)
    ? undefined
    : `expected an IP address or host name, got ${shown(v)}`;

const anyPath: Check = () => undefined;

const urlOf =
  (...protocols: string[]): Check =>
  (v) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      return `expected a ${protocols.join('/')} URL, got ${shown(v)}`;
    }
    return protocols.includes(url.protocol.slice(0, -1)) && url.host !== ''
      ? undefined
      : `expected a ${protocols.join('/')} URL, got ${shown(v)}`;
  };

const addressList: Check = (v) => {
  for (const entry of v.split(',').map((e) => e.trim())) {
    const rule = parseAllowEntry(entry);
    if (typeof rule === 'string') return rule;
  }
  return undefined;
};

interface KeySpec {
  check: Check;
  /** Value is a secret reference: never echoed. */
  secret?: boolean;
  /** Venue key: only valid with Application=gateway. */
  venue?: boolean;
  /** Process-wide key: only valid in [DEFAULT]. */
  global?: boolean;
}

const KEYS: ReadonlyMap<string, KeySpec> = new Map<string, KeySpec>([
  ['ConnectionType', { check: (v) => (v === 'acceptor' ? undefined : `only acceptor is supported, got ${shown(v)}`) }],
  ['BeginString', { check: (v) => (v === 'FIX.4.2' ? undefined : `only FIX.4.2 is supported, got ${shown(v)}`) }],
  ['SenderCompID', { check: compId }],
  ['TargetCompID', { check: compId }],
  ['SocketAcceptHost', { check: host }],
  ['SocketAcceptPort', { check: intIn(1, 65535, 'a port 1-65535') }],
  ['HeartBtInt', { check: positiveInt }],
  ['FileStorePath', { check: anyPath }],
  ['FileLogPath', { check: anyPath }],
  ['FileLogRotateBytes', { check: rotateBytes }],
  ['FileLogRotateDaily', { check: yesNo }],
  ['LogFormat', { check: oneOf('pretty', 'json'), global: true }],
  ['DataDictionary', { check: anyPath }],
  ['ResetOnLogon', { check: yesNo }],
  ['ResetOnLogout', { check: yesNo }],
  ['ResetOnDisconnect', { check: yesNo }],
  ['CheckLatency', { check: yesNo }],
  ['MaxLatency', { check: positiveInt }],
  ['StartTime', { check: timeOfDay }],
  ['EndTime', { check: timeOfDay }],
  ['SocketNodelay', { check: yesNo }],
  ['SocketReuseAddress', { check: yesNo }],
  ['ValidateUserDefinedFields', { check: yesNo }],
  ['ValidateFieldsOutOfOrder', { check: yesNo }],
  ['ValidateFieldsHaveValues', { check: yesNo }],
  ['AllowUnknownMsgFields', { check: yesNo }],
  ['UseDataDictionary', { check: yesNo }],
  ['PersistMessages', { check: yesNo }],
  ['Application', { check: oneOf('echo', 'gateway') }],
  ['AllowedRemoteAddresses', { check: addressList }],
  ['LogonPassword', { check: secretRefProblem, secret: true }],
  ['Venue', { check: compId, venue: true }],
  ['VenueEnvironment', { check: environmentName, venue: true }],
  ['VenueApiKey', { check: secretRefProblem, secret: true, venue: true }],
  ['VenueApiSecret', { check: secretRefProblem, secret: true, venue: true }],
  ['VenueAccount', { check: secretRefProblem, secret: true, venue: true }],
  ['VenueRestUrl', { check: urlOf('http', 'https'), venue: true }],
  ['VenueWsUrl', { check: urlOf('ws', 'wss'), venue: true }],
  ['VenueExDestination', { check: exchangeName, venue: true }],
  ['VenueRateLimitOrders', { check: positiveNumber, venue: true }],
  ['VenueRateLimitQueries', { check: positiveNumber, venue: true }],
  ['VenueMaxQueueWait', { check: nonNegativeNumber, venue: true }],
  ['VenueSimulatorPort', { check: intIn(0, 65535, 'a port 0-65535 (0 = ephemeral)'), venue: true }],
  ['DayOrderTimeInForce', { check: oneOf('reject', 'GTC', 'IOC', 'FOK'), venue: true }],
  // The admin HTTP endpoint (/metrics, /health, /ready, status page), as QuickFIX C++ names it.
  ['HttpAcceptPort', { check: intIn(0, 65535, 'a port 0-65535 (0 = ephemeral)'), global: true }],
  ['HttpAcceptHost', { check: host, global: true }],
  ...TLS_KEY_CHECKS.map(([key, check]): [string, KeySpec] => [key, { check }]),
  ['LogonTimeout', { check: positiveInt }],
  ['LogonFailureLimit', { check: intIn(0, 1_000_000, 'a number of refused logons (0 = no throttle)') }],
  ['LogonFailureWindow', { check: positiveInt }],
  ['LogonFailureBackoff', { check: positiveInt }],
  ['MaxMessageSize', { check: intIn(1024, 16 * 1024 * 1024, 'a size in bytes, 1024-16777216') }],
  ['MaxOutboundBuffer', { check: intIn(65536, 1024 * 1024 * 1024, 'a size in bytes, 65536-1073741824') }],
  ['StoreSpaceReserve', { check: intIn(0, 1024 * 1024 * 1024, 'a size in bytes, 0-1073741824 (0 = none)') }],
]);

/** Settings of the listening port, not of one session: sessions sharing a port must agree. */
const PORT_KEYS = ['LogonTimeout', 'LogonFailureLimit', 'LogonFailureWindow', 'LogonFailureBackoff'] as const;

const VENUE_KEYS = [...KEYS].filter(([, spec]) => spec.venue).map(([key]) => key);

// ---------------------------------------------------------------------------------------------
// Reading the file into sections.

interface Setting extends KeyOrigin {
  value: string;
}

interface Section {
  line: number;
  settings: Map<string, Setting>;
}

/** `report` gets each problem: it throws to stop at the first, or collects them (the line is then skipped). */
function readSections(text: string, file: string, report: (e: ConfigError) => void): { defaults?: Section; sessions: Section[] } {
  let defaults: Section | undefined;
  const sessions: Section[] = [];
  let current: Section | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);

  lines.forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;

    const header = /^\[\s*([^\]]*?)\s*\]$/.exec(text);
    if (header) {
      const name = header[1].toUpperCase();
      if (name === 'DEFAULT') {
        const problem = defaults ? '[DEFAULT] may appear only once' : sessions.length > 0 ? '[DEFAULT] must come before any [SESSION]' : undefined;
        if (problem) {
          report(new ConfigError(file, line, undefined, problem));
          current = { line, settings: new Map() }; // its keys are still checked, then dropped
        } else current = defaults = { line, settings: new Map() };
      } else if (name === 'SESSION') {
        current = { line, settings: new Map() };
        sessions.push(current);
      } else {
        report(new ConfigError(file, line, undefined, `unknown section [${header[1]}] (expected [DEFAULT] or [SESSION])`));
        current = { line, settings: new Map() };
      }
      return;
    }

    // Never echo the line: it may be a pasted secret.
    const eq = text.indexOf('=');
    if (eq < 0) return report(new ConfigError(file, line, undefined, 'expected key=value, a [SECTION] header, a # comment or a blank line'));
    const key = text.slice(0, eq).trim();
    const value = text.slice(eq + 1).trim();
    if (key === '') return report(new ConfigError(file, line, undefined, 'missing key before "="'));
    const spec = KEYS.get(key);
    if (!spec) {
      // A pasted base64 secret ("...==") or other non-name must not be echoed as a key.
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key) || /^=*$/.test(value)) {
        return report(new ConfigError(file, line, undefined, 'not a known key=value setting (line not shown: it may hold a secret)'));
      }
      return report(new ConfigError(file, line, key, 'unknown key'));
    }
    if (!current) return report(new ConfigError(file, line, key, 'key outside a section ([DEFAULT] or [SESSION] must come first)'));
    const earlier = current.settings.get(key);
    if (earlier) return report(new ConfigError(file, line, key, `set twice in the same section (first at line ${earlier.line})`));
    if (value === '') return report(new ConfigError(file, line, key, 'empty value'));
    const problem = spec.check(value);
    if (problem) return report(new ConfigError(file, line, key, problem));
    if (spec.global && current !== defaults) return report(new ConfigError(file, line, key, 'only valid in [DEFAULT] (one per process)'));
    current.settings.set(key, { value, file, line });
  });

  return { defaults, sessions };
}

// ---------------------------------------------------------------------------------------------
// Building one session from its section and DEFAULT.

class SessionReader {
  private readonly merged: Map<string, Setting>;

  constructor(
    readonly file: string,
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
    readonly section: Section,
    defaults: Section | undefined,
  ) {
    this.merged = new Map([...(defaults?.settings ?? []), ...section.settings]);
  }

  /** Set in this [SESSION] itself rather than inherited from [DEFAULT]. */
  own(key: string): boolean {
    return this.section.settings.has(key);
  }

  get(key: string): Setting | undefined {
    return this.merged.get(key);
  }

  error(key: string, problem: string): ConfigError {
    const at = this.merged.get(key);
    return new ConfigError(this.file, at?.line ?? this.section.line, key, problem);
  }

  required(key: string): string {
    const s = this.merged.get(key);
    if (!s) throw new ConfigError(this.file, this.section.line, key, 'required key missing from this [SESSION] and [DEFAULT]');
    return s.value;
  }

  optional(key: string): string | undefined {
    return this.merged.get(key)?.value;
  }

  yesNo(key: string, dflt: boolean): boolean {
    const v = this.optional(key);
    return v === undefined ? dflt : v === 'Y';
  }

  int(key: string, dflt: number): number;
  int(key: string): number | undefined;
  int(key: string, dflt?: number): number | undefined {
    const v = this.optional(key);
    return v === undefined ? dflt : Number(v);
  }

  path(key: string): string | undefined {
    const v = this.optional(key);
    return v === undefined ? undefined : path.resolve(this.dir, v);
  }

  secret(key: SecretKey, refs: Partial<Record<SecretKey, string>>): string | undefined {
    const ref = this.optional(key);
    if (ref === undefined) return undefined;
    const result = readSecret(parseSecretRef(ref), this.dir, this.env);
    if (!result.ok) throw this.error(key, result.problem);
    refs[key] = ref;
    return result.value;
  }

  origin(): Record<string, KeyOrigin> {
    const out: Record<string, KeyOrigin> = {};
    for (const [key, s] of this.merged) out[key] = { file: s.file, line: s.line };
    return out;
  }
}

/** The repo root: the nearest directory up from this file holding package.json (works from src/ and dist/src/). */
function findRepoRoot(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function buildSession(r: SessionReader): SessionConfig {
  // ConnectionType needs nothing more: only 'acceptor' passes its value check.
  const beginString = r.required('BeginString');
  const senderCompId = r.required('SenderCompID');
  const targetCompId = r.required('TargetCompID');
  const acceptPort = Number(r.required('SocketAcceptPort'));
  r.required('FileStorePath');
  r.required('FileLogPath');
  const application = r.required('Application') as Application;

  let dataDictionary = r.path('DataDictionary');
  if (dataDictionary === undefined) {
    const root = findRepoRoot(__dirname);
    if (!root) throw r.error('DataDictionary', 'no default (repo root not found); set DataDictionary');
    dataDictionary = path.join(root, 'dictionaries', 'FIX42.xml');
  }
  if (!isFile(dataDictionary)) throw r.error('DataDictionary', `file not found: ${dataDictionary}`);

  const allowed = r.optional('AllowedRemoteAddresses');
  const secretRefs: Partial<Record<SecretKey, string>> = {};

  const cfg: SessionConfig = {
    file: r.file,
    line: r.section.line,
    beginString,
    senderCompId,
    targetCompId,
    sessionId: `${beginString}:${senderCompId}->${targetCompId}`,
    // Loopback unless configured: exposing a FIX port is a decision, not a default.
    acceptHost: r.optional('SocketAcceptHost') ?? '127.0.0.1',
    acceptPort,
    heartBtInt: r.int('HeartBtInt', 30),
    fileStorePath: r.path('FileStorePath')!,
    fileLogPath: r.path('FileLogPath')!,
    fileLogRotateDaily: r.yesNo('FileLogRotateDaily', false),
    dataDictionary,
    resetOnLogon: r.yesNo('ResetOnLogon', false),
    resetOnLogout: r.yesNo('ResetOnLogout', false),
    resetOnDisconnect: r.yesNo('ResetOnDisconnect', false),
    checkLatency: r.yesNo('CheckLatency', true),
    maxLatencySeconds: r.int('MaxLatency', 120),
    startTime: r.optional('StartTime') ?? '00:00:00',
    endTime: r.optional('EndTime') ?? '00:00:00',
    socketNodelay: r.yesNo('SocketNodelay', true),
    socketReuseAddress: r.yesNo('SocketReuseAddress', true),
    validateUserDefinedFields: r.yesNo('ValidateUserDefinedFields', true),
    validateFieldsOutOfOrder: r.yesNo('ValidateFieldsOutOfOrder', true),
    validateFieldsHaveValues: r.yesNo('ValidateFieldsHaveValues', true),
    allowUnknownMsgFields: r.yesNo('AllowUnknownMsgFields', false),
    useDataDictionary: r.yesNo('UseDataDictionary', true),
    persistMessages: r.yesNo('PersistMessages', true),
    application,
    logonTimeoutSeconds: r.int('LogonTimeout', 10),
    logonThrottle: {
      failureLimit: r.int('LogonFailureLimit', 10),
      windowSeconds: r.int('LogonFailureWindow', 60),
      backoffSeconds: r.int('LogonFailureBackoff', 60),
    },
    maxMessageSize: r.int('MaxMessageSize', 65536),
    maxOutboundBuffer: r.int('MaxOutboundBuffer', 16 * 1024 * 1024),
    storeSpaceReserve: r.int('StoreSpaceReserve', 1024 * 1024),
    secretRefs,
    origin: r.origin(),
  };
  const rotate = r.optional('FileLogRotateBytes');
  if (rotate !== undefined) cfg.fileLogRotateBytes = parseByteSize(rotate);
  const logFormat = r.optional('LogFormat');
  if (logFormat !== undefined) cfg.logFormat = logFormat as 'pretty' | 'json';
  if (allowed !== undefined) cfg.allowedRemoteAddresses = allowed.split(',').map((e) => e.trim());
  const adminPort = r.int('HttpAcceptPort');
  // Loopback unless configured, like SocketAcceptHost: the status page shows client input and IPs.
  if (adminPort !== undefined) cfg.admin = { host: r.optional('HttpAcceptHost') ?? '127.0.0.1', port: adminPort };
  else if (r.get('HttpAcceptHost')) throw r.error('HttpAcceptHost', 'needs HttpAcceptPort (no admin endpoint without a port)');
  const logonPassword = r.secret('LogonPassword', secretRefs);
  if (logonPassword !== undefined) cfg.logonPassword = logonPassword;
  const tls = readTlsSettings(r);
  if (tls.tls) cfg.tls = tls.tls;
  if (tls.clientCnIsTargetCompId) cfg.clientCnIsTargetCompId = true;

  const venue = buildVenue(r, application, secretRefs);
  if (venue) cfg.venue = venue;
  if (venue && venue.environment !== 'simulator' && cfg.logonPassword === undefined && cfg.allowedRemoteAddresses === undefined) {
    // Real money behind an unauthenticated port: anyone who can reach it could trade.
    throw new ConfigError(
      r.file,
      r.section.line,
      undefined,
      `session ${cfg.sessionId} trades on VenueEnvironment=${venue.environment} without client authentication: ` +
        'set LogonPassword or AllowedRemoteAddresses (or both)',
    );
  }
  if (application === 'gateway' && !cfg.persistMessages) {
    // The gateway's outbox recovery looks its reports up in the store; without them every
    // unconfirmed report would be sent again after a crash.
    throw r.error('PersistMessages', 'must be Y with Application=gateway (reports are recovered from the message store)');
  }

  // An echo session ignores venue keys it inherits from [DEFAULT]; origin does not list them either.
  if (application === 'echo') for (const key of VENUE_KEYS) delete cfg.origin[key];
  return cfg;
}

function buildVenue(
  r: SessionReader,
  application: Application,
  secretRefs: Partial<Record<SecretKey, string>>,
): VenueSettings | undefined {
  if (application === 'echo') {
    // Allowed only when [DEFAULT] sets venue keys and this [SESSION] itself says Application=echo.
    for (const key of VENUE_KEYS) {
      if (r.get(key) && (r.own(key) || !r.own('Application'))) throw r.error(key, 'only valid with Application=gateway');
    }
    return undefined;
  }

  const name = r.optional('Venue');
  if (name === undefined) throw r.error('Venue', 'required with Application=gateway');
  const environment = (r.optional('VenueEnvironment') ?? 'simulator') as VenueEnvironment;
  if (environment !== 'simulator') {
    // VenueApiSecret and VenueAccount depend on the venue (some have no separate secret, some need
    // an account): the gateway checks them against its venue registry.
    if (!r.get('VenueApiKey')) throw r.error('VenueApiKey', `required with VenueEnvironment=${environment}`);
    if (r.get('VenueSimulatorPort')) throw r.error('VenueSimulatorPort', 'only valid with VenueEnvironment=simulator');
  }

  const venue: VenueSettings = { name, environment };
  const apiKey = r.secret('VenueApiKey', secretRefs);
  const apiSecret = r.secret('VenueApiSecret', secretRefs);
  const account = r.secret('VenueAccount', secretRefs);
  if (apiKey !== undefined) venue.apiKey = apiKey;
  if (apiSecret !== undefined) venue.apiSecret = apiSecret;
  if (account !== undefined) venue.account = account;
  const restUrl = r.optional('VenueRestUrl');
  const wsUrl = r.optional('VenueWsUrl');
  if (restUrl !== undefined) venue.restUrl = restUrl;
  if (wsUrl !== undefined) venue.wsUrl = wsUrl;
  const exDestination = r.optional('VenueExDestination');
  if (exDestination !== undefined) venue.exDestination = exDestination;
  const orders = r.optional('VenueRateLimitOrders');
  const queries = r.optional('VenueRateLimitQueries');
  if (orders !== undefined) venue.rateLimitOrders = Number(orders);
  if (queries !== undefined) venue.rateLimitQueries = Number(queries);
  const maxQueueWait = r.optional('VenueMaxQueueWait');
  if (maxQueueWait !== undefined) venue.maxQueueWaitSeconds = Number(maxQueueWait);
  const simulatorPort = r.int('VenueSimulatorPort');
  if (simulatorPort !== undefined) venue.simulatorPort = simulatorPort;
  const day = r.optional('DayOrderTimeInForce');
  if (day !== undefined && day !== 'reject') venue.dayOrderTimeInForce = day as 'GTC' | 'IOC' | 'FOK';
  return venue;
}

function checkAcrossSessions(configs: SessionConfig[], report: (e: ConfigError) => void): void {
  const byId = new Map<string, SessionConfig>();
  const byPort = new Map<number, SessionConfig>();
  for (const cfg of configs) {
    const first = byId.get(cfg.sessionId);
    if (first) {
      report(new ConfigError(cfg.file, cfg.line, undefined, `duplicate session ${cfg.sessionId} (first at line ${first.line})`));
      continue;
    }
    byId.set(cfg.sessionId, cfg);

    const samePort = byPort.get(cfg.acceptPort);
    if (samePort && samePort.acceptHost !== cfg.acceptHost) {
      report(
        configErrorFor(
          cfg,
          'SocketAcceptHost',
          `sessions sharing SocketAcceptPort ${cfg.acceptPort} must share SocketAcceptHost: ` +
            `${JSON.stringify(cfg.acceptHost)} here, ${JSON.stringify(samePort.acceptHost)} in the session at line ${samePort.line}`,
        ),
      );
    }
    // One listener per port: plain or TLS, with one certificate and one client-certificate policy.
    const tlsConflict = samePort && differingPortTlsKey(cfg, samePort);
    if (samePort && tlsConflict) {
      throw configErrorFor(
        cfg,
        tlsConflict.key,
        `sessions sharing SocketAcceptPort ${cfg.acceptPort} must share its TLS settings: ` +
          `${tlsConflict.here} here, ${tlsConflict.there} in the session at line ${samePort.line}`,
      );
    }
    if (samePort) {
      const value = (c: SessionConfig, key: (typeof PORT_KEYS)[number]): number =>
        key === 'LogonTimeout'
          ? c.logonTimeoutSeconds
          : key === 'LogonFailureLimit'
            ? c.logonThrottle.failureLimit
            : key === 'LogonFailureWindow'
              ? c.logonThrottle.windowSeconds
              : c.logonThrottle.backoffSeconds;
      for (const key of PORT_KEYS) {
        if (value(cfg, key) !== value(samePort, key)) {
          throw configErrorFor(
            cfg,
            key,
            `sessions sharing SocketAcceptPort ${cfg.acceptPort} must share ${key} (a setting of the port): ` +
              `${value(cfg, key)} here, ${value(samePort, key)} in the session at line ${samePort.line}`,
          );
        }
      }
    }
    if (!samePort) byPort.set(cfg.acceptPort, cfg);
  }
  const admin = configs[0]?.admin;
  const adminClash = admin && admin.port !== 0 ? byPort.get(admin.port) : undefined;
  if (admin && adminClash) {
    throw configErrorFor(adminClash, 'HttpAcceptPort', `port ${admin.port} is the SocketAcceptPort of the session at line ${adminClash.line}`);
  }
  for (const cfg of configs) {
    const simPort = cfg.venue?.simulatorPort;
    const clash = simPort ? byPort.get(simPort) : undefined;
    if (clash) {
      report(configErrorFor(cfg, 'VenueSimulatorPort', `port ${simPort} is the SocketAcceptPort of the session at line ${clash.line}`));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public API.

/** Parses settings text; `file` names it in errors and anchors relative paths (its directory). */
export function parseSessionSettings(text: string, file: string, env: NodeJS.ProcessEnv = process.env): SessionConfig[] {
  const stop = (e: ConfigError) => {
    throw e;
  };
  const { defaults, sessions } = readSections(text, file, stop);
  if (sessions.length === 0) throw new ConfigError(file, undefined, undefined, 'no [SESSION] section');
  const dir = path.dirname(path.resolve(file));
  const configs = sessions.map((section) => buildSession(new SessionReader(file, dir, env, section, defaults)));
  checkAcrossSessions(configs, stop);
  return configs;
}

/**
 * Like parseSessionSettings, but goes on past problems: every line-level problem, the first
 * problem of each [SESSION], and the problems between sessions that parsed. `configs` holds the
 * sessions without problems (for further checks).
 */
export function collectSessionSettingsProblems(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): { configs: SessionConfig[]; problems: ConfigError[] } {
  const problems: ConfigError[] = [];
  const report = (e: ConfigError) => void problems.push(e);
  const { defaults, sessions } = readSections(text, file, report);
  if (sessions.length === 0) report(new ConfigError(file, undefined, undefined, 'no [SESSION] section'));
  const dir = path.dirname(path.resolve(file));
  const configs: SessionConfig[] = [];
  for (const section of sessions) {
    try {
      configs.push(buildSession(new SessionReader(file, dir, env, section, defaults)));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      report(e);
    }
  }
  checkAcrossSessions(configs, report);
  return { configs, problems };
}

/** Reads and parses a settings file. */
export function loadSessionSettings(file: string, env: NodeJS.ProcessEnv = process.env): SessionConfig[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, undefined, undefined, `cannot read (${(e as NodeJS.ErrnoException).code ?? 'read error'})`);
  }
  return parseSessionSettings(text, file, env);
}

/**
 * A ConfigError pointing at where `key` was set for this session (its [SESSION] line when the
 * key is absent) — for problems found after loading, e.g. a Venue name the registry lacks.
 */
export function configErrorFor(cfg: Pick<SessionConfig, 'file' | 'line' | 'origin'>, key: string, problem: string): ConfigError {
  const at = cfg.origin[key];
  return at ? new ConfigError(at.file, at.line, key, problem) : new ConfigError(cfg.file, cfg.line, key, problem);
}

/** The config with every secret replaced by its reference text, for logging. */
export function loggableSessionConfig(cfg: SessionConfig): SessionConfig {
  const out: SessionConfig = { ...cfg };
  if (cfg.logonPassword !== undefined) out.logonPassword = cfg.secretRefs.LogonPassword;
  if (cfg.venue) {
    const v = { ...cfg.venue };
    if (v.apiKey !== undefined) v.apiKey = cfg.secretRefs.VenueApiKey;
    if (v.apiSecret !== undefined) v.apiSecret = cfg.secretRefs.VenueApiSecret;
    if (v.account !== undefined) v.account = cfg.secretRefs.VenueAccount;
    out.venue = v;
  }
  return out;
}

// --- Session window (UTC, daily) --------------------------------------------------------------

function secondsOfDay(hhmmss: string): number {
  const m = TIME.exec(hhmmss);
  if (!m) throw new Error(`not HH:MM:SS: ${hhmmss}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/**
 * True when `now` is inside the daily UTC window [StartTime, EndTime], both ends inclusive at
 * second resolution (as QuickFIX). Equal times mean always on; a start after the end wraps midnight.
 */
/**
 * Start (ms since epoch) of the session period that `now` falls in, or of the latest one before
 * it; undefined for an always-on session (StartTime = EndTime). A store created before this
 * instant belongs to an earlier period: QuickFIX starts a new sequence then.
 */
export function sessionPeriodStart(cfg: Pick<SessionConfig, 'startTime' | 'endTime'>, now: Date): number | undefined {
  const start = secondsOfDay(cfg.startTime);
  if (start === secondsOfDay(cfg.endTime)) return undefined;
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const todayStart = midnight + start * 1000;
  return now.getTime() >= todayStart ? todayStart : todayStart - 86_400_000;
}

export function isWithinSessionWindow(cfg: Pick<SessionConfig, 'startTime' | 'endTime'>, now: Date): boolean {
  const start = secondsOfDay(cfg.startTime);
  const end = secondsOfDay(cfg.endTime);
  if (start === end) return true;
  const t = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
  return start < end ? t >= start && t <= end : t >= start || t <= end;
}

// --- Remote address allow-list ------------------------------------------------------------------

interface AllowRule {
  bytes: Uint8Array; // 4 (IPv4) or 16 (IPv6)
  prefix: number;
}

/** IPv4 or IPv6 text to bytes (a %zone suffix on IPv6 is ignored); undefined when not an address. */
function ipBytes(text: string): Uint8Array | undefined {
  if (net.isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  let s = text.includes(':') && text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (!net.isIPv6(s)) return undefined;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length > 1 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[2 * i] = n >> 8;
    bytes[2 * i + 1] = n & 0xff;
  });
  return bytes;
}

/** The address with all bits after the first `prefix` cleared. */
function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  return bytes.map((b, i) => b & ((0xff << (8 - Math.max(0, Math.min(8, prefix - i * 8)))) & 0xff));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function prefixMatches(rule: AllowRule, addr: Uint8Array): boolean {
  return sameBytes(masked(rule.bytes, rule.prefix), masked(addr, rule.prefix));
}

/** One allow-list entry (address or CIDR block), or the problem with it. */
function parseAllowEntry(entry: string): AllowRule | string {
  if (entry === '') return 'empty entry in the list';
  const slash = entry.indexOf('/');
  const addrText = slash < 0 ? entry : entry.slice(0, slash);
  const bytes = addrText.includes('%') ? undefined : ipBytes(addrText);
  if (!bytes) return `expected IPv4/IPv6 addresses or CIDR blocks, got ${shown(entry)}`;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, prefix: max };
  const prefixText = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return `bad prefix length in ${shown(entry)} (expected 0-${max})`;
  }
  const prefix = Number(prefixText);
  if (!sameBytes(masked(bytes, prefix), bytes)) return `${shown(entry)} has host bits set beyond /${prefix}`;
  return { bytes, prefix };
}

/**
 * Whether `remoteAddress` (as net.Socket reports it) may connect. No allow-list = anyone. An IPv4
 * client seen as IPv4-mapped IPv6 (`::ffff:a.b.c.d`) matches IPv4 entries, and vice versa.
 */
export function isAddressAllowed(cfg: Pick<SessionConfig, 'allowedRemoteAddresses'>, remoteAddress: string | undefined): boolean {
  const list = cfg.allowedRemoteAddresses;
  if (!list) return true;
  const bytes = remoteAddress === undefined ? undefined : ipBytes(remoteAddress);
  if (!bytes) return false;
  let v4: Uint8Array | undefined;
  let v6: Uint8Array;
  if (bytes.length === 4) {
    v4 = bytes;
    v6 = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes]);
  } else {
    v6 = bytes;
    const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    if (mapped) v4 = bytes.slice(12);
  }
  return list.some((entry) => {
    const rule = parseAllowEntry(entry);
    if (typeof rule === 'string') return false;
    const addr = rule.bytes.length === 4 ? v4 : v6;
    return addr !== undefined && prefixMatches(rule, addr);
  });
}
