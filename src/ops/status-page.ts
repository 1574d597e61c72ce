// The status page (`/` on the admin endpoint): one self-contained HTML document, readable on a
// phone (viewport meta, one column of cards, tables that scroll sideways), no scripts and no
// external assets. Pure: a snapshot in, HTML out. Every text comes through esc(): CompIDs, reject
// Texts and addresses are client input.
import type { SessionStatus } from '../fix/session-observer';
import type { RejectEntry } from './metrics';
import type { VenueStatus } from './venue-monitor';

export interface SessionRow {
  id: string;
  application: string;
  /** `hashkey (simulator)` for a gateway session. */
  venue?: string;
  /** host:port the session is accepted on. */
  endpoint: string;
  status: SessionStatus;
}

export interface StatusSnapshot {
  /** ms since epoch */
  now: number;
  ready: { ready: boolean; reasons: string[] };
  sessions: SessionRow[];
  venues: VenueStatus[];
  rejects: RejectEntry[];
  /** Seconds between automatic reloads; 0 = none. */
  refreshSeconds: number;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML element content and quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** `08:10:03Z (4 s ago)`, with the date (`2026-12-03 08:10:03Z (...)`) when not today (UTC); `never` for 0/undefined. */
export function when(ms: number | undefined, now: number): string {
  if (!ms) return 'never';
  const full = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const iso = full.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? full.slice(11) : full;
  const ago = Math.max(0, Math.round((now - ms) / 1000));
  const rel = ago < 120 ? `${ago} s ago` : ago < 7200 ? `${Math.round(ago / 60)} min ago` : `${Math.round(ago / 3600)} h ago`;
  return `${iso} (${rel})`;
}

const CSS = `
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#c62828;--mute:#777}
body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:12px;max-width:960px;margin-inline:auto}
h1{font-size:1.3em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.2em 0 .4em}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff;font-weight:600}
.ok{background:var(--ok)}.bad{background:var(--bad)}.off{background:var(--mute)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.95em}
th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #8884;vertical-align:top}
th{white-space:nowrap}td.num{font-variant-numeric:tabular-nums;text-align:right}
.text{word-break:break-word}.mute{color:var(--mute)}
ul.reasons{margin:.3em 0;padding-left:1.2em}
@media (max-width:640px){
table,tbody,tr,td{display:block;width:auto}thead{display:none}
tr{border:1px solid #8886;border-radius:8px;margin:.6em 0;padding:.4em .6em}
td{border:none;padding:.15em 0}td.num{text-align:left}
td[data-label]::before{content:attr(data-label) ": ";color:var(--mute);font-weight:600}
}
`;

function badge(ok: boolean, yes: string, no: string, offWhenNo = false): string {
  return `<span class="badge ${ok ? 'ok' : offWhenNo ? 'off' : 'bad'}">${esc(ok ? yes : no)}</span>`;
}

function sessionsTable(s: StatusSnapshot): string {
  if (s.sessions.length === 0) return '<p class="mute">No sessions.</p>';
  const rows = s.sessions.map((r) => {
    const st = r.status;
    const last = Math.max(st.lastReceivedAt, st.lastSentAt);
    return (
      `<tr data-session="${esc(r.id)}">` +
      `<td>${esc(r.id)}<div class="mute">${esc(r.application)}${r.venue ? ` · ${esc(r.venue)}` : ''} · ${esc(r.endpoint)}</div></td>` +
      `<td class="state" data-label="state">${badge(st.loggedOn, 'logged on', 'logged off', true)}</td>` +
      `<td class="num seq-in" data-label="next in">${st.nextTargetSeqNum}</td>` +
      `<td class="num seq-out" data-label="next out">${st.nextSenderSeqNum}</td>` +
      `<td class="remote" data-label="remote">${st.remote ? esc(st.remote) : '<span class="mute">none</span>'}</td>` +
      `<td class="last" data-label="last message">${esc(when(last, s.now))}</td>` +
      '</tr>'
    );
  });
  return (
    '<div class="scroll"><table id="sessions"><thead><tr><th>session</th><th>state</th><th>next in</th><th>next out</th>' +
    `<th>remote address</th><th>last message</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

function venuesTable(s: StatusSnapshot): string {
  if (s.venues.length === 0) return '<p class="mute">No gateway sessions.</p>';
  const rows = s.venues.map((v) => {
    const stream = v.stream === undefined ? (v.started ? 'no state yet' : 'not started') : v.stream;
    const streamText = v.streamSince ? `${stream} since ${when(v.streamSince, s.now)}` : stream;
    return (
      `<tr data-venue-session="${esc(v.session)}">` +
      `<td>${esc(v.venue)}<div class="mute">${esc(v.environment)} · ${esc(v.session)}</div></td>` +
      `<td class="ready" data-label="state">${badge(v.ready, 'ready', 'not ready')}${v.lastError ? `<div class="text mute">${esc(v.lastError)}</div>` : ''}</td>` +
      `<td class="stream" data-label="stream">${esc(streamText)}</td>` +
      `<td class="reconciled" data-label="last reconciliation">${esc(when(v.lastReconciliationAt, s.now))}</td>` +
      `<td class="num queued" data-label="queued orders / queries">${v.queued.orders} / ${v.queued.queries}</td>` +
      '</tr>'
    );
  });
  return (
    '<div class="scroll"><table id="venues"><thead><tr><th>venue</th><th>state</th><th>stream</th><th>last reconciliation</th>' +
    `<th>queued orders / queries</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

const KIND_NAMES: Readonly<Record<RejectEntry['kind'], string>> = {
  session_reject: 'Reject (3)',
  business_reject: 'BusinessMessageReject (j)',
  order_reject: 'ExecutionReport rejected (150=8)',
  cancel_reject: 'OrderCancelReject (9)',
};

function rejectsTable(s: StatusSnapshot): string {
  if (s.rejects.length === 0) return '<p class="mute">No rejects since start-up.</p>';
  const rows = s.rejects.map(
    (r) =>
      '<tr class="reject">' +
      `<td data-label="time">${esc(when(r.at, s.now))}</td>` +
      `<td data-label="session">${esc(r.session)}</td>` +
      `<td>${esc(KIND_NAMES[r.kind])}<div class="mute">${esc(r.reason)} · ${esc(r.ref)}</div></td>` +
      `<td class="text" data-label="Text">${esc(r.text)}</td>` +
      '</tr>',
  );
  return `<div class="scroll"><table id="rejects"><thead><tr><th>time</th><th>session</th><th>what</th><th>Text (58)</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

export function renderStatusPage(s: StatusSnapshot): string {
  const refresh = s.refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${Math.floor(s.refreshSeconds)}">` : '';
  const reasons = s.ready.ready ? '' : `<ul class="reasons">${s.ready.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    refresh,
    '<title>FIX gateway status</title>',
    `<style>${CSS}</style></head><body>`,
    `<h1>FIX gateway <span id="ready">${badge(s.ready.ready, 'ready', 'not ready')}</span></h1>`,
    reasons,
    `<p class="mute">As of ${esc(new Date(s.now).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}${s.refreshSeconds > 0 ? `, reloads every ${Math.floor(s.refreshSeconds)} s` : ''}. Metrics: <a href="/metrics">/metrics</a>.</p>`,
    '<h2>Sessions</h2>',
    sessionsTable(s),
    '<h2>Venues</h2>',
    venuesTable(s),
    `<h2>Last rejects</h2>`,
    rejectsTable(s),
    '</body></html>',
  ].join('\n');
}
