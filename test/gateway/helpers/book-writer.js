// Child process for the SIGKILL-during-compaction test: streams orders through a FileOrderBook that
// evicts at once and compacts often, and prints an order's number only once its terminal save is
// durable.
//
//   node book-writer.js <compiled file-order-book.js> <dir> <first order number>
//
// stdout: "READY", then "S <n>" lines.
'use strict';

async function main() {
  const [modulePath, dir, firstText] = process.argv.slice(2);
  const { FileOrderBook } = require(modulePath);
  const book = new FileOrderBook(dir, 'CRASH', { compactMinRecords: 300, compactRatio: 2, evictAfterMs: 0 });
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
    await book.save({ ...base, status: '2', cumQty: '1', avgPx: '100', notional: '100', fillIds: FillIds.of([`f${n}`]) }, [{ execId: `F-${n}`, message: er }]);
    book.confirm([`F-${n}`]);
    process.stdout.write(`S ${n}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
