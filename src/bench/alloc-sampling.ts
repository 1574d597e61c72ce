// Where a process allocates, objects the scavenger already collected included (V8's sampling heap
// profiler with includeObjectsCollectedBy*GC): the tool for the GC item of issue 9.
//
//   preload:  npm run bench -- --gateway-args "-r ./dist/bench/alloc-sampling.js"
//             (the gateway writes alloc-<pid>.heapprofile into its working directory, the bench's
//             store directory: add --keep) on exit
//   summary:  node dist/bench/alloc-sampling.js FILE.heapprofile [--per-order N] [--top 30]
import * as fs from 'fs';
import * as inspector from 'inspector';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

function startSampling(): void {
  const session = new inspector.Session();
  session.connect();
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  } as inspector.HeapProfiler.StartSamplingParameterType);
  process.on('exit', () => {
    // An in-process session answers synchronously, so this still runs before the exit.
    session.post('HeapProfiler.stopSampling', (err, r) => {
      if (!err) fs.writeFileSync(`alloc-${process.pid}.heapprofile`, JSON.stringify(r.profile));
    });
  });
}

function summarize(file: string, perOrder: number, top: number): void {
  const head = (JSON.parse(fs.readFileSync(file, 'utf8')) as { head: HeapNode }).head;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const key = (n: HeapNode) => {
    const c = n.callFrame;
    return `${c.functionName || '(anonymous)'} ${c.url.split('/').slice(-2).join('/')}:${c.lineNumber + 1}`;
  };
  const walk = (n: HeapNode, stack: Set<string>): number => {
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    const outer = !stack.has(k);
    if (outer) stack.add(k);
    let total = n.selfSize;
    for (const c of n.children) total += walk(c, stack);
    if (outer) {
      stack.delete(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + total);
    }
    return total;
  };
  const total = walk(head, new Set());
  const unit = perOrder > 0 ? 'bytes/order' : 'KB';
  const val = (b: number) => (perOrder > 0 ? (b / perOrder).toFixed(0) : (b / 1024).toFixed(0)).padStart(9);
  console.log(`${file}: ${val(total).trim()} ${unit} allocated in all (sampled)`);
  for (const [title, m] of [['self', self], ['inclusive', inclusive]] as const) {
    console.log(`\nallocated, ${title} (${unit}):`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${val(v)}  ${k}`);
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const opt = (name: string, d: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : d);
  if (!file) {
    console.error('usage: alloc-sampling FILE.heapprofile [--per-order N] [--top 30]');
    process.exit(2);
  }
  summarize(file, opt('per-order', 0), opt('top', 30));
} else {
  startSampling();
}
