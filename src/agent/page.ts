/**
 * The live cluster page served at `/` by the status server: one self-contained HTML document (inline
 * CSS and vanilla JS, no framework, no build step, nothing fetched from elsewhere). It opens the
 * `/events` server-sent-event stream and shows:
 * - a summary (node, members per state, local health score, event-loop delay p99, connection state);
 * - the member table: name, address, state (coloured), incarnation, health as seen from this node
 *   (its own Lifeguard score, or the last probe's round trip), meta;
 * - the message rates as inline SVG sparklines (total in/out, bytes, and per message type);
 * - the most recent member events, newest first (at most 200).
 *
 * Every value that comes from the network (names, meta) is inserted with textContent, never as HTML.
 * Test hooks: rows are `tr[data-name][data-state]`, the stream state is `body[data-connected]`.
 *
 * The document is a template literal: the script below uses no backticks and no dollar-brace.
 */
export const PAGE_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>memberlist-ts cluster</title>
<style>
  :root {
    --bg: #f6f7f9; --panel: #ffffff; --text: #1d2330; --muted: #6b7385; --line: #e3e6ec;
    --alive: #1f9d55; --suspect: #e3a008; --dead: #d64541; --left: #8a8f98; --accent: #3867d6;
  }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: #1d2330; color: #fff; }
  header h1 { font-size: 17px; margin: 0; font-weight: 600; }
  header .node { color: #b8c0d4; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
  header .conn { margin-left: auto; font-size: 12px; padding: 3px 10px; border-radius: 10px; background: #444b5c; }
  body[data-connected="true"] header .conn { background: var(--alive); }
  body[data-connected="false"] header .conn { background: var(--dead); }
  main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr); }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 10px; font-weight: 600; }
  .wide { grid-column: 1 / -1; }
  .cards { display: flex; flex-wrap: wrap; gap: 10px; }
  .card { flex: 1 1 110px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
  .card .v { font-size: 22px; font-weight: 600; }
  .card .k { font-size: 12px; color: var(--muted); }
  .card.alive .v { color: var(--alive); } .card.suspect .v { color: var(--suspect); }
  .card.dead .v { color: var(--dead); } .card.left .v { color: var(--left); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-size: 12px; color: var(--muted); font-weight: 600; }
  td.mono, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
  td.meta { max-width: 220px; overflow: hidden; text-overflow: ellipsis; color: var(--muted); }
  tr.self td:first-child::after { content: " (this node)"; color: var(--muted); font-size: 12px; }
  tr.changed { animation: flash 1.2s ease-out; }
  @keyframes flash { from { background: #fff3c4; } to { background: transparent; } }
  .state { display: inline-block; min-width: 64px; text-align: center; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
  .state.alive { background: var(--alive); } .state.suspect { background: var(--suspect); }
  .state.dead { background: var(--dead); } .state.left { background: var(--left); }
  tr[data-state="dead"] td, tr[data-state="left"] td { color: var(--muted); }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
  .chart { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
  .chart .title { display: flex; justify-content: space-between; font-size: 12px; color: var(--muted); }
  .chart .title b { color: var(--text); font-weight: 600; }
  .chart svg { width: 100%; height: 42px; display: block; }
  .legend { font-size: 11px; color: var(--muted); }
  .legend i { display: inline-block; width: 10px; height: 3px; margin: 0 3px 2px 6px; vertical-align: middle; }
  ol.events { list-style: none; margin: 0; padding: 0; max-height: 420px; overflow: auto; }
  ol.events li { display: flex; gap: 8px; padding: 4px 0; border-bottom: 1px solid var(--line); font-size: 13px; }
  ol.events .t { color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
  ol.events .ty { min-width: 58px; font-weight: 600; }
  .ty.join, .ty.alive { color: var(--alive); } .ty.suspect { color: var(--suspect); }
  .ty.leave.failed { color: var(--dead); } .ty.leave { color: var(--left); } .ty.update, .ty.conflict { color: var(--accent); }
  .empty { color: var(--muted); font-style: italic; }
</style>
</head>
<body data-connected="unknown">
<header>
  <h1>memberlist-ts cluster</h1>
  <span class="node" id="node">connecting…</span>
  <span class="conn" id="conn">connecting</span>
</header>
<main>
  <section class="wide">
    <div class="cards">
      <div class="card alive"><div class="v" id="n-alive">–</div><div class="k">alive</div></div>
      <div class="card suspect"><div class="v" id="n-suspect">–</div><div class="k">suspect</div></div>
      <div class="card dead"><div class="v" id="n-dead">–</div><div class="k">dead</div></div>
      <div class="card left"><div class="v" id="n-left">–</div><div class="k">left</div></div>
      <div class="card"><div class="v" id="health">–</div><div class="k">local health score (0 = healthy)</div></div>
      <div class="card"><div class="v" id="loop">–</div><div class="k">event-loop delay p99</div></div>
    </div>
  </section>
  <section>
    <h2>Members</h2>
    <table>
      <thead><tr><th>name</th><th>address</th><th>state</th><th>incarnation</th><th>health (seen from here)</th><th>meta</th></tr></thead>
      <tbody id="members"><tr><td colspan="6" class="empty">waiting for the node…</td></tr></tbody>
    </table>
  </section>
  <section>
    <h2>Recent events</h2>
    <ol class="events" id="events"><li class="empty">no events yet</li></ol>
  </section>
  <section class="wide">
    <h2>Message rates per second <span id="window"></span> <span class="legend"><i style="background:#3867d6"></i>in <i style="background:#e8590c"></i>out</span></h2>
    <div class="charts" id="charts"></div>
  </section>
</main>
<script>
(function () {
  'use strict';
  var MAX_EVENTS = 200, MAX_POINTS = 120;
  var members = new Map();
  var events = [];
  var rates = [];
  var lastState = new Map();
  var nodeName = '';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = '0' + n; return n; }
  function clock(t) { var d = new Date(t); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }
  function healthText(h) {
    if (!h) return '-';
    if (h.score !== undefined) return 'score ' + h.score;
    if (h.lastProbe === 'failed') return 'probe failed';
    if (h.rttMs !== undefined) return 'rtt ' + (h.rttMs < 10 ? h.rttMs.toFixed(2) : h.rttMs.toFixed(1)) + ' ms';
    return '-';
  }
  function human(v) {
    if (v >= 1e9) return (v / 1e9).toFixed(1) + 'G';
    if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (v >= 1e3) return (v / 1e3).toFixed(1) + 'k';
    return v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
  }

  function renderMembers() {
    var body = document.getElementById('members');
    var list = Array.from(members.values()).sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
    var counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
    body.textContent = '';
    if (list.length === 0) {
      var tr0 = el('tr'); var td0 = el('td', 'empty', 'no members'); td0.colSpan = 6; tr0.appendChild(td0); body.appendChild(tr0);
    }
    list.forEach(function (m) {
      counts[m.state] = (counts[m.state] || 0) + 1;
      var tr = el('tr');
      tr.dataset.name = m.name;
      tr.dataset.state = m.state;
      if (m.local) tr.classList.add('self');
      var before = lastState.get(m.name);
      if (before !== undefined && before !== m.state) tr.classList.add('changed');
      lastState.set(m.name, m.state);
      tr.appendChild(el('td', 'mono', m.name));
      tr.appendChild(el('td', 'mono', m.address));
      var st = el('td'); st.appendChild(el('span', 'state ' + m.state, m.state)); tr.appendChild(st);
      tr.appendChild(el('td', 'mono', String(m.incarnation)));
      tr.appendChild(el('td', 'mono', healthText(m.health)));
      var meta = m.metaText === null ? '(' + atob(m.meta).length + ' bytes)' : m.metaText;
      var td = el('td', 'meta mono', meta); td.title = meta; tr.appendChild(td);
      body.appendChild(tr);
    });
    ['alive', 'suspect', 'dead', 'left'].forEach(function (s) { document.getElementById('n-' + s).textContent = String(counts[s] || 0); });
  }

  function renderEvents() {
    var ol = document.getElementById('events');
    ol.textContent = '';
    if (events.length === 0) { ol.appendChild(el('li', 'empty', 'no events yet')); return; }
    for (var i = events.length - 1; i >= 0; i--) {
      var e = events[i];
      var li = el('li');
      li.appendChild(el('span', 't', clock(e.time)));
      li.appendChild(el('span', 'ty ' + e.type + (e.detail === 'failed' ? ' failed' : ''), e.type === 'leave' && e.detail === 'failed' ? 'dead' : e.type));
      li.appendChild(el('span', 'mono', e.name));
      var detail = 'incarnation ' + e.incarnation + (e.detail && e.detail !== 'failed' ? ', ' + e.detail : '');
      li.appendChild(el('span', 'muted', detail));
      ol.appendChild(li);
    }
  }

  var SVGNS = 'http://www.w3.org/2000/svg';
  function path(values, max, w, h) {
    if (values.length === 0) return '';
    var step = w / (MAX_POINTS - 1), x0 = w - (values.length - 1) * step, d = '';
    for (var i = 0; i < values.length; i++) {
      var x = x0 + i * step, y = h - 2 - (max > 0 ? (values[i] / max) * (h - 4) : 0);
      d += (i === 0 ? 'M' : 'L') + x.toFixed(1) + ',' + y.toFixed(1);
    }
    return d;
  }
  function chart(title, series, unit) {
    var box = el('div', 'chart');
    var head = el('div', 'title');
    head.appendChild(el('span', '', title));
    var now = series.map(function (s) { return s.values.length ? s.values[s.values.length - 1] : 0; });
    head.appendChild(el('b', '', now.map(human).join(' / ') + (unit ? ' ' + unit : '')));
    box.appendChild(head);
    var svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 200 42');
    svg.setAttribute('preserveAspectRatio', 'none');
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    var base = document.createElementNS(SVGNS, 'path');
    base.setAttribute('d', 'M0,41L200,41');
    base.setAttribute('stroke', '#e3e6ec');
    base.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.appendChild(base);
    series.forEach(function (s, i) {
      var line = path(s.values, max, 200, 42);
      if (i === 0 && line) {
        var area = document.createElementNS(SVGNS, 'path');
        var first = line.slice(1, line.indexOf(','));
        area.setAttribute('d', line + 'L200,42L' + first + ',42Z');
        area.setAttribute('fill', s.colour);
        area.setAttribute('fill-opacity', '0.12');
        area.setAttribute('stroke', 'none');
        svg.appendChild(area);
      }
      var p = document.createElementNS(SVGNS, 'path');
      p.setAttribute('d', line);
      p.setAttribute('fill', 'none');
      p.setAttribute('stroke', s.colour);
      p.setAttribute('stroke-width', '1.5');
      p.setAttribute('vector-effect', 'non-scaling-stroke');
      svg.appendChild(p);
    });
    box.appendChild(svg);
    return box;
  }
  var IN = '#3867d6', OUT = '#e8590c';
  function renderCharts() {
    var host = document.getElementById('charts');
    host.textContent = '';
    var pick = function (f) { return rates.map(f); };
    host.appendChild(chart('all messages', [{ values: pick(function (r) { return r.msgsIn; }), colour: IN }, { values: pick(function (r) { return r.msgsOut; }), colour: OUT }], ''));
    host.appendChild(chart('bytes', [{ values: pick(function (r) { return r.bytesIn; }), colour: IN }, { values: pick(function (r) { return r.bytesOut; }), colour: OUT }], 'B'));
    var types = {};
    rates.forEach(function (r) { Object.keys(r.in).forEach(function (k) { types[k] = true; }); Object.keys(r.out).forEach(function (k) { types[k] = true; }); });
    Object.keys(types).sort().forEach(function (t) {
      host.appendChild(chart(t, [
        { values: pick(function (r) { return r.in[t] || 0; }), colour: IN },
        { values: pick(function (r) { return r.out[t] || 0; }), colour: OUT }
      ], ''));
    });
  }

  function setMembers(list) {
    members.clear();
    list.forEach(function (m) { members.set(m.name, m); });
  }
  function pushEvent(e) { events.push(e); if (events.length > MAX_EVENTS) events.shift(); }
  function pushRate(r) { rates.push(r); if (rates.length > MAX_POINTS) rates.shift(); }
  function setHealth(score) { document.getElementById('health').textContent = String(score); }

  function connect() {
    var es = new EventSource('events');
    es.onopen = function () { document.body.dataset.connected = 'true'; document.getElementById('conn').textContent = 'live'; };
    es.onerror = function () { document.body.dataset.connected = 'false'; document.getElementById('conn').textContent = 'disconnected, retrying'; };
    es.addEventListener('hello', function (msg) {
      var d = JSON.parse(msg.data);
      nodeName = d.node;
      document.getElementById('node').textContent = d.node + ' @ ' + d.address;
      document.title = d.node + ' · memberlist-ts';
      setMembers(d.members);
      events = d.events.slice(-MAX_EVENTS);
      rates = d.rates.slice(-MAX_POINTS);
      setHealth(d.healthScore);
      document.getElementById('window').textContent = '(last ' + Math.round(MAX_POINTS * d.tickMs / 1000) + ' s)';
      renderMembers(); renderEvents(); renderCharts();
    });
    es.addEventListener('member', function (msg) {
      var d = JSON.parse(msg.data);
      members.set(d.member.name, d.member);
      pushEvent(d.event);
      renderMembers(); renderEvents();
    });
    es.addEventListener('tick', function (msg) {
      var d = JSON.parse(msg.data);
      pushRate(d.rate);
      setHealth(d.healthScore);
      document.getElementById('loop').textContent = d.eventLoopP99Ms.toFixed(1) + ' ms';
      if (d.members) { setMembers(d.members); renderMembers(); }
      renderCharts();
    });
  }
  connect();
})();
</script>
</body>
</html>
`;
