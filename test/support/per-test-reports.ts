// For the per-venue e2e files where one gateway and one logged-on client serve every test: where
// in the client's history the current test started, and the ExecutionReports of that test.
import { FixMsg, FixTestClient } from './fix-test-client';
import { FixRecorder, reportsFor, waitForMessage } from './gateway-e2e';

/** Matches a live ER (20=0) of ExecType (150) `t`. */
export const execType = (t: string) => (m: FixMsg) => m.get(150) === t && m.get(20) === '0';

export interface PerTestReports {
  /** Index in rec.messages where the current test started (for expectFixInvariants). */
  readonly recFrom: number;
  /** Index in client.received where the current test started. */
  readonly rxFrom: number;
  /** The first ER of this test for `clOrdId` (11 or 41) matching `pred`. */
  er(clOrdId: string, pred?: (m: FixMsg) => boolean, timeoutMs?: number): Promise<FixMsg>;
  /** Live ERs (20=0) of this test for `clOrdId` (11 or 41). */
  live(clOrdId: string): FixMsg[];
  /** Live fill reports (150=1 or 2) of this test for `clOrdId`. */
  fillsOf(clOrdId: string): FixMsg[];
}

/**
 * Marks the start of each test (a beforeEach) in the client and recorder the getters return at
 * that moment (a test may replace them, e.g. after a gateway restart). `erTimeoutMs` is er()'s
 * default wait.
 */
export function usePerTestReports(client: () => FixTestClient, rec: () => FixRecorder, erTimeoutMs: number): PerTestReports {
  let recFrom = 0;
  let rxFrom = 0;
  beforeEach(() => {
    recFrom = rec().messages.length;
    rxFrom = client().received.length;
  });
  const live = (clOrdId: string) => reportsFor(client(), clOrdId, rxFrom).filter((m) => m.get(20) === '0');
  return {
    get recFrom() {
      return recFrom;
    },
    get rxFrom() {
      return rxFrom;
    },
    er: (clOrdId, pred = () => true, timeoutMs = erTimeoutMs) =>
      waitForMessage(client(), (m) => m.msgType === '8' && (m.get(11) === clOrdId || m.get(41) === clOrdId) && pred(m), {
        from: rxFrom,
        timeoutMs,
        what: `ER for ${clOrdId}`,
      }),
    live,
    fillsOf: (clOrdId) => live(clOrdId).filter((m) => m.get(150) === '1' || m.get(150) === '2'),
  };
}

/**
 * Limit prices for resting buys, each above the one before. Resting buys stay on the simulator's
 * book after their test; pricing each test's buy above every earlier one (and below the best
 * ask), with external sells limited to that price, means a sell reaches only its own test's order.
 * Throws past `limit`, when given.
 */
export function bidLadder(opts: { from?: number; step?: number; limit?: number } = {}): () => string {
  let last = opts.from ?? 40000;
  const step = opts.step ?? 250.25;
  return () => {
    last += step;
    if (opts.limit !== undefined && last >= opts.limit) throw new Error('out of bid prices');
    return last.toFixed(2).replace(/\.?0+$/, '');
  };
}
