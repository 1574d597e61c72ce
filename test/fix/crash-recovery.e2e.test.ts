// Crash recovery of the FIX session layer, end to end: the real gateway process is SIGKILLed in
// the middle of an order burst (three different moments), restarted on the same store, and the
// client recovers over real TCP exactly as a FIX initiator would: Logon with its own next
// MsgSeqNum, answer the gateway's ResendRequest, ask for a resend of everything (7=1, 16=0).
// Then the stored journal is damaged on purpose: a torn tail must be recovered (with a warning),
// garbage in the middle must stop the gateway from starting.
//
// What the gateway promises, and what is checked (see verifyRecovery):
//  * Every message reaches the wire only after it is durable in the journal, so after a restart the
//    gateway's MsgSeqNums continue above everything the client received, and a ResendRequest
//    returns every application message the client received, same 34, same body, 43=Y and
//    122 = the original 52. Admin messages come back as gap fills, never as invented messages.
//  * The next expected inbound MsgSeqNum (G) is persisted after the echo of the orders below it
//    was stored, and asynchronously: at a crash G may lag behind the orders that were already
//    processed. Orders at or above G are asked for again (ResendRequest 7=G) and processed again.
//    Hence the strongest correct property for the echo application (it only drops 97=Y duplicates,
//    and its memory of ClOrdIDs does not survive a restart): every order is echoed at least once;
//    an order below G exactly once, before the kill; an order at or above G exactly once after
//    the restart, plus at most once before the kill — and those duplicated orders are exactly the
//    ones in [G, P), where the orders echoed before the kill are a prefix [.., P) of the orders
//    sent, echoed in order. (G is written once per journal write, so it can lag by everything
//    the session processed in one go: hundreds of orders in the early kill.)
//  * The client resends the orders the gateway asks for as a FIX initiator does: same 34, 43=Y,
//    122 = their original 52, same body, no 97. It keeps at most WINDOW orders unanswered, so every
//    kill falls in the middle of the burst (some orders are only sent after the restart).
import * as fs from 'fs';
import * as zlib from 'zlib';
import { FixMsg, FixTestClient, TagValue, fixTime } from '../support/fix-test-client';
import type { FixField } from '../../src/fix/message';
import {
  GatewayProcess,
  buildConfig,
  journalPath,
  killAllGateways,
  removeDir,
  spawnGateway,
  startGatewayProcess,
} from '../support/gateway-process';

const CONFIG = buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42', ResetOnLogon: 'N' }]);
const TOTAL = 2000;
/** The client keeps at most this many orders unanswered: a fast pipelined burst, still mid-flight when the kill comes. */
const WINDOW = 250;

const started: GatewayProcess[] = [];
const clients: FixTestClient[] = [];

async function start(opts: { dir?: string; ports?: number[] } = {}): Promise<GatewayProcess> {
  const gw = await startGatewayProcess({ config: CONFIG, ...opts });
  started.push(gw);
  return gw;
}

async function connect(gw: GatewayProcess): Promise<FixTestClient> {
  const c = await FixTestClient.connect({ port: gw.port });
  clients.push(c);
  return c;
}

function nos(clOrdId: string): TagValue[] {
  return [[11, clOrdId], [21, 1], [38, 100], [40, 2], [44, '10.25'], [54, 1], [55, 'IBM'], [60, fixTime()]];
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killAllGateways();
});

afterAll(() => {
  const dirs = new Set(started.map((g) => g.dir));
  for (const d of dirs) removeDir(d);
});

// ------------------------------------------------------------------------------------------------
// The order flow and the recovery, as a client does it.

interface Order {
  clOrdId: string;
  seq: number;
  body: FixField[];
}

class OrderFlow {
  readonly orders: Order[] = [];
  readonly byId = new Map<string, Order>();
  echoed = 0;
  private next = 1;

  constructor(
    private readonly c: FixTestClient,
    readonly prefix: string,
  ) {}

  get remaining(): number {
    return TOTAL - this.orders.length;
  }

  sendOne(): void {
    const id = `${this.prefix}-${this.next++}`;
    const sent = this.c.send('D', nos(id));
    const o = { clOrdId: id, seq: sent.seqNum, body: sent.body };
    this.orders.push(o);
    this.byId.set(id, o);
  }

