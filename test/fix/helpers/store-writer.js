// Child process for the SIGKILL durability test: appends to a FileSessionStore as fast as it can,
// several batches in flight, and prints a seq only after its appendSent resolved.
//
//   node store-writer.js <compiled file-session-store.js> <dir> <sessionKey>
//
// stdout: "READY <next sender>", then "S <seq> <seq> ..." and "T <next target>" lines.
'use strict';

/** Deterministic wire text for a seq; seqs divisible by 5 are admin messages that are not stored (''). */
function messageFor(seq) {
  if (seq % 5 === 0) return '';
  const pad = 'x'.repeat((seq * 7919) % 300);
  return `8=FIX.4.2\x019=0\x0135=8\x0134=${seq}\x0149=ISLD\x0156=TW42\x0158=caf\xe9 ${pad}\x0110=000\x01`;
}

async function main() {
  const [modulePath, dir, key] = process.argv.slice(2);
  const { FileSessionStore } = require(modulePath);
  const store = new FileSessionStore(dir, key);
  await store.open();
  let seq = store.nextSenderSeqNum();
  let target = store.nextTargetSeqNum();
  process.stdout.write(`READY ${seq}\n`);
  const inFlight = [];
  for (let round = 0; ; round++) {
    const n = 1 + (round % 23);
    const seqs = [];
    const ps = [];
    for (let i = 0; i < n; i++, seq++) {
      seqs.push(seq);
      ps.push(store.appendSent(seq, messageFor(seq)));
    }
    const t = ++target;
    ps.push(store.setNextTargetSeqNum(t));
    inFlight.push(
      Promise.all(ps).then(() => {
        process.stdout.write(`S ${seqs.join(' ')}\nT ${t}\n`);
      }),
    );
    // Keep up to 4 rounds outstanding so appends keep joining batches while a write is in flight.
    if (inFlight.length >= 4) await inFlight.shift();
    if (round % 16 === 15) await new Promise((r) => setImmediate(r));
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`store-writer: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}

module.exports = { messageFor };
