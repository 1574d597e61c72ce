// Self time by function from a V8 .cpuprofile (node --cpu-prof), heaviest first, and the same
// grouped by file: what to look at before changing the hot path.
//
//   node dist/bench/cpu-profile-summary.js FILE.cpuprofile [--top 40] [--per-order N]
//
// --per-order N divides every time by N orders (µs/order), for comparing runs of different sizes.
import * as fs from 'fs';
import * as path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  file: string;
  us: number;
}

function shortFile(url: string): string {
  if (url === '') return '(native)';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  const dist = p.lastIndexOf('/dist/');
  if (dist >= 0) return p.slice(dist + 1);
  return p.startsWith('node:') ? p : path.basename(p);
}

/** Self time per function (name + file + line), in µs. */
export function selfTimes(profile: CpuProfile): { byFunction: SelfTime[]; byFile: SelfTime[]; totalUs: number } {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfById = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0; // sample i lasts until the next one
    selfById.set(profile.samples[i], (selfById.get(profile.samples[i]) ?? 0) + dt);
    total += dt;
  }
  const fn = new Map<string, SelfTime>();
  const file = new Map<string, SelfTime>();
  for (const [id, us] of selfById) {
    const cf = byId.get(id)!.callFrame;
    const f = shortFile(cf.url);
    const name = `${cf.functionName || '(anonymous)'} ${f}:${cf.lineNumber + 1}`;
    const a = fn.get(name) ?? { name, file: f, us: 0 };
    a.us += us;
    fn.set(name, a);
    const b = file.get(f) ?? { name: f, file: f, us: 0 };
    b.us += us;
    file.set(f, b);
  }
  const sort = (m: Map<string, SelfTime>) => [...m.values()].sort((x, y) => y.us - x.us);
  return { byFunction: sort(fn), byFile: sort(file), totalUs: total };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: cpu-profile-summary FILE.cpuprofile [--top 40] [--per-order N]');
    process.exit(2);
  }
  const opt = (name: string, d: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const top = opt('top', 40);
  const perOrder = opt('per-order', 0);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const { byFunction, byFile, totalUs } = selfTimes(profile);
  const unit = perOrder > 0 ? 'µs/order' : 'ms';
  const val = (us: number) => (perOrder > 0 ? (us / perOrder).toFixed(2) : (us / 1000).toFixed(1));
  const pct = (us: number) => ((100 * us) / totalUs).toFixed(1).padStart(5) + '%';
  console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled${perOrder > 0 ? `, ${perOrder} orders` : ''}`);
  console.log(`\nself time by function (${unit}):`);
  for (const s of byFunction.slice(0, top)) console.log(`${val(s.us).padStart(9)} ${pct(s.us)}  ${s.name}`);
  console.log(`\nself time by file (${unit}):`);
  for (const s of byFile.slice(0, Math.min(top, 25))) console.log(`${val(s.us).padStart(9)} ${pct(s.us)}  ${s.name}`);
}

if (require.main === module) main();
