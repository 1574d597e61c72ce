// The acceptance-test application (Application=echo), behaving like QuickFIX's AT application:
// NewOrderSingle, SecurityDefinition and Email are echoed back with the same body fields (re-sorted
// into QuickFIX's field order), a PossResend order whose ClOrdID was already seen since the last
// Logon is dropped, and every other application message is answered with BusinessMessageReject.
import { FixApplication, SessionHandle, UnsupportedMessageType } from './application';
import { FixDictionary, GroupSpec } from './dictionary';
import { FixField, FixMessage } from './message';

export class EchoApplication implements FixApplication {
  private readonly seenClOrdIds = new Set<string>();

  constructor(private readonly dict: FixDictionary) {}

  onLogon(): void {
    this.seenClOrdIds.clear();
  }

  fromApp(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    const type = msg.msgType;
    if (type === 'D') {
      const id = msg.get(11) ?? '';
      if (msg.get(97) === 'Y' && this.seenClOrdIds.has(id)) return;
      this.seenClOrdIds.add(id);
    } else if (type !== 'd' && type !== 'C') {
      throw new UnsupportedMessageType(type);
    }
    const possResend = msg.get(97);
    // Accepted once the echo is stored: the next expected seqnum is persisted only after that.
    return session.send({
      msgType: type,
      header: possResend !== undefined ? [{ tag: 97, value: possResend }] : undefined,
      body: quickfixBodyOrder(this.bodyOf(msg), this.dict.messages.get(type)?.groups),
    }).then(() => undefined);
  }

  private bodyOf(msg: FixMessage): FixField[] {
    const body: FixField[] = [];
    for (const f of msg.fields) if (!this.dict.headerTags.has(f.tag) && !this.dict.trailerTags.has(f.tag)) body.push(f);
    return body;
  }
}

/** Top-level fields in ascending tag order, each repeating group kept whole right after its count. */
export function quickfixBodyOrder(body: FixField[], groups?: ReadonlyMap<number, GroupSpec>): FixField[] {
  const items: { tag: number; fields: FixField[]; index: number }[] = [];
  for (let i = 0; i < body.length; ) {
    const f = body[i++];
    const item = { tag: f.tag, fields: [f], index: items.length };
    const g = groups?.get(f.tag);
    if (g) while (i < body.length && g.memberSet.has(body[i].tag)) item.fields.push(body[i++]);
    items.push(item);
  }
  items.sort((a, b) => a.tag - b.tag || a.index - b.index);
  return items.flatMap((x) => x.fields);
}
