#!/usr/bin/env node
// `npm run chaos [-- --soak MINUTES] [--rate N] [--faults TEXT]`: the fault suite.
//  - default: kill -9 under load on all five venues (test/chaos/kill9.chaos.ts), then every venue
//    fault per venue and operation (test/chaos/venue-faults.chaos.ts; --faults TEXT runs the faults
//    whose name contains TEXT);
//  - --soak MINUTES: the soak instead (test/chaos/soak.chaos.ts) at --rate orders/s (default 200)
//    mixed across the five venues, printing RSS, open fds and store size each minute.
// Prints the table fault × venue → orders sent, ERs received, venue orders, lost, duplicated,
// seconds to recover, and exits 1 unless every row reads 0 lost, 0 duplicated and jest passed.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function parseArgs(argv) {
  const out = { soak: undefined, rate: 200, faults: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--soak') out.soak = Number(value());
    else if (a === '--rate') out.rate = Number(value());
    else if (a === '--faults') out.faults = value();
    else throw new Error(`unknown argument ${a} (use --soak MINUTES, --rate N, --faults TEXT)`);
  }
  if (out.soak !== undefined && !(out.soak > 0)) throw new Error('--soak needs a number of minutes > 0');
  if (!(out.rate > 0)) throw new Error('--rate needs a number of orders per second > 0');
  return out;
}

function table(rows) {
  const head = ['fault', 'venue', 'faults fired', 'orders sent', 'ERs received', 'venue orders', 'lost', 'duplicated', 'recover s'];
  const body = rows.map((r) => [
    r.fault,
    r.venue,
    r.faultsFired === undefined || r.faultsFired === null ? '—' : String(r.faultsFired),
    String(r.ordersSent),
    String(r.ersReceived),
    String(r.venueOrders),
    String(r.lost),
    String(r.duplicated),
    r.recoverSeconds === null ? 'never' : r.recoverSeconds.toFixed(1),
  ]);
  const lines = [head, ...body].map((c) => `| ${c.join(' | ')} |`);
  lines.splice(1, 0, `|${head.map(() => '---').join('|')}|`);
  return lines.join('\n');
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`chaos: ${e.message}`);
    return 2;
  }
  const root = path.resolve(__dirname, '..');
  const tableFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-')), 'rows.jsonl');
  const env = { ...process.env, CHAOS_TABLE: tableFile };
  let files;
  if (args.soak !== undefined) {
    env.CHAOS_SOAK_MINUTES = String(args.soak);
    env.CHAOS_SOAK_RATE = String(args.rate);
    files = ['test/chaos/soak.chaos.ts'];
  } else {
    if (args.faults !== undefined) env.CHAOS_FAULTS = args.faults;
    files = args.faults !== undefined ? ['test/chaos/venue-faults.chaos.ts'] : ['test/chaos/kill9.chaos.ts', 'test/chaos/venue-down.chaos.ts', 'test/chaos/venue-faults.chaos.ts'];
  }
  // The soak's audit keeps every message each lane's client sent and received (about 11 KB per
  // order placed, parsed): a 30-minute soak at 200/s needs more than Node's default 4 GB heap, which
  // it hit and then spent minutes collecting garbage. About 400 MB a minute of soak, 4 GB at least.
  const heapMb = args.soak !== undefined ? Math.max(4096, Math.ceil(args.soak * 400)) : undefined;
  const nodeArgs = heapMb !== undefined ? [`--max-old-space-size=${heapMb}`] : [];
  const jest = spawnSync(process.execPath, [...nodeArgs, require.resolve('jest/bin/jest'), '-c', 'jest.chaos.config.js', '--runInBand', ...files], { cwd: root, env, stdio: 'inherit' });
  const rows = fs.existsSync(tableFile)
    ? fs
        .readFileSync(tableFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
  fs.rmSync(path.dirname(tableFile), { recursive: true, force: true });
  console.log(`\nFault suite: ${rows.length} rows\n`);
  if (rows.length > 0) console.log(table(rows));
  const bad = rows.filter((r) => r.lost !== 0 || r.duplicated !== 0 || r.recoverSeconds === null || r.problems.length > 0);
  for (const r of bad) console.log(`\n${r.fault} / ${r.venue}:\n  ${r.problems.slice(0, 20).join('\n  ')}`);
  const rejects = {};
  for (const r of rows) for (const [text, n] of Object.entries(r.rejectTexts ?? {})) rejects[`${r.venue}: ${text}`] = (rejects[`${r.venue}: ${text}`] ?? 0) + n;
  if (Object.keys(rejects).length > 0) {
    console.log('\nRejects the clients got (Text, count):');
    for (const [text, n] of Object.entries(rejects).sort()) console.log(`  ${n} × ${text}`);
  }
  if (jest.status !== 0 || bad.length > 0 || rows.length === 0) {
    console.log(`\nchaos: FAILED (${bad.length} bad row(s), jest exit ${jest.status})`);
    return 1;
  }
  console.log('\nchaos: every row 0 lost, 0 duplicated');
  return 0;
}

process.exitCode = main();