  /**
   * Sends orders, keeping at most WINDOW without an echo on this connection, until `until` orders
   * were sent or the connection closed. `onEcho` runs synchronously for every echo.
   */
  run(until: number, onEcho?: (echoed: number) => void): Promise<void> {
    const c = this.c;
    let inFlight = 0;
    return new Promise<void>((resolve) => {
      const pump = () => {
        while (!c.closedNow && this.orders.length < until && inFlight < WINDOW) {
          this.sendOne();
          inFlight++;
        }
      };
      const off = c.onMessage((m) => {
        if (m.msgType !== 'D') return;
        this.echoed++;
        inFlight--;
        onEcho?.(this.echoed);
        if (this.orders.length >= until && inFlight <= 0) finish();
        else setImmediate(pump);
      });
      const finish = () => {
        off();
        resolve();
      };
      void c.closed().then(finish);
      pump();
    });
  }
}

interface Recovery {
  /** Last gateway MsgSeqNum received before the kill. */
  lastBeforeKill: number;
  /** The client's Logon MsgSeqNum on the new connection. */
  logonSeq: number;
  logonReply: FixMsg;
  /** The gateway's ResendRequest after the restart, if it sent one. */
  gatewayResendRequest?: FixMsg;
  /** The gateway's next expected MsgSeqNum after the restart (7= of its ResendRequest, else our Logon's). */
  gatewayExpected: number;
  /** What came back for our ResendRequest 7=1 16=0, and the last seqnum it had to cover. */
  resent: FixMsg[];
  resentUpTo: number;
}

/**
 * After the first connection is gone: reconnect to `gw`, log on with the next MsgSeqNum, answer the
 * gateway's ResendRequest (up to our Logon: the TestRequest sent right after it is queued there),
 * wait for the TestRequest's Heartbeat, send the orders not sent yet, then ask for a resend of
 * everything and collect it.
 */
async function recover(c: FixTestClient, flow: OrderFlow, gw: GatewayProcess): Promise<Recovery> {
  expect(c.gaps).toEqual([]);
  const lastBeforeKill = c.expectedSeqNum - 1;
  await c.reconnect(gw.port);
  const logonSeq = c.nextSeqNum;
  const logonReply = await c.logon({ heartBtInt: 30 });
  expect(logonReply.has(141)).toBe(false);
  c.send('1', [[112, 'sync']]);
  let gatewayResendRequest: FixMsg | undefined;
  for (;;) {
    const m = await c.next(undefined, 20_000);
    if (m.msgType === '2' && !gatewayResendRequest) {
      gatewayResendRequest = m;
      c.answerResendRequest(m, logonSeq);
    } else if (m.msgType === '0' && m.get(112) === 'sync') break;
    else if (m.msgType !== 'D') throw new Error(`unexpected message after the restart: ${m}`);
  }
  const gatewayExpected = gatewayResendRequest ? Number(gatewayResendRequest.get(7)) : logonSeq;
  if (flow.remaining > 0) await flow.run(TOTAL);
  expect(c.closedNow).toBe(false);

  // Everything so far was seen through OrderFlow's listener; what follows is the answer to this request.
  expect(c.skipUnread().every((m) => m.msgType === 'D' && !m.possDup)).toBe(true);
  const resentUpTo = c.expectedSeqNum - 1;
  c.send('2', [[7, 1], [16, 0]]);
  const resent: FixMsg[] = [];
  for (let covered = 0; covered < resentUpTo; ) {
    const m = await c.next(undefined, 20_000);
    resent.push(m);
    covered = m.msgType === '4' && m.get(123) === 'Y' ? Number(m.get(36)) - 1 : m.seqNum;
  }
  await c.expectNothing(300);
  await c.logout();
  return { lastBeforeKill, logonSeq, logonReply, gatewayResendRequest, gatewayExpected, resent, resentUpTo };
}

function bodyOf(m: FixMsg): FixField[] {
  return m.body();
}

