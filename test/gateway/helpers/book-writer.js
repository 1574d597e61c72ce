// Child process for the SIGKILL-during-compaction test: streams orders through a FileOrderBook that
// evicts at once and compacts often, and prints an order's number only once its terminal save is
// durable.
//
//   node book-writer.js <compiled file-order-book.js> <dir> <first order number> [shared]
//
// stdout: "READY", then "S <n>" lines. With "shared", the book shares the FIX session's journal with
// a FileSessionStore, as in the gateway: each order also records an inbound seqnum and stores its
// report's wire text, and the line is "S <n> <seqnum of the stored report>" once both are durable.
'use strict';

/** A stored report's wire text (the test checks it comes back byte for byte). */
function reportText(n, seq) {
  return `8=FIX.4.2\x019=99\x0135=8\x0134=${seq}\x0149=GATEWAY\x0156=QFCLIENT\x0111=C${n}\x0117=F-${n}\x0139=2\x01150=2\x0155=BTCUSDT\x01${'58=padding '.repeat(n % 7)}\x0110=000\x01`;
}

async function main() {
  const [modulePath, dir, firstText] = process.argv.slice(2);
  const shared = process.argv[5] === 'shared';
  const { FileOrderBook } = require(modulePath);
  let store;
  let journal;
  if (shared) {
    const { FileSessionStore, sessionJournalFor } = require(modulePath.replace(/gateway\/file-order-book\.js$/, 'fix/store/file-session-store.js'));
    journal = sessionJournalFor(dir, 'CRASH');
    store = new FileSessionStore(dir, 'CRASH', { journal });
  }
  const book = new FileOrderBook(dir, 'CRASH', { compactMinRecords: 300, compactRatio: 2, evictAfterMs: 0, journal });
  if (store) await store.open();
  await book.open();
  process.stdout.write('READY\n');
  for (let n = Number(firstText); ; n++) {
    const base = {
      clOrdId: `C${n}`,
      venueClientOrderId: `k${n}`,
      wireClientOrderId: `k${n}`,
      venueOrderId: `V${n}`,
      symbol: 'BTCUSDT',
      side: '1',
      ordType: '2',
      timeInForce: '1',
      orderQty: '1',
      price: '100',
      cumQty: '0',
      avgPx: '0',
      notional: '0',
      execSeq: 1,
      acked: true,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    const { FillIds } = require(modulePath.replace(/file-order-book\.js$/, 'order.js'));
    await book.save({ ...base, status: '0', fillIds: FillIds.EMPTY });
    const er = { msgType: '8', body: [{ tag: 17, value: `F-${n}` }] };
    if (!shared) {
      await book.save({ ...base, status: '2', cumQty: '1', avgPx: '100', notional: '100', fillIds: FillIds.of([`f${n}`]) }, [{ execId: `F-${n}`, message: er }]);
      book.confirm([`F-${n}`]);
      process.stdout.write(`S ${n}\n`);
      continue;
    }
    store.setNextTargetSeqNum(n + 1).catch(() => undefined);
    const saved = book.save({ ...base, status: '2', cumQty: '1', avgPx: '100', notional: '100', fillIds: FillIds.of([`f${n}`]) }, [{ execId: `F-${n}`, message: er }]);
    const seq = store.nextSenderSeqNum();
    // Same tick: one write carries the order's state and its report (as ReportCommitter does).
    const stored = store.appendSent(seq, reportText(n, seq));
    await Promise.all([saved, stored]);
    book.confirm([`F-${n}`]);
    process.stdout.write(`S ${n} ${seq}\n`);
  }
}

module.exports = { reportText };

if (require.main === module) main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
