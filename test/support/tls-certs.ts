// Test certificates made at test time with the openssl CLI: two CAs, a server certificate for
// 127.0.0.1 and client certificates with chosen subject CNs. RSA keys, unencrypted PEM, because
// QuickFIX 1.15.1 (shared/qfclient) loads RSA keys only and sets no key password.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** CA certificate (PEM file) that signed `server` and the clients made by `client()`. */
  ca: string;
  /** A second CA that signed nothing of ours except `otherCaClient()`'s certificates. */
  otherCa: string;
  server: CertFiles;
  /** A client certificate with subject CN=`cn`, signed by `ca` (made once per CN). */
  client(cn: string): CertFiles;
  /** A client certificate with subject CN=`cn`, signed by `otherCa`. */
  otherCaClient(cn: string): CertFiles;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): CertFiles {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

function makeLeaf(dir: string, name: string, cn: string, ca: CertFiles, server: boolean): CertFiles {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(
    ext,
    server
      ? 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n'
      : 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/O=Test Desk/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { cert, key };
}

/** Makes the CAs and the server certificate in `dir` (client certificates on demand). */
export function makeTestPki(dir: string): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'test-ca');
  const otherCa = makeCa(dir, 'other-ca');
  const server = makeLeaf(dir, 'server', '127.0.0.1', ca, true);
  const made = new Map<string, CertFiles>();
  const leaf = (prefix: string, cn: string, signer: CertFiles) => {
    const name = `${prefix}-${cn.replace(/[^A-Za-z0-9]/g, '_')}`;
    let files = made.get(name);
    if (!files) made.set(name, (files = makeLeaf(dir, name, cn, signer, false)));
    return files;
  };
  return {
    dir,
    ca: ca.cert,
    otherCa: otherCa.cert,
    server,
    client: (cn) => leaf('client', cn, ca),
    otherCaClient: (cn) => leaf('otherca-client', cn, otherCa),
  };
}
