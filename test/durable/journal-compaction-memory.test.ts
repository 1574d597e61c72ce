// A compaction streams the new file: records copied from the old file (a session's stored messages,
// an order book's evicted orders) pass through a bounded buffer, never the whole journal at once.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Journal, RecordLocation } from '../../src/durable/journal';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-compact-mem-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const MB = 1024 * 1024;
const opts = { magic: 'TESTJRNL', version: 1, recordTypes: [0x41, 0x42], maxBodyBytes: 4096, description: 'test journal', fsync: false };

test('compacting 48 MB of copied records holds a few MB at a time, and every record reads back', async () => {
  const file = path.join(dir, 'j.journal');
  const j = new Journal(file, opts);
  await j.open(() => undefined);
  const kept: RecordLocation[] = [];
  const body = (i: number) => Buffer.from(`${i}:`.padEnd(800, String.fromCharCode(97 + (i % 26))));
  for (let i = 0; i < 60_000; i++) {
    const at: RecordLocation[] = [];
    void j.append([{ type: 0x41, body: body(i) }, { type: 0x42, body: Buffer.from('superseded') }], at);
    kept.push(at[0]);
    if (i % 5000 === 4999) await j.read([]);
  }
  await j.read([]);
  expect(fs.statSync(file).size).toBeGreaterThan(48 * MB);

  (global as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 1);
  const locations: RecordLocation[] = [];
  const done = j.compact(
    kept.map((copy) => ({ copy })),
    { locations },
  );
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  await done;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  expect((peak - base) / MB).toBeLessThan(16);

  const back = await j.read(locations.slice(0, 1000).concat(locations.slice(-1000)));
  expect(back.map((r) => r.body.toString())).toEqual([...Array.from({ length: 1000 }, (_, i) => body(i).toString()), ...Array.from({ length: 1000 }, (_, i) => body(59_000 + i).toString())]);
  await j.close();
  // A reopen replays exactly the kept records.
  let n = 0;
  const again = new Journal(file, opts);
  await again.open((type, b) => {
    expect(type).toBe(0x41);
    expect(b.toString()).toBe(body(n).toString());
    n++;
  });
  await again.close();
  expect(n).toBe(60_000);
}, 60_000);