/** The checks described at the top of this file. Returns the numbers worth reporting. */
function verifyRecovery(c: FixTestClient, flow: OrderFlow, r: Recovery): { duplicated: number; prefix: number } {
  const L = r.logonReply.seqNum;
  // Seqnums continue: nothing reused, nothing restarted at 1.
  expect(L).toBeGreaterThan(r.lastBeforeKill);
  if (r.gatewayResendRequest) {
    const rr = r.gatewayResendRequest;
    expect([rr.seqNum, rr.get(16)]).toEqual([L + 1, '0']);
    expect(r.gatewayExpected).toBeLessThan(r.logonSeq);
    expect(r.gatewayExpected).toBeGreaterThanOrEqual(1);
  }

  // Everything the client received as a new message, on both connections, in order.
  const live = c.received.filter((m) => !m.possDup);
  for (let i = 1; i < live.length; i++) expect(live[i].seqNum).toBeGreaterThan(live[i - 1].seqNum);
  const liveBySeq = new Map(live.map((m) => [m.seqNum, m]));

  // The resend of 1..resentUpTo: contiguous, every item 43=Y with 122.
  const coveredBy = new Map<number, FixMsg>();
  let expectSeq = 1;
  for (const m of r.resent) {
    if (m.seqNum !== expectSeq || !m.possDup || !m.has(122)) throw new Error(`resend out of order at ${expectSeq}: ${m}`);
    const isGapFill = m.msgType === '4' && m.get(123) === 'Y';
    const next = isGapFill ? Number(m.get(36)) : m.seqNum + 1;
    expect(next).toBeGreaterThan(m.seqNum);
    for (let s = m.seqNum; s < next; s++) coveredBy.set(s, m);
    expectSeq = next;
  }
  expect(expectSeq - 1).toBe(r.resentUpTo);

  for (const [seq, m] of liveBySeq) {
    if (seq > r.resentUpTo) continue; // our own ResendRequest's aftermath (Logout)
    const back = coveredBy.get(seq)!;
    if (m.msgType === 'D') {
      // every application message the client received comes back identical
      expect({ seq: back.seqNum, type: back.msgType, orig: back.get(122), body: bodyOf(back) }).toEqual({
        seq,
        type: 'D',
        orig: m.get(52),
        body: bodyOf(m),
      });
    } else {
      // admin messages are gap-filled, never resent
      if (!(back.msgType === '4' && back.get(123) === 'Y')) throw new Error(`admin message ${m} came back as ${back}`);
    }
  }

  // Every echo (received live, or first seen in the resend) is the echo of an order we sent, body
  // for body; count them per order, before and after the restart.
  const echoSeqs = new Map<string, { pre: number[]; post: number[] }>();
  const echoes = new Map<number, FixMsg>();
  for (const m of live) if (m.msgType === 'D') echoes.set(m.seqNum, m);
  for (const m of r.resent) if (m.msgType === 'D' && !echoes.has(m.seqNum)) echoes.set(m.seqNum, m);
  for (const [seq, m] of echoes) {
    const order = flow.byId.get(m.get(11) ?? '');
    if (!order) throw new Error(`echo of an order never sent: ${m}`);
    expect(bodyOf(m)).toEqual(order.body);
    const e = echoSeqs.get(order.clOrdId) ?? { pre: [], post: [] };
    (seq < L ? e.pre : e.post).push(seq);
    echoSeqs.set(order.clOrdId, e);
  }

  expect(flow.orders.length).toBe(TOTAL);
  const G = r.gatewayExpected;
  let prefix = 0; // P: orders with an echo before the kill are exactly orders[0 .. prefix)
  let duplicated = 0;
  let lastPre = 0;
  let lastPost = L;
  for (const o of flow.orders) {
    const e = echoSeqs.get(o.clOrdId) ?? { pre: [], post: [] };
    const where = `order ${o.clOrdId} (MsgSeqNum ${o.seq}, gateway expected ${G} after the restart): echoes ${JSON.stringify(e)}`;
    if (e.pre.length > 1 || e.post.length > 1) throw new Error(`echoed more than once on one side of the kill: ${where}`);
    if (o.seq < G) {
      if (e.pre.length !== 1 || e.post.length !== 0) throw new Error(`below G must be echoed once, before the kill: ${where}`);
    } else if (e.post.length !== 1) throw new Error(`at or above G must be echoed once after the restart: ${where}`);
    if (e.pre.length === 1) {
      if (prefix !== flow.orders.indexOf(o)) throw new Error(`orders echoed before the kill are not a prefix: ${where}`);
      prefix++;
      if (e.pre[0] <= lastPre) throw new Error(`echoes before the kill out of order: ${where}`);
      lastPre = e.pre[0];
      if (e.post.length === 1) duplicated++;
    }
    if (e.post.length === 1) {
      if (e.post[0] <= lastPost) throw new Error(`echoes after the restart out of order: ${where}`);
      lastPost = e.post[0];
    }
  }
  // Duplicates are exactly the orders in [G, P).
  const firstAtG = flow.orders.findIndex((o) => o.seq >= G);
  expect(duplicated).toBe(Math.max(0, prefix - (firstAtG < 0 ? flow.orders.length : firstAtG)));
  return { duplicated, prefix };
}

