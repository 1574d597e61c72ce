// Preloaded into a gateway child (NODE_OPTIONS=--require) to make its store's writes fail as a
// file system that turned read-only would: while the file named by FIX_E2E_FAIL_WRITES_FLAG exists,
// every write, truncate and sync on a file opened (through fs.promises.open) under
// FIX_E2E_FAIL_WRITES_DIR fails with the errno code the flag file contains (e.g. EROFS).
// Used where the kernel cannot do it for the test: a tmpfs cannot be remounted read-only while
// files on it are open for writing.
'use strict';
const fs = require('fs');
const path = require('path');

const flag = process.env.FIX_E2E_FAIL_WRITES_FLAG;
const dir = process.env.FIX_E2E_FAIL_WRITES_DIR && path.resolve(process.env.FIX_E2E_FAIL_WRITES_DIR);
if (flag && dir) {
  const realOpen = fs.promises.open;
  const failure = () => {
    let code;
    try {
      code = fs.readFileSync(flag, 'utf8').trim();
    } catch {
      return undefined;
    }
    const err = new Error(`${code}: injected (fail-writes-preload), write`);
    err.code = code;
    err.syscall = 'write';
    return err;
  };
  fs.promises.open = async function (p, ...rest) {
    const fh = await realOpen.call(this, p, ...rest);
    if (!path.resolve(String(p)).startsWith(dir + path.sep)) return fh;
    for (const m of ['write', 'writev', 'truncate', 'sync', 'datasync']) {
      const real = fh[m];
      fh[m] = async function (...args) {
        const err = failure();
        if (err) throw err;
        return real.apply(this, args);
      };
    }
    return fh;
  };
}
