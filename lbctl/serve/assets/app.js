// lbctl serve: live operator page. Plain ES2020, no dependencies.
// Every node is built with createElement/createElementNS; server text only
// ever goes through textContent / text nodes / setAttribute (never HTML).
'use strict';
(() => {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const app = document.getElementById('app');

  // ---------- DOM helpers ----------
  function append(n, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k == null || k === false) continue;
      n.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return n;
  }
  function h(tag, props, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false || k === 'style') continue;
      if (k === 'class') n.className = v;
      else if (typeof v === 'function' && k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    return append(n, kids);
  }
  function s(tag, attrs, ...kids) {
    const n = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v != null && k !== 'style') n.setAttribute(k, String(v));
    }
    return append(n, kids);
  }
  const cls = (v) => String(v == null ? '' : v).toLowerCase().replace(/[^a-z0-9_-]+/g, '-');
  const pill = (text, kind) => h('span', { class: `pill s-${cls(kind || text)}` }, text == null || text === '' ? '—' : String(text));
  const muted = (text) => h('p', { class: 'muted' }, text);

  // ---------- formatting ----------
  const pad = (n) => String(n).padStart(2, '0');
  function toDate(v) {
    if (v == null || v === '') return null;
    const d = v instanceof Date ? v : new Date(v);
    return isNaN(d.getTime()) ? null : d;
  }
  function hms(v) {
    const d = toDate(v);
    if (!d) return v == null ? '' : String(v);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  function dateTime(v) {
    const d = toDate(v);
    if (!d) return v == null || v === '' ? '—' : String(v);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms(d)}`;
  }
  function dur(ms) {
    if (!Number.isFinite(ms)) return '';
    ms = Math.max(0, Math.round(ms));
    if (ms < 1000) return `${ms}ms`;
    if (ms < 59950) return `${(ms / 1000).toFixed(1)}s`;
    const t = Math.floor(ms / 1000);
    if (t < 3600) return `${Math.floor(t / 60)}m${pad(t % 60)}s`;
    return `${Math.floor(t / 3600)}h${pad(Math.floor((t % 3600) / 60))}m`;
  }
  const secs = (v) => (!Number.isFinite(v) ? '—' : v < 60 ? `${Math.round(v)}s` : dur(v * 1000));
  function num(v) {
    if (Number.isFinite(v)) return String(Math.round(v * 10000) / 10000);
    return v == null || v === '' ? '—' : String(v);
  }
  function kv(rows) {
    const dl = h('dl', { class: 'kv' });
    for (const [k, v] of rows) {
      if (v == null || v === '' || v === false) continue;
      dl.append(h('dt', null, k), h('dd', null, v));
    }
    return dl;
  }
  function table(className, headers, rows, attrs) {
    return h('table', Object.assign({ class: className }, attrs || {}),
      h('thead', null, h('tr', null, headers.map((t) => h('th', null, t)))),
      h('tbody', null, rows));
  }

  // ---------- page chrome ----------
  function header(crumb) {
    return h('header', { class: 'top' },
      h('h1', null, h('a', { href: '/' }, 'lbctl')),
      crumb ? h('span', { class: 'crumb' }, crumb) : null);
  }
  function footer() {
    return h('footer', { class: 'foot' },
      h('span', { id: 'updated' }, 'waiting for data…'),
      h('span', { id: 'conn', class: 'badge', hidden: true }, 'reconnecting…'));
  }
  function setUpdated(L) {
    const el = document.getElementById('updated');
    if (el) el.textContent = `updated ${hms(L.polled_at || new Date())} (version ${L.version == null ? '?' : L.version})`;
  }

  // Server-sent events; EventSource reconnects itself unless the server
  // refused the stream (CLOSED), in which case we retry after a pause.
  function connect(url, onLive) {
    let es = null;
    const badge = () => document.getElementById('conn');
    const start = () => {
      es = new EventSource(url);
      if (badge()) badge().hidden = false;
      es.addEventListener('open', () => { if (badge()) badge().hidden = true; });
      es.addEventListener('error', () => {
        if (badge()) badge().hidden = es.readyState === EventSource.OPEN;
        if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(start, 3000); }
      });
      es.addEventListener('live', (ev) => {
        let data;
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        if (data && typeof data === 'object') onLive(data);
      });
    };
    start();
    window.addEventListener('pagehide', () => { if (es) es.close(); });
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    return { status: r.status, ok: r.ok, body };
  }

  // ---------- overview ----------
  function fromLive(L) {
    const st = L.status || {};
    const c = st.cutover || null;
    const done = c && (c.finished_at || ['completed', 'rolled_back', 'stopped'].includes(c.status));
    return {
      service: L.service,
      state: st.error ? 'error' : (c && !done) || L.lock ? 'running' : 'idle',
      cutover: c ? { id: c.id, status: c.status, step: c.step, release: c.release } : null,
      load_balancers: (st.load_balancers || []).map((lb) => ({ name: lb.name, up: !lb.error, reason: lb.reason || '' })),
      error: st.error || '',
    };
  }

  function overviewRow(sv) {
    const c = sv.cutover;
    const lbs = sv.load_balancers || [];
    const up = lbs.filter((lb) => lb.up).length;
    return h('tr', { 'data-service': sv.service },
      h('td', null, h('a', { href: `/services/${encodeURIComponent(sv.service)}` }, sv.service)),
      h('td', null, pill(sv.state)),
      h('td', null, c ? `#${c.id}` : '—'),
      h('td', null, c ? pill(c.status) : '—'),
      h('td', null, c && c.step ? c.step : '—'),
      h('td', null, c && c.release ? c.release : '—'),
      h('td', { class: up < lbs.length ? 'warn' : null }, `${up}/${lbs.length} LBs up`),
      h('td', { class: 'error' }, sv.error || lbs.filter((lb) => !lb.up).map((lb) => `${lb.name} down (${lb.reason || 'not read'})`).join('; ')));
  }

  async function overview() {
    document.title = 'lbctl';
    const rows = new Map();
    const msg = h('div', { class: 'msg' });
    const tbody = h('tbody');
    const tbl = h('table', { class: 'services', id: 'services' },
      h('thead', null, h('tr', null, ['service', 'state', 'cutover', 'status', 'step', 'release', 'load balancers', 'error']
        .map((t) => h('th', null, t)))), tbody);
    app.replaceChildren(header(null),
      h('section', { id: 'overview', class: 'card wide' }, h('h2', null, 'Services'), msg, h('div', { class: 'scroll' }, tbl)),
      footer());
    const draw = () => {
      const list = [...rows.values()].sort((a, b) => String(a.service).localeCompare(String(b.service)));
      tbody.replaceChildren(...(list.length ? list.map(overviewRow)
        : [h('tr', null, h('td', { colspan: 8, class: 'muted' }, 'no services'))]));
    };
    try {
      const r = await getJSON('/api/v1/services');
      if (!r.ok) throw new Error((r.body && r.body.error) || `HTTP ${r.status}`);
      for (const sv of (r.body && r.body.services) || []) if (!rows.has(sv.service)) rows.set(sv.service, sv);
    } catch (e) {
      msg.replaceChildren(h('p', { class: 'error' }, `could not load services: ${e.message}`));
    }
    draw();
    connect('/api/v1/stream', (L) => {
      if (!L.service) return;
      rows.set(L.service, fromLive(L));
      msg.replaceChildren();
      draw();
      setUpdated(L);
    });
  }

  // ---------- service page ----------
  const ORDER = ['summary', 'timeline', 'promotion', 'actions', 'lbs', 'drain', 'analysis', 'drift', 'requests', 'events', 'history'];
  const TITLES = {
    summary: 'Summary', timeline: 'Timeline', promotion: 'Promotion', actions: 'Actions', lbs: 'Load balancers',
    drain: 'Drain', analysis: 'Analysis', drift: 'Drift', requests: 'Requests', events: 'Events', history: 'History',
  };
  const WIDE = new Set(['lbs', 'drain', 'events', 'history']);
  const sec = {};
  let grid = null;
  let service = '';
  let token = '';
  let current = null;

  function show(id, on) {
    const node = sec[id].node;
    if (!on) { if (node.parentNode) node.remove(); return; }
    if (node.parentNode === grid) return;
    let next = null;
    for (const o of ORDER.slice(ORDER.indexOf(id) + 1)) {
      if (sec[o].node.parentNode === grid) { next = sec[o].node; break; }
    }
    grid.insertBefore(node, next);
  }

  function buildActions(body) {
    const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', spellcheck: 'false', placeholder: 'operator token', 'aria-label': 'operator token' });
    input.addEventListener('input', () => { token = input.value; });
    const result = h('div', { id: 'action-result', role: 'status', 'aria-live': 'polite' });
    const buttons = [];
    const act = async (action) => {
      if (action === 'abort' && !window.confirm(`Abort the cutover of ${service}?`)) return;
      buttons.forEach((b) => { b.disabled = true; });
      result.className = 'pending';
      result.textContent = `${action}…`;
      try {
        const headers = { Accept: 'application/json' };
        if (token) headers.Authorization = `Bearer ${token}`;
        const r = await fetch(`/api/v1/services/${encodeURIComponent(service)}/${action}`,
          { method: 'POST', headers, cache: 'no-store', credentials: 'same-origin' });
        let j = null;
        try { j = await r.json(); } catch (e) { j = null; }
        if (r.ok && j && j.ok !== false) {
          result.className = 'ok';
          result.textContent = j.message || `${action}: accepted`;
        } else {
          result.className = 'err';
          result.textContent = (j && (j.error || j.message)) || `${action} failed: HTTP ${r.status}`;
        }
      } catch (e) {
        result.className = 'err';
        result.textContent = `${action} failed: ${e.message}`;
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    };
    for (const [action, label] of [['promote', 'Promote'], ['abort', 'Abort'], ['undo', 'Undo']]) {
      const b = h('button', { type: 'button', class: `btn btn-${action}`, 'data-action': action }, label);
      b.addEventListener('click', () => act(action));
      buttons.push(b);
    }
    // A form, so the browser treats the token as a password field; it is never submitted.
    const form = h('form', { class: 'actions', autocomplete: 'off' }, h('label', { for: 'token' }, 'Token'), input, buttons);
    form.addEventListener('submit', (e) => { e.preventDefault(); });
    body.append(form, result);
  }

  function layout(name) {
    grid = h('div', { class: 'grid' });
    for (const id of ORDER) {
      const body = h('div', { class: 'body' });
      const node = h('section', { id, class: WIDE.has(id) ? 'card wide' : 'card' }, h('h2', null, TITLES[id]), body);
      sec[id] = { node, body };
      if (id === 'actions') buildActions(body);
      else grid.append(node);
    }
    sec.summary.body.append(muted('Loading…'));
    show('promotion', false);
    show('analysis', false);
    app.replaceChildren(header(name), grid, footer());
  }

  function renderSummary(L, st, c) {
    const lock = L.lock;
    const parts = [];
    if (st.error) parts.push(h('p', { class: 'error banner' }, st.error));
    parts.push(kv([
      ['Service', L.service || service],
      ['Cutover', c ? `#${c.id}` : 'none recorded'],
      ['Status', c ? pill(c.status) : null],
      ['Release', c ? (c.old_release ? `${c.release} (replacing ${c.old_release})` : c.release) : null],
      ['Step', c ? c.step : null],
      ['Time in step', c && !c.finished_at && Number.isFinite(c.seconds_in_step) ? dur(c.seconds_in_step * 1000) : null],
      ['Started', c && c.started_at ? `${dateTime(c.started_at)}${c.host ? ` on ${c.host}` : ''}${c.pid ? ` pid ${c.pid}` : ''}` : null],
      ['Finished', c && c.finished_at ? dateTime(c.finished_at) : null],
      ['Duration', c && Number.isFinite(c.duration_s) ? dur(c.duration_s * 1000) : null],
      ['Lock', lock ? `${lock.host} pid ${lock.pid}, heartbeat ${lock.heartbeat_seconds_ago}s ago` : 'not held'],
      ['Abort requested', c && c.abort_requested_at ? h('span', { class: 'warn' }, `yes, at ${dateTime(c.abort_requested_at)}`) : null],
      ['Last event', st.last_event ? `${hms(st.last_event.at)} ${st.last_event.step || ''}: ${st.last_event.text || ''}` : null],
      ['Error', c && c.error ? h('span', { class: 'error' }, c.error) : null],
    ]));
    sec.summary.body.replaceChildren(...parts);
  }

  function renderTimeline(L, c) {
    const steps = L.timeline || [];
    if (!steps.length) { sec.timeline.body.replaceChildren(muted('no steps')); return; }
    const ol = h('ol', { class: 'timeline' });
    for (const t of steps) {
      const state = cls(t.state || 'pending');
      let d = t.duration_ms;
      if (!Number.isFinite(d) && state === 'running' && c && c.step === t.step && Number.isFinite(c.seconds_in_step)) d = c.seconds_in_step * 1000;
      ol.append(h('li', { class: `step ${state}`, 'data-step': t.step, title: t.state },
        h('span', { class: 'name' }, t.step), h('span', { class: 'dur' }, dur(d))));
    }
    sec.timeline.body.replaceChildren(ol);
  }

  function renderPromotion(p) {
    show('promotion', !!p);
    if (!p) return;
    const timers = p.timers || [Number.isFinite(p.auto_promote_in_ms) ? `auto promote in ${dur(p.auto_promote_in_ms)}` : '',
      Number.isFinite(p.auto_abort_in_ms) ? `auto abort in ${dur(p.auto_abort_in_ms)}` : ''].filter(Boolean).join(', ');
    sec.promotion.body.replaceChildren(kv([
      ['State', pill(p.state)],
      ['Mode', p.mode],
      ['Paused since', p.paused_at ? dateTime(p.paused_at) : null],
      ['Timers', timers],
      ['Requested by', p.promote_requested_by],
      ['Promoted by', p.promoted_by ? `${p.promoted_by}${p.promoted_at ? ` at ${dateTime(p.promoted_at)}` : ''}` : null],
      ['Undo window', p.undo_window],
      ['Undo until', p.undo_until ? `${dateTime(p.undo_until)}${Number.isFinite(p.undo_left_ms) ? ` (${dur(p.undo_left_ms)} left)` : ''}` : null],
      ['Undone by', p.undone_by],
    ]));
  }

  function statusPill(status) {
    const word = String(status || '').split(/\s+/)[0].toLowerCase();
    const known = ['up', 'down', 'maint', 'nolb', 'drain', 'no'].includes(word);
    return h('span', { class: `pill st-${known ? word : 'other'}` }, status || '—');
  }

  function renderLBs(st) {
    const lbs = st.load_balancers || [];
    if (!lbs.length) { sec.lbs.body.replaceChildren(muted('no load balancers')); return; }
    const parts = lbs.map((lb) => {
      const rows = (lb.servers || []).map((sv) => {
        const pool = sv.pool || '';
        const sess = Number.isFinite(sv.scur) ? sv.scur : sv.sessions;
        return h('tr', { 'data-server': sv.name, class: pool ? `pool-${cls(pool)}` : null },
          h('td', { class: 'srv' }, sv.name),
          h('td', null, pool || '—'),
          h('td', null, statusPill(sv.status)),
          h('td', { class: 'num' }, num(sess), sv.qcur > 0 ? h('span', { class: 'warn' }, ` +${sv.qcur} queued`) : null),
          h('td', null, sv.check_status || ''),
          h('td', { class: 'num' }, num(sv.weight)),
          h('td', { class: 'addr' }, sv.address || ''));
      });
      return h('div', { class: 'lbwrap' },
        h('h3', null, lb.name, lb.error ? pill(lb.reason || 'down', 'error') : null),
        lb.error ? h('p', { class: 'error', 'data-reason': lb.reason || '' }, 'down (' + (lb.reason || 'not read') + '): ' + lb.error) : null,
        h('div', { class: 'scroll' }, table('lb', ['server', 'pool', 'status', 'sessions', 'check', 'weight', 'address'], rows, { 'data-lb': lb.name })));
    });
    sec.lbs.body.replaceChildren(...parts);
  }

  function renderDrain(drain) {
    const lbs = (drain && drain.lbs) || [];
    const series = lbs.map((d) => (d.points || []).filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])));
    const total = series.reduce((a, p) => a + p.length, 0);
    if (!total) { sec.drain.body.replaceChildren(h('p', { class: 'muted empty' }, 'no drain data yet')); return; }
    const W = 600, H = 200, PL = 46, PR = 14, PT = 12, PB = 26;
    let x0 = Infinity, x1 = -Infinity, ymax = 0;
    for (const pts of series) for (const [t, v] of pts) { x0 = Math.min(x0, t); x1 = Math.max(x1, t); ymax = Math.max(ymax, v); }
    if (x1 <= x0) x1 = x0 + 1;
    if (ymax <= 0) ymax = 1;
    const sx = (t) => (PL + ((t - x0) / (x1 - x0)) * (W - PL - PR)).toFixed(1);
    const sy = (v) => (PT + (1 - v / ymax) * (H - PT - PB)).toFixed(1);
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'sessions left on old servers', 'data-points': total },
      s('title', null, 'sessions left on old servers'),
      s('line', { class: 'grid-line', x1: PL, y1: PT, x2: W - PR, y2: PT }),
      s('line', { class: 'axis', x1: PL, y1: H - PB, x2: W - PR, y2: H - PB }),
      s('line', { class: 'axis', x1: PL, y1: PT, x2: PL, y2: H - PB }),
      s('text', { class: 'label', x: PL - 6, y: PT + 4, 'text-anchor': 'end' }, num(ymax)),
      s('text', { class: 'label', x: PL - 6, y: H - PB + 4, 'text-anchor': 'end' }, '0'),
      s('text', { class: 'label', x: PL, y: H - 8, 'text-anchor': 'start' }, hms(new Date(x0))),
      s('text', { class: 'label', x: W - PR, y: H - 8, 'text-anchor': 'end' }, hms(new Date(x1))));
    series.forEach((pts, i) => {
      if (!pts.length) return;
      const c = `c${i % 6}`;
      svg.append(s('polyline', { class: `line ${c}`, 'data-lb': lbs[i].lb, points: pts.map(([t, v]) => `${sx(t)},${sy(v)}`).join(' ') }));
      const [lt, lv] = pts[pts.length - 1];
      svg.append(s('circle', { class: `dot ${c}`, cx: sx(lt), cy: sy(lv), r: 3 }));
    });
    const legend = h('ul', { class: 'legend' }, lbs.map((d, i) => h('li', { 'data-lb': d.lb },
      h('span', { class: `swatch c${i % 6}` }),
      `${d.lb}: ${num(d.sessions_left)} left · ${Number.isFinite(d.rate_per_s) ? `${d.rate_per_s.toFixed(1)}/s` : 'rate —'} · ETA ${secs(d.eta_s)}`)));
    sec.drain.body.replaceChildren(svg, legend);
  }

  function renderAnalysis(a) {
    show('analysis', !!a);
    if (!a) return;
    const rows = (a.metrics || []).map((m) => h('tr', { 'data-metric': m.metric },
      h('td', null, m.metric), h('td', { class: 'num' }, num(m.new)), h('td', { class: 'num' }, num(m.old)),
      h('td', null, m.threshold || ''), h('td', null, pill(m.verdict)), h('td', null, m.why || '')));
    sec.analysis.body.replaceChildren(
      h('p', null, 'Verdict ', pill(a.verdict), a.at ? ` at ${hms(a.at)}` : '',
        ` · ${num(a.new_responses)} new / ${num(a.old_responses)} old responses`),
      rows.length ? h('div', { class: 'scroll' }, table('metrics', ['metric', 'new', 'old', 'threshold', 'verdict', 'why'], rows)) : null);
  }

  function renderDrift(st) {
    const drift = st.drift || [];
    if (drift.length) {
      sec.drift.body.replaceChildren(h('ul', { class: 'drift' }, drift.map((d) => h('li', { 'data-kind': d.kind || null }, d.text || `${d.lb}: ${d.server} ${d.kind}`))));
    } else if (st.drift_note) {
      sec.drift.body.replaceChildren(muted(st.drift_note));
    } else {
      sec.drift.body.replaceChildren(h('p', { class: 'ok' }, 'no drift'));
    }
  }

  // The agents' queue (`lbctl submit`) and who took the latest requests.
  function renderRequests(st) {
    const list = st.requests || [];
    const items = list.map((r) => h('li', { 'data-id': r.id, 'data-state': r.state || null },
      r.state === 'queued'
        ? `request ${r.id} queued: release ${r.release || 'r<cutover id>'}, by ${r.requested_by}, at ${dateTime(r.requested_at)}`
        : `request ${r.id} taken by ${r.agent}: cutover #${r.cutover_id} (release ${r.release || 'r<cutover id>'}, by ${r.requested_by})`));
    const parts = [];
    if (items.length) parts.push(h('ul', { class: 'requests' }, items));
    if (st.takeovers) parts.push(h('p', { class: 'warn' }, `${st.takeovers} cutover(s) taken over by an agent after their runner stopped`));
    sec.requests.body.replaceChildren(...(parts.length ? parts : [muted('no requests: cutovers here were run by hand')]));
  }

  function renderEvents(events) {
    const list = (events || []).slice().reverse();
    if (!list.length) { sec.events.body.replaceChildren(muted('no events yet')); return; }
    sec.events.body.replaceChildren(h('ul', { class: 'events' }, list.map((e) => h('li', { 'data-id': e.id, 'data-event': e.event || null },
      h('time', { datetime: e.at || null, title: dateTime(e.at) }, hms(e.at)),
      h('span', { class: 'step-name' }, e.step || ''),
      h('span', { class: 'text' }, e.text || e.event || '')))));
  }

  function renderHistory(history) {
    const list = history || [];
    if (!list.length) { sec.history.body.replaceChildren(muted('no past cutovers')); return; }
    const rows = list.map((x) => {
      const by = [x.agent ? `request ${x.request_id} by ${x.agent}` : '', ...(x.taken_over_by || []).map((a) => `taken over by ${a}`),
        x.promoted_by ? `promoted by ${x.promoted_by}` : '', x.undone_by ? `undone by ${x.undone_by}` : ''].filter(Boolean).join('; ');
      const steps = (x.steps || []).map((st) => `${st.step} ${dur(st.duration_ms)}`).join(', ');
      return h('tr', { 'data-id': x.id, title: steps || null },
        h('td', null, `#${x.id}`),
        h('td', null, x.old_release ? `${x.release} (from ${x.old_release})` : x.release),
        h('td', null, pill(x.status)),
        h('td', null, dateTime(x.started_at)),
        h('td', { class: 'num' }, dur(x.duration_ms) || '—'),
        h('td', null, by || '—'),
        h('td', { class: 'error' }, x.error || ''));
    });
    sec.history.body.replaceChildren(h('div', { class: 'scroll' },
      table('history', ['id', 'release', 'status', 'started', 'duration', 'by', 'error'], rows)));
  }

  function render(L) {
    current = L;
    const st = L.status || {};
    const c = st.cutover || null;
    renderSummary(L, st, c);
    renderTimeline(L, c);
    renderPromotion(c && c.promotion);
    show('actions', !!L.actions_allowed);
    renderLBs(st);
    renderDrain(L.drain);
    renderAnalysis(st.analysis);
    renderDrift(st);
    renderRequests(st);
    renderEvents(L.events);
    renderHistory(L.history);
    setUpdated(L);
  }

  async function detail(name) {
    service = name;
    document.title = `lbctl · ${name}`;
    layout(name);
    const path = `/api/v1/services/${encodeURIComponent(name)}`;
    try {
      const r = await getJSON(`${path}/live`);
      if (r.status === 404) {
        app.replaceChildren(header(name), h('p', { id: 'notfound', class: 'notfound' }, 'no such service'));
        return;
      }
      if (!r.ok || !r.body) throw new Error((r.body && r.body.error) || `HTTP ${r.status}`);
      // A stream message may have overtaken the fetch; keep the newer one.
      if (!current || !(current.version >= r.body.version)) render(r.body);
    } catch (e) {
      if (!current) sec.summary.body.replaceChildren(h('p', { class: 'error' }, `could not load: ${e.message}`));
    }
    connect(`/api/v1/stream?service=${encodeURIComponent(name)}`, (L) => {
      if (L.service && L.service !== name) return;
      render(L);
    });
  }

  // ---------- routing ----------
  const m = location.pathname.match(/^\/services\/([^/]+)\/?$/);
  if (m) {
    let name = m[1];
    try { name = decodeURIComponent(name); } catch (e) { /* keep raw */ }
    detail(name);
  } else {
    overview();
  }
})();
