import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { SPACE_RESERVE_FILE, SpaceReserve, errnoCode } from '../../src/durable/space-reserve';

const logger = pino({ level: 'silent' });
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
let dir: string;
let reserve: SpaceReserve | undefined;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'space-reserve-'))));
afterEach(() => {
  reserve?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('made at start-up; an ENOSPC frees it (full), other errors do not; made again once there is room (not full)', async () => {
  reserve = new SpaceReserve(dir, 64 * 1024, logger);
  reserve.open();
  const file = path.join(dir, SPACE_RESERVE_FILE);
  expect(fs.statSync(file).size).toBe(64 * 1024);
  expect(reserve.full).toBe(false);
  expect(reserve.release(Object.assign(new Error('EIO'), { code: 'EIO' }))).toBe(false);
  expect(fs.existsSync(file)).toBe(true);
  // The journal wraps the file system's error: the code is found in `cause`.
  const wrapped = Object.assign(new Error('store.journal: write failed, nothing of it kept: ENOSPC'), { cause: enospc() });
  expect(reserve.release(wrapped)).toBe(true);
  expect(reserve.full).toBe(true);
  expect(fs.existsSync(file)).toBe(false);
  expect(reserve.release(enospc())).toBe(true); // every write of the failed batch retries once
  await new Promise((r) => setTimeout(r, 1300));
  expect(reserve.full).toBe(false);
  expect(fs.statSync(file).size).toBe(64 * 1024);
});

test('errnoCode: own code, or the wrapped one', () => {
  expect(errnoCode(enospc())).toBe('ENOSPC');
  expect(errnoCode(Object.assign(new Error('x'), { cause: Object.assign(new Error('y'), { code: 'EROFS' }) }))).toBe('EROFS');
  expect(errnoCode(new Error('plain'))).toBeUndefined();
});

test('size 0: no reserve, never full', () => {
  reserve = new SpaceReserve(dir, 0, logger);
  reserve.open();
  expect(fs.existsSync(path.join(dir, SPACE_RESERVE_FILE))).toBe(false);
  expect(reserve.release(enospc())).toBe(false);
  expect(reserve.full).toBe(false);
});
