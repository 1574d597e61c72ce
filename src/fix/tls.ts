// The listening side of a FIX port: a plain net.Server, or a tls.Server built from the port's TLS
// settings (config/tls-settings.ts). Only a connection whose handshake succeeded, with a client
// certificate when one is required, reaches the acceptor; everything else is closed here before
// any FIX byte is read, so no session and no store ever sees it.
//
// Unlike QuickFIX 1.15.1's SSLSocketAcceptor (a synchronous handshake on the acceptor's only thread,
// a busy retry loop, and a 100%-CPU spin after a failed one), each handshake here runs on the event
// loop without blocking others, waits for bytes without polling, and is cut at SSLHandshakeTimeout.
import * as net from 'net';
import * as tls from 'tls';
import type { Logger } from 'pino';
import { loadTlsMaterial, TlsSettings } from './config/tls-settings';
import type { SessionConfig } from './config/session-settings';

export interface FixListener {
  server: net.Server;
  tls: boolean;
  /** What the port serves, for the start-up log: certificate subject and expiry, policy. Never key material. */
  tlsSummary?: Record<string, unknown>;
  /** Closes connections still in their TLS handshake (on shutdown: server.close waits for them). */
  destroyHandshaking(): void;
}

/** A listener that hands each connection, once usable for FIX, to `onConnection`; `onRefused` hears of each it refuses itself. */
export function createFixListener(
  settings: TlsSettings | undefined,
  onConnection: (socket: net.Socket) => void,
  logger: Logger,
  onRefused: (reason: 'client_certificate' | 'tls_handshake') => void = () => undefined,
): FixListener {
  if (!settings) {
    return { server: net.createServer({ noDelay: true }, onConnection), tls: false, destroyHandshaking: () => undefined };
  }
  const { options, summary } = tlsServerOptions(settings);
  const server = tls.createServer(options);
  const handshaking = new Set<net.Socket>();
  server.on('connection', (raw: net.Socket) => {
    raw.setNoDelay(true);
    handshaking.add(raw);
    raw.once('close', () => handshaking.delete(raw));
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    // Node keeps the accepted TCP socket as the TLS socket's _parent.
    const raw = (socket as unknown as { _parent?: net.Socket })._parent;
    if (raw) handshaking.delete(raw);
    // CertificateVerifyLevel=2 asks without requiring: a certificate that is sent must verify
    // (Node reports it; it does not close the connection when rejectUnauthorized is off).
    if (settings.verifyLevel === 2 && hasPeerCertificate(socket) && !socket.authorized) {
      logger.warn({ remote: remoteOf(socket), reason: `client certificate not accepted: ${socket.authorizationError}` }, 'TLS connection refused');
      socket.destroy();
      onRefused('client_certificate');
      return;
    }
    onConnection(socket);
  });
  // Failed and timed-out handshakes (a plain FIX client, an unknown CA, no certificate, silence):
  // Node has already closed the socket.
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    // A certificate that failed verification (level 1) surfaces as a hang-up; the verdict is on the socket.
    const reason = socket.authorizationError ? `client certificate not accepted: ${socket.authorizationError}` : handshakeFailure(err);
    logger.warn({ remote: remoteOf(socket), reason }, 'TLS handshake failed');
    socket.destroy();
    // "peer did not return a certificate" where one is required is a certificate refusal too.
    onRefused(socket.authorizationError || /certificate/i.test(reason) ? 'client_certificate' : 'tls_handshake');
  });
  return {
    server,
    tls: true,
    tlsSummary: summary,
    destroyHandshaking: () => {
      for (const s of handshaking) s.destroy();
      handshaking.clear();
    },
  };
}

const CLIENT_CERTIFICATE = ['not asked', 'required', 'optional (verified if sent)'] as const;

/** tls.Server options for a port (reads the certificate, key and CA files the loader checked). */
export function tlsServerOptions(s: TlsSettings): { options: tls.TlsOptions; summary: Record<string, unknown> } {
  const material = loadTlsMaterial(s);
  // The loader checked the same files at start-up; only a file changed since then fails here.
  if (!material.ok) throw new Error(`${material.key}: ${material.problem}`);
  const options: tls.TlsOptions = {
    cert: material.cert,
    key: material.key,
    minVersion: s.minVersion,
    maxVersion: s.maxVersion,
    handshakeTimeout: s.handshakeTimeoutMs,
    // QuickFIX's levels (UtilitySSL.cpp loadCAInfo): 1 = SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT,
    // 2 = SSL_VERIFY_PEER (a sent certificate is checked in 'secureConnection' above).
    requestCert: s.verifyLevel !== 0,
    rejectUnauthorized: s.verifyLevel === 1,
  };
  if (material.ca) options.ca = material.ca;
  if (s.cipherSuite !== undefined) options.ciphers = s.cipherSuite;
  const summary = {
    certificate: material.summary.subject,
    issuer: material.summary.issuer,
    validTo: material.summary.validTo,
    protocols: s.minVersion === s.maxVersion ? s.minVersion : `${s.minVersion}-${s.maxVersion}`,
    clientCertificate: CLIENT_CERTIFICATE[s.verifyLevel],
    handshakeTimeoutS: s.handshakeTimeoutMs / 1000,
  };
  return { options, summary };
}

/**
 * Why a Logon for this session may not use this connection's client certificate, or undefined.
 * Only sessions with SSLClientCNIsTargetCompID=Y check (their port requires a verified certificate).
 */
export function clientCertificateProblem(socket: net.Socket, cfg: Pick<SessionConfig, 'clientCnIsTargetCompId' | 'targetCompId'>): string | undefined {
  if (!cfg.clientCnIsTargetCompId) return undefined;
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return 'no verified client certificate';
  const cn = socket.getPeerCertificate().subject?.CN as string | string[] | undefined;
  if (cn === undefined) return `client certificate has no subject CN; it must be ${cfg.targetCompId}`;
  if (Array.isArray(cn)) return `client certificate has ${cn.length} subject CNs; it must have one, ${cfg.targetCompId}`;
  return cn === cfg.targetCompId ? undefined : `client certificate CN ${JSON.stringify(cn)} is not SenderCompID ${cfg.targetCompId}`;
}

function hasPeerCertificate(socket: tls.TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return cert !== null && cert !== undefined && Object.keys(cert).length > 0;
}

function remoteOf(socket: net.Socket | undefined): string {
  return socket ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
}

/** OpenSSL's reason without its error-queue noise ("error:0A00010B:SSL routines:...:wrong version number"). */
function handshakeFailure(err: Error): string {
  const m = /SSL routines:[^:]*:([^:]+)/.exec(err.message);
  return m ? m[1].trim() : err.message.trim();
}