// ------------------------------------------------------------------------------------------------
// The journal, read independently of the gateway (format: src/fix/store/file-session-store.ts).

interface JournalRecord {
  pos: number;
  end: number;
  type: 'S' | 'T' | 'N';
  batchStart: number;
  num: number;
}

const J_HEADER = 29;

function readJournal(file: string): { records: JournalRecord[]; size: number } {
  const b = fs.readFileSync(file);
  expect(b.subarray(9, 17).toString('latin1')).toBe('FIXJRNL\0');
  const records: JournalRecord[] = [];
  let pos = J_HEADER;
  while (pos + 8 <= b.length) {
    const len = b.readUInt32LE(pos);
    if (pos + 8 + len > b.length || len < 13) break;
    if (b.readUInt32LE(pos + 4) !== zlib.crc32(b.subarray(pos + 8, pos + 8 + len))) break;
    records.push({
      pos,
      end: pos + 8 + len,
      type: String.fromCharCode(b[pos + 8]) as JournalRecord['type'],
      batchStart: b.readUInt32LE(pos + 9) + b.readUInt32LE(pos + 13) * 2 ** 32,
      num: b.readUInt32LE(pos + 17),
    });
    pos += 8 + len;
  }
  return { records, size: b.length };
}

function stateAfter(records: JournalRecord[]): { nextSender: number; nextTarget: number } {
  let nextSender = 1;
  let nextTarget = 1;
  for (const r of records) {
    if (r.type === 'S') nextSender = r.num + 1;
    else if (r.type === 'N') nextSender = r.num;
    else nextTarget = r.num;
  }
  return { nextSender, nextTarget };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the file has not changed for 200 ms (the target seqnum is persisted asynchronously). */
async function settled(file: string): Promise<void> {
  let prev = fs.readFileSync(file);
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const cur = fs.readFileSync(file);
    if (cur.equals(prev)) return;
    prev = cur;
  }
  throw new Error(`${file} kept changing`);
}

// ------------------------------------------------------------------------------------------------

