// How the session uses its store, with the real FileSessionStore wrapped to observe or fail it
// (session in this process, client over real TCP): a ResendRequest is served in bounded chunks,
// and a failed append never reaches the wire nor stops the session.
import { FixMsg, FixTestClient, TagValue, fixTime } from '../support/fix-test-client';
import { InProcessSession, startInProcessSession } from '../support/in-process-session';
import { MessageStore } from '../../src/fix/store/message-store';

jest.setTimeout(60_000);

let running: InProcessSession | undefined;
const clients: FixTestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await running?.stop();
  running = undefined;
});

function nos(clOrdId: string): TagValue[] {
  return [[11, clOrdId], [21, 1], [38, 100], [40, 1], [54, 1], [55, 'IBM'], [60, fixTime()]];
}

/** The store with getSent ranges recorded. */
function recordingReads(reads: Array<[number, number]>) {
  return (store: MessageStore): MessageStore =>
    new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getSent') {
          return (begin: number, end: number) => {
            reads.push([begin, end]);
            return target.getSent(begin, end);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
}

describe('ResendRequest over a large range', () => {
  test('2,500 stored messages are read in chunks of at most 1,000 and resent complete, in order, bodies unchanged', async () => {
    const reads: Array<[number, number]> = [];
    running = await startInProcessSession({ session: { ResetOnLogon: 'Y' }, wrapStore: recordingReads(reads) });
    const c = await FixTestClient.connect({ port: running.port });
    clients.push(c);
    await c.logon({ heartBtInt: 30 });
    const N = 2500;
    const echoes: FixMsg[] = [];
    const off = c.onMessage((m) => {
      if (m.msgType === 'D' && !m.possDup) echoes.push(m);
    });
    for (let i = 0; i < N; i++) c.send('D', nos(`BIG-${i}`));
    const deadline = Date.now() + 30_000;
    while (echoes.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    off();
    expect(echoes.length).toBe(N);
    c.skipUnread();

    const from = c.received.length;
    c.send('2', [[7, 1], [16, 0]]);
    const last = echoes[N - 1].seqNum;
    const answer: FixMsg[] = [];
    while (!answer.some((m) => m.seqNum === last)) answer.push(await c.next(undefined, 10_000));
    expect(c.received.length - from).toBe(answer.length);

    // Gap fill for the Logon (34=1), then every echo with its own MsgSeqNum, 43=Y, 122 = original 52.
    expect([answer[0].msgType, answer[0].seqNum, answer[0].get(36), answer[0].get(123)]).toEqual(['4', 1, '2', 'Y']);
    const resent = answer.slice(1);
    expect(resent.length).toBe(N);
    resent.forEach((m, i) => {
      const orig = echoes[i];
      expect(m.seqNum).toBe(orig.seqNum);
      expect(m.get(43)).toBe('Y');
      expect(m.get(122)).toBe(orig.get(52));
      const body = (x: FixMsg) => x.fields.filter((f) => ![8, 9, 34, 43, 49, 52, 56, 122, 10].includes(f.tag));
      expect(body(m)).toEqual(body(orig));
    });
    // Bounded memory: never more than 1,000 messages per read.
    const resendReads = reads.filter(([b]) => b >= 1);
    expect(resendReads.length).toBeGreaterThanOrEqual(3);
    for (const [b, e] of resendReads) expect(e - b + 1).toBeLessThanOrEqual(1000);
    await c.logout();
  });
});

describe('a store append that fails (ENOSPC)', () => {
  test('send() rejects for that message, it never reaches the wire, its seqnum is gap-filled, and the session goes on', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    const outcomes = new Map<string, string>();
    try {
      running = await startInProcessSession({
        wrapStore: (store) =>
          new Proxy(store, {
            get(target, prop, receiver) {
              if (prop === 'appendSent') {
                return (seq: number, raw: string) => {
                  if (raw.includes('\x0111=FAIL-')) return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
                  return target.appendSent(seq, raw);
                };
              }
              const v = Reflect.get(target, prop, receiver);
              return typeof v === 'function' ? v.bind(target) : v;
            },
          }),
        // The echo application, with each send's outcome recorded.
        app: (echo) => ({
          onLogon: () => echo.onLogon(),
          fromApp: (msg, session) => {
            const id = msg.get(11)!;
            const r = echo.fromApp(msg, session);
            return Promise.resolve(r).then(
              () => void outcomes.set(id, 'stored'),
              (err: Error) => void outcomes.set(id, `rejected: ${err.message}`),
            );
          },
        }),
      });
      const c = await FixTestClient.connect({ port: running.port });
      clients.push(c);
      await c.logon({ heartBtInt: 30 });
      c.send('D', nos('OK-1')); // 2 -> echo 2
      c.send('D', nos('FAIL-1')); // 3 -> echo 3 fails to store
      c.send('D', nos('OK-2')); // 4 -> echo 4
      const ok2 = await c.next((m) => m.get(11) === 'OK-2', 5000);
      expect(ok2.seqNum).toBe(4);
      expect(c.received.filter((m) => m.get(11) === 'FAIL-1')).toEqual([]);
      expect(outcomes.get('FAIL-1')).toMatch(/^rejected: .*ENOSPC/);
      expect(outcomes.get('OK-1')).toBe('stored');
      // The client saw 2 then 4: it asks for 3 and gets a GapFill (the message was never stored, never sent).
      expect(c.gaps).toEqual([{ expected: 3, received: 4 }]);
      c.send('2', [[7, 3], [16, 3]]);
      const fill = await c.next();
      expect([fill.msgType, fill.seqNum, fill.get(36), fill.get(123)]).toEqual(['4', 3, '4', 'Y']);
      c.send('D', nos('OK-3'));
      expect((await c.next((m) => m.get(11) === 'OK-3')).seqNum).toBe(5);
      await c.logout();
      expect(running.session.nextSenderSeqNum()).toBe(7);
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
