// The FIX data dictionary in the shape validation needs: per tag its type and enum values, per
// message type its top-level fields, required fields and repeating groups. Built once at start-up
// from jspurefix's parse of the QuickFIX XML dictionary (jspurefix does the XML; we keep lookups flat).
import 'reflect-metadata';
import * as path from 'path';

export interface FieldSpec {
  tag: number;
  name: string;
  type: string;
  enums?: ReadonlySet<string>;
}

export interface GroupSpec {
  countTag: number;
  /** First field of every entry. */
  delimiter: number;
  /** Member tags in dictionary order (nested group count tags included). */
  members: readonly number[];
  memberSet: ReadonlySet<number>;
  required: readonly number[];
  groups: ReadonlyMap<number, GroupSpec>;
}

export interface MessageSpec {
  msgType: string;
  name: string;
  /** Top-level body tags (group count tags included, group members not). */
  fields: ReadonlySet<number>;
  required: readonly number[];
  groups: ReadonlyMap<number, GroupSpec>;
}

export interface FixDictionary {
  beginString: string;
  fields: ReadonlyMap<number, FieldSpec>;
  messages: ReadonlyMap<string, MessageSpec>;
  headerTags: ReadonlySet<number>;
  headerRequired: readonly number[];
  trailerTags: ReadonlySet<number>;
  trailerRequired: readonly number[];
}

// jspurefix's ContainedFieldType: Component = 0, Group = 1, Simple = 2
const COMPONENT = 0;
const GROUP = 1;

interface JsFieldSet {
  fields: Array<{ type: number; required: boolean; definition: any; name: string }>;
}

function collect(set: JsFieldSet, into: { tags: number[]; required: number[]; groups: Map<number, GroupSpec> }): void {
  for (const f of set.fields) {
    if (f.type === COMPONENT) {
      collect(f.definition as JsFieldSet, into);
    } else if (f.type === GROUP) {
      const g = groupSpec(f.definition);
      into.tags.push(g.countTag);
      if (f.required) into.required.push(g.countTag);
      into.groups.set(g.countTag, g);
    } else {
      const tag = Number(f.definition.tag);
      into.tags.push(tag);
      if (f.required) into.required.push(tag);
    }
  }
}

function groupSpec(def: any): GroupSpec {
  const acc = { tags: [] as number[], required: [] as number[], groups: new Map<number, GroupSpec>() };
  collect(def as JsFieldSet, acc);
  return {
    countTag: Number(def.noOfField.tag),
    delimiter: acc.tags[0],
    members: acc.tags,
    memberSet: new Set(acc.tags),
    required: acc.required,
    groups: acc.groups,
  };
}

export async function loadDictionary(file: string): Promise<FixDictionary> {
  // Loaded lazily: requiring jspurefix costs ~0.8 s, only the process that validates pays it.
  const { DefinitionFactory } = await import('jspurefix');
  const defs = await new DefinitionFactory().getDefinitions(path.resolve(file));
  const fields = new Map<number, FieldSpec>();
  for (const s of defs.simple.values()) {
    const tag = Number(s.tag);
    const enums = s.enums && s.enums.size > 0 ? new Set<string>(s.enums.keys()) : undefined;
    fields.set(tag, { tag, name: s.name, type: s.type.toUpperCase(), enums });
  }
  const messages = new Map<string, MessageSpec>();
  for (const m of defs.message.values()) {
    if (messages.has(m.msgType)) continue;
    const acc = { tags: [] as number[], required: [] as number[], groups: new Map<number, GroupSpec>() };
    for (const f of (m as unknown as JsFieldSet).fields) {
      // StandardHeader / StandardTrailer components are handled separately.
      if (f.type === COMPONENT && (f.name === 'StandardHeader' || f.name === 'StandardTrailer')) continue;
      collect({ fields: [f] }, acc);
    }
    messages.set(m.msgType, {
      msgType: m.msgType,
      name: m.name,
      fields: new Set(acc.tags),
      required: acc.required,
      groups: acc.groups,
    });
  }
  const part = (name: string) => {
    const acc = { tags: [] as number[], required: [] as number[], groups: new Map<number, GroupSpec>() };
    const c = defs.component.get(name);
    if (c) collect(c as unknown as JsFieldSet, acc);
    return acc;
  };
  const header = part('StandardHeader');
  const trailer = part('StandardTrailer');
  return {
    beginString: `FIX.${defs.getMajor()}.${defs.getMinor()}`,
    fields,
    messages,
    headerTags: new Set(header.tags),
    headerRequired: header.required,
    trailerTags: new Set(trailer.tags),
    trailerRequired: trailer.required,
  };
}
