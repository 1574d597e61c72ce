// A ResendRequest is answered before anything newer reaches the wire: messages the application
// sends while the store is being read for a resend wait until the resend is written, so the client
// sees MsgSeqNums in order (a checker or log reader that takes arrival order for processing order
// would otherwise see, e.g., a stale Pending New after the fills that followed it).
import { FixMsg, FixTestClient, TagValue, fixTime } from '../support/fix-test-client';
import { InProcessSession, startInProcessSession } from '../support/in-process-session';
import { MessageStore } from '../../src/fix/store/message-store';

jest.setTimeout(30_000);

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

test('a message sent while a resend is being read from the store goes out after the resent messages', async () => {
  let onResendRead: (() => void) | undefined;
  const slowResend = (store: MessageStore): MessageStore =>
    new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getSent') {
          return async (begin: number, end: number) => {
            const hook = onResendRead;
            onResendRead = undefined;
            hook?.();
            // The read takes a while: the application keeps sending meanwhile.
            await new Promise((r) => setTimeout(r, 200));
            return target.getSent(begin, end);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  running = await startInProcessSession({ wrapStore: slowResend });
  const c = await FixTestClient.connect({ port: running.port });
  clients.push(c);
  await c.logon({ heartBtInt: 30 });
  for (let i = 0; i < 3; i++) c.send('D', nos(`R-${i}`));
  const echoes: FixMsg[] = [];
  while (echoes.length < 3) {
    const m = await c.next(undefined, 5_000);
    if (m.msgType === 'D') echoes.push(m);
  }
  const session = running.session;
  onResendRead = () => void session.send({ msgType: 'D', body: nos('LIVE') .map(([tag, value]) => ({ tag, value: String(value) })) });
  c.send('2', [[7, echoes[0].seqNum], [16, 0]]);
  const after: FixMsg[] = [];
  while (!after.some((m) => m.get(11) === 'LIVE')) after.push(await c.next(undefined, 5_000));
  const seqs = after.map((m) => m.seqNum);
  expect(after.filter((m) => m.possDup).map((m) => m.get(11))).toEqual(['R-0', 'R-1', 'R-2']);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
});
