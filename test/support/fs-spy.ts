// Watches what a durable writer asks of the file system, through the same objects it calls
// (fs.promises.open / rename and the FileHandle prototype), so a test can assert the open flags and
// the fsyncs on every path without a power cut. Also injects errors at a FileHandle call.
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';

export type FsEvent =
  | { op: 'open'; path: string; flags: string | number | undefined }
  | { op: 'rename'; from: string; to: string }
  | { op: 'sync' | 'datasync' | 'write' | 'truncate'; path: string };

type HandleMethod = 'sync' | 'datasync' | 'write' | 'truncate';

export interface FsSpy {
  events: FsEvent[];
  /** Make the next `count` calls of `method` on handles of `file` fail with `code`. */
  failNext(method: HandleMethod, file: string, code: string, count?: number): void;
  restore(): void;
}

/** The prototype every FileHandle shares (the class is not exported). */
async function fileHandlePrototype(): Promise<Record<HandleMethod, (...args: unknown[]) => Promise<unknown>>> {
  const fh = await fsp.open(os.tmpdir(), 'r');
  const proto = Object.getPrototypeOf(fh);
  await fh.close();
  return proto;
}

export async function spyOnFs(): Promise<FsSpy> {
  const events: FsEvent[] = [];
  const paths = new WeakMap<object, string>();
  const failures: { method: HandleMethod; file: string; code: string; left: number }[] = [];
  const realOpen = fsp.open;
  const realRename = fsp.rename;
  const proto = await fileHandlePrototype();
  const real: Partial<Record<HandleMethod, (...args: unknown[]) => Promise<unknown>>> = {};

  (fsp as { open: unknown }).open = async (p: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
    const fh = await realOpen(p, flags, mode);
    const abs = path.resolve(String(p));
    paths.set(fh, abs);
    events.push({ op: 'open', path: abs, flags });
    return fh;
  };
  (fsp as { rename: unknown }).rename = async (from: fs.PathLike, to: fs.PathLike) => {
    await realRename(from, to);
    events.push({ op: 'rename', from: path.resolve(String(from)), to: path.resolve(String(to)) });
  };
  for (const m of ['sync', 'datasync', 'write', 'truncate'] as HandleMethod[]) {
    const orig = proto[m];
    real[m] = orig;
    proto[m] = async function (this: object, ...args: unknown[]) {
      const p = paths.get(this) ?? '?';
      const f = failures.find((x) => x.method === m && x.file === p && x.left > 0);
      if (f) {
        f.left--;
        const err = new Error(`${f.code}: injected ${m} failure`) as NodeJS.ErrnoException;
        err.code = f.code;
        throw err;
      }
      const r = await orig.apply(this, args);
      events.push({ op: m, path: p });
      return r;
    };
  }
  return {
    events,
    failNext(method, file, code, count = 1) {
      failures.push({ method, file: path.resolve(file), code, left: count });
    },
    restore() {
      (fsp as { open: unknown }).open = realOpen;
      (fsp as { rename: unknown }).rename = realRename;
      for (const m of Object.keys(real) as HandleMethod[]) proto[m] = real[m]!;
    },
  };
}

/** Whether an open's flags ask for O_DSYNC (a string mode like 'a' or 'w' never does). */
export function hasDsync(flags: string | number | undefined): boolean {
  return typeof flags === 'number' && (flags & fs.constants.O_DSYNC) !== 0;
}