describe('SIGKILL in the middle of a burst of 2,000 orders, restart on the same store', () => {
  test.each<[string, number]>([
    ['early', 40],
    ['middle', 900],
    ['late', 1700],
  ])('%s (kill once %i echoes have arrived)', async (name, killAt) => {
    const gw1 = await start();
    const c = await connect(gw1);
    expect((await c.logon({ heartBtInt: 30 })).seqNum).toBe(1);
    const flow = new OrderFlow(c, name);
    let sentAtKill = -1;
    let receivedAtKill = -1;
    await flow.run(TOTAL, (echoed) => {
      if (echoed === killAt) {
        gw1.child.kill('SIGKILL');
        sentAtKill = flow.orders.length;
        receivedAtKill = echoed;
      }
    });
    await c.waitClosed(5000);
    expect(await gw1.waitExit()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(receivedAtKill).toBe(killAt);
    expect(sentAtKill).toBeLessThan(TOTAL); // really mid-burst: orders still to be sent after the restart

    const gw2 = await start({ dir: gw1.dir, ports: gw1.ports });
    const r = await recover(c, flow, gw2);
    const { duplicated, prefix } = verifyRecovery(c, flow, r);
    // Orders the client had seen echoed were processed before the kill.
    expect(prefix).toBeGreaterThanOrEqual(receivedAtKill);
    expect(await gw2.stop()).toEqual({ code: 0, signal: null });
    // One line per scenario for the test log: how the crash fell.
    process.stdout.write(
      `[crash-recovery ${name}] kill after ${receivedAtKill} echoes, ${sentAtKill} orders sent; last seq before kill ${r.lastBeforeKill}, ` +
        `Logon reply 34=${r.logonReply.seqNum}, gateway expected ${r.gatewayExpected} (our Logon ${r.logonSeq}), ` +
        `echoed before kill ${prefix}, echoed twice ${duplicated}\n`,
    );
  });
});

describe('damaged journal', () => {
  /** A session with `n` orders, each echoed before the next is sent (so they are spread over many journal writes). */
  async function sessionWithHistory(n: number): Promise<{ gw: GatewayProcess; c: FixTestClient; flow: OrderFlow; journal: string }> {
    const gw = await start();
    const c = await connect(gw);
    await c.logon({ heartBtInt: 30 });
    const flow = new OrderFlow(c, 'hist');
    for (let i = 0; i < n; i++) {
      flow.sendOne();
      await c.next((m) => m.msgType === 'D');
    }
    const journal = journalPath(gw.storeDir, 'ISLD', 'TW42');
    await settled(journal);
    return { gw, c, flow, journal };
  }

  test('torn tail: a journal cut inside its last record is recovered with a warning; seqnums continue from the last complete record', async () => {
    const { gw, c, flow, journal } = await sessionWithHistory(30);
    await gw.kill('SIGKILL');
    await c.waitClosed(5000);

    const { records, size } = readJournal(journal);
    expect(records[records.length - 1].end).toBe(size); // intact before we cut it
    // The last thing the session persists after an order is the next expected seqnum (its echo is
    // stored before). Losing that record means: the last orders must be asked for again.
    const last = records[records.length - 1];
    expect(last.type).toBe('T');
    const original = fs.readFileSync(journal);
    fs.truncateSync(journal, size - 5);
    const expected = stateAfter(records.slice(0, -1));
    expect(expected.nextSender).toBe(c.expectedSeqNum); // every message we received is still there
    expect(expected.nextTarget).toBeLessThan(c.nextSeqNum);

    const gw2 = await start({ dir: gw.dir, ports: gw.ports });
    const warning = gw2.logs().find((e) => e.msg === 'store recovered');
    expect(warning).toBeDefined();
    expect(warning!.level).toBe(40);
    expect(String(warning!.note)).toContain(journal);
    expect(String(warning!.note)).toMatch(/torn tail/);
    // cut exactly at the damaged record, everything before it untouched (nothing is written before a Logon)
    const recovered = fs.readFileSync(journal);
    expect(recovered.length).toBe(last.pos);
    expect(recovered.equals(original.subarray(0, last.pos))).toBe(true);

    // The rest of the 2,000 orders go through the recovered session.
    const r = await recover(c, flow, gw2);
    expect(r.logonReply.seqNum).toBe(expected.nextSender);
    expect(r.gatewayResendRequest?.get(7)).toBe(String(expected.nextTarget));
    verifyRecovery(c, flow, r);
    expect(await gw2.stop()).toEqual({ code: 0, signal: null });
  });

  test('garbage in the middle of the journal: the gateway refuses to start, exits non-zero naming the file, and leaves the file alone', async () => {
    const { gw, c, journal } = await sessionWithHistory(20);
    await c.logout();
    expect(await gw.stop()).toEqual({ code: 0, signal: null });

    const { records, size } = readJournal(journal);
    expect(records[records.length - 1].end).toBe(size);
    // Damage a record that later, separately written (hence acknowledged) records follow.
    const lastBatch = records[records.length - 1].batchStart;
    const victim = records[Math.floor(records.length / 2)];
    expect(victim.batchStart).toBeLessThan(lastBatch);
    const bytes = fs.readFileSync(journal);
    Buffer.from('GARBAGE!', 'latin1').copy(bytes, victim.pos + 4); // crc and type: unreadable
    fs.writeFileSync(journal, bytes);

    const gw2 = await spawnGateway({ config: CONFIG, dir: gw.dir, ports: gw.ports });
    started.push(gw2);
    const exit = await gw2.waitExit(15_000);
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(gw2.logs().some((e) => e.msg === 'gateway started')).toBe(false);
    const output = gw2.stderr + gw2.stdoutLines.join('\n');
    expect(output).toContain(journal);
    expect(output).toMatch(/corrupt journal/);
    // Never a silent restart at 1: the journal is exactly as we left it.
    expect(fs.readFileSync(journal).equals(bytes)).toBe(true);
  });
});
