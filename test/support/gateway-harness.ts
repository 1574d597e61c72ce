// A GatewayApplication over a FakeVenueAdapter, a real FileOrderBook in a temp directory and a fake
// FIX session that records what the gateway sends: gateway logic tested without sockets.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { SessionHandle } from '../../src/fix/application';
import { FixField, FixMessage, OutboundMessage, SOH } from '../../src/fix/message';
import { StoredMessage } from '../../src/fix/store/message-store';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { GatewayApplication, GatewayOptions } from '../../src/gateway/gateway-application';
import { FakeVenueAdapter } from './fake-venue-adapter';

/** What the gateway sent, with easy access to fields. */
export class SentMessage {
  constructor(readonly msg: OutboundMessage, readonly seqNum: number) {}
  get msgType(): string {
    return this.msg.msgType;
  }
  get(tag: number): string | undefined {
    return this.msg.body.find((f) => f.tag === tag)?.value;
  }
  toString(): string {
    return `35=${this.msg.msgType}|` + this.msg.body.map((f) => `${f.tag}=${f.value}`).join('|');
  }
}

export class FakeSession implements SessionHandle {
  readonly sessionId = 'FIX.4.2:GATEWAY->CLIENT';
  readonly senderCompId = 'GATEWAY';
  readonly targetCompId = 'CLIENT';
  loggedOn = true;
  readonly sent: SentMessage[] = [];
  readonly events: string[] = [];
  /** Makes send() fail (the session store cannot write). */
  failSends?: Error;
  private seq = 1;
  private listeners: (() => void)[] = [];

  async send(msg: OutboundMessage): Promise<number> {
    if (this.failSends) throw this.failSends;
    const n = this.seq++;
    this.sent.push(new SentMessage(msg, n));
    for (const l of this.listeners) l();
    return n;
  }
  async sentMessages(begin: number, end: number): Promise<StoredMessage[]> {
    return this.sent
      .filter((m) => m.seqNum >= begin && m.seqNum <= end)
      .map((m) => ({ seqNum: m.seqNum, raw: `35=${m.msgType}${SOH}` + m.msg.body.map((f) => `${f.tag}=${f.value}${SOH}`).join('') }));
  }
  nextSenderSeqNum(): number {
    return this.seq;
  }
  sequenceId(): number {
    return 1;
  }
  event(text: string): void {
    this.events.push(text);
  }

  /** Resolves once `pred` holds over what was sent. */
  until(pred: (sent: SentMessage[]) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (pred(this.sent)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        off();
        reject(new Error(`${what} not met within ${timeoutMs} ms; sent:\n${this.sent.map(String).join('\n')}`));
      }, timeoutMs);
      const l = () => {
        if (pred(this.sent)) {
          clearTimeout(t);
          off();
          resolve();
        }
      };
      const off = () => (this.listeners = this.listeners.filter((x) => x !== l));
      this.listeners.push(l);
    });
  }

  /** ExecutionReports / cancel rejects whose 11 or 41 is clOrdId. */
  about(clOrdId: string): SentMessage[] {
    return this.sent.filter((m) => m.get(11) === clOrdId || m.get(41) === clOrdId);
  }
}

/** A FIX message as the session layer would hand it to the application. */
export function fixMessage(msgType: string, body: [number, string][], header: [number, string][] = []): FixMessage {
  const fields: FixField[] = [
    { tag: 8, value: 'FIX.4.2' },
    { tag: 35, value: msgType },
    ...header.map(([tag, value]) => ({ tag, value })),
    ...body.map(([tag, value]) => ({ tag, value })),
  ];
  return new FixMessage(fields.map((f) => `${f.tag}=${f.value}${SOH}`).join(''), fields);
}

export function nos(clOrdId: string, o: { qty?: string; price?: string; side?: '1' | '2'; possDup?: boolean; possResend?: boolean } = {}): FixMessage {
  const header: [number, string][] = [];
  if (o.possDup) header.push([43, 'Y']);
  if (o.possResend) header.push([97, 'Y']);
  return fixMessage(
    'D',
    [
      [11, clOrdId],
      [21, '1'],
      [38, o.qty ?? '1'],
      [40, '2'],
      [44, o.price ?? '100'],
      [54, o.side ?? '1'],
      [55, 'BTCUSDT'],
      [59, '1'],
      [60, '20260101-00:00:00.000'],
    ],
    header,
  );
}

export function cancelReq(clOrdId: string, origClOrdId: string, o: { possDup?: boolean } = {}): FixMessage {
  return fixMessage(
    'F',
    [
      [11, clOrdId],
      [41, origClOrdId],
      [54, '1'],
      [55, 'BTCUSDT'],
      [60, '20260101-00:00:00.000'],
    ],
    o.possDup ? [[43, 'Y']] : [],
  );
}

export function statusReq(clOrdId: string): FixMessage {
  return fixMessage('H', [
    [11, clOrdId],
    [54, '1'],
    [55, 'BTCUSDT'],
  ]);
}

export interface Harness {
  app: GatewayApplication;
  venue: FakeVenueAdapter;
  book: FileOrderBook;
  session: FakeSession;
  dir: string;
  logs: Record<string, unknown>[];
  /** Delivers a FIX message as the session would (returns what fromApp returns). */
  deliver(msg: FixMessage): Promise<void>;
  /** Closes the gateway (and, unless keepDir, removes the directory). */
  close(keepDir?: boolean): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<GatewayOptions, 'venue' | 'book' | 'logger'>> {
  venue?: FakeVenueAdapter;
  /** Reuse a directory (a restart). */
  dir?: string;
  /** Wraps the book before the gateway gets it (e.g. to inject write errors). */
  wrapBook?: (book: FileOrderBook) => FileOrderBook;
  /** Wait until the venue is up (default true). */
  waitReady?: boolean;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gw-harness-'));
  const venue = opts.venue ?? new FakeVenueAdapter();
  let book = new FileOrderBook(dir, 'FIX.4.2-GATEWAY-CLIENT');
  if (opts.wrapBook) book = opts.wrapBook(book);
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        logs.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  const app = new GatewayApplication({
    venue,
    book,
    logger,
    venueIdPrefix: opts.venueIdPrefix ?? 'CLIENT',
    integerIdPartition: opts.integerIdPartition,
    dayTimeInForce: opts.dayTimeInForce,
    unknownOutcomeProofMs: opts.unknownOutcomeProofMs,
    statusStaleMs: opts.statusStaleMs,
    cancelConfirmCheckMs: opts.cancelConfirmCheckMs,
    observer: opts.observer,
    sequenceSurvivesRestart: opts.sequenceSurvivesRestart,
  });
  const session = new FakeSession();
  await app.onCreate(session);
  if (opts.waitReady !== false) await venue.whenCalled('instruments');
  await new Promise((r) => setImmediate(r));
  return {
    app,
    venue,
    book,
    session,
    dir,
    logs,
    deliver: async (msg) => {
      await app.fromApp(msg, session);
    },
    close: async (keepDir = false) => {
      await app.close();
      if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
