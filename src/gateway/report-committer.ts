// Transactional outbox, the writing side: an order's new state is saved together with the reports
// it must send, then the reports are handed to the FIX session (which stores them before the
// wire), then they are confirmed. Reports of one order leave in the order they were produced.
import { SessionHandle } from '../fix/application';
import { OutboundMessage } from '../fix/message';
import { executionReportFor, orderCancelRejectFor } from './execution-report';
import { FileOrderBook, OutboxEntry } from './file-order-book';
import { GatewayOrder } from './order';
import { Transition } from './order-state';

export class ReportCommitter {
  private session?: SessionHandle;
  private readonly changeListeners: ((order: GatewayOrder) => void)[] = [];

  constructor(private readonly book: FileOrderBook) {}

  attach(session: SessionHandle): void {
    this.session = session;
  }

  /** Called after every committed change of an order (its new state). */
  onChange(listener: (order: GatewayOrder) => void): void {
    this.changeListeners.push(listener);
  }

  /** Save the order with the reports it must send, send them, then mark them done. */
  async commit(t: Transition): Promise<void> {
    const changed = t.order !== this.book.get(t.order.clOrdId) || t.reports.length > 0 || t.cancelRejects.length > 0;
    await this.write(t);
    if (changed) for (const l of this.changeListeners) l(t.order);
  }

  private async write(t: Transition): Promise<void> {
    if (t.reports.length === 0 && t.cancelRejects.length === 0) {
      if (t.order !== this.book.get(t.order.clOrdId)) await this.book.save(t.order);
      return;
    }
    const now = new Date();
    const outbox: OutboxEntry[] = [];
    for (const r of t.reports) outbox.push({ execId: r.execId, message: executionReportFor(t.order, r, now) });
    for (const c of t.cancelRejects) outbox.push({ execId: c.id, message: orderCancelRejectFor(c) });
    await this.book.save(t.order, outbox);
    await Promise.all(outbox.map((e) => this.send(e.message)));
    this.book.confirm(outbox.map((e) => e.execId));
  }

  /** A message that changes no order (a reply to a request): straight to the session. */
  send(msg: OutboundMessage): Promise<number> {
    if (!this.session) throw new Error('gateway used before its session was created');
    return this.session.send(msg);
  }
}
