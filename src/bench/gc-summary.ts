// `node --trace-gc` output of a span summed up: how many scavenges and mark-sweep/compacts, their
// total and largest pause. The pause is the first figure after "MB, " (ms on the main thread).

export interface GcSummary {
  scavenges: number;
  markSweeps: number;
  totalPauseMs: number;
  maxPauseMs: number;
  maxScavengeMs: number;
  maxMarkSweepMs: number;
}

const LINE = /ms: (Scavenge|Minor Mark-Compact|Mark-Compact|Mark-sweep)\b[^\n]*?MB, ([\d.]+) \/ [\d.]+ ms/g;

export function gcSummary(text: string): GcSummary {
  const s: GcSummary = { scavenges: 0, markSweeps: 0, totalPauseMs: 0, maxPauseMs: 0, maxScavengeMs: 0, maxMarkSweepMs: 0 };
  for (const m of text.matchAll(LINE)) {
    const pause = Number(m[2]);
    const young = m[1] === 'Scavenge' || m[1] === 'Minor Mark-Compact';
    if (young) {
      s.scavenges++;
      s.maxScavengeMs = Math.max(s.maxScavengeMs, pause);
    } else {
      s.markSweeps++;
      s.maxMarkSweepMs = Math.max(s.maxMarkSweepMs, pause);
    }
    s.totalPauseMs += pause;
    s.maxPauseMs = Math.max(s.maxPauseMs, pause);
  }
  return s;
}

export function formatGc(s: GcSummary): string {
  return (
    `${s.scavenges} scavenges (max ${s.maxScavengeMs.toFixed(2)} ms), ${s.markSweeps} mark-sweeps (max ${s.maxMarkSweepMs.toFixed(2)} ms), ` +
    `total pause ${s.totalPauseMs.toFixed(1)} ms, max pause ${s.maxPauseMs.toFixed(2)} ms`
  );
}
