'use strict';
// StatsHandler dashboard: polls the JSON endpoint once a second, keeps five minutes in a ring buffer, draws SVG.
(() => {
  const NS = 'http://www.w3.org/2000/svg';
  const HISTORY = 300;            // points kept: five minutes at one poll a second
  const PERIOD_MS = 1000;         // one request a second, never two at once
  const TIMEOUT_MS = 3000;        // a poll not answered by then counts as lost
  const GAP_MS = 2500;            // a missed poll or more breaks the line rather than bridging it
  const MIN_SPAN_MS = 10000;      // the time axis starts at the first point and spans 10 s or more, up to the history
  const meta = (name) => document.querySelector('meta[name="' + name + '"]').content;
  const statsUrl = meta('stats-url');
  // fetch() refuses a URL carrying credentials, and a relative one inherits them from a page opened as
  // user:pass@host: drop them; the browser's auth cache sends the Basic credentials for the realm anyway.
  const bare = (path) => { const u = new URL(path, location.href); u.username = ''; u.password = ''; return u.href; };
  const fetchUrl = bare(statsUrl);

  // ---- small helpers -------------------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const h = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };
  const s = (tag, attrs, cls) => {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (cls) e.setAttribute('class', cls);
    return e;
  };
  const fin = (v) => typeof v === 'number' && isFinite(v);
  const trim = (t) => (t.includes('.') ? t.replace(/\.?0+$/, '') : t);
  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  const unitOf = (v) => {
    let i = 0;
    for (v = Math.abs(v); v >= 1024 && i < UNITS.length - 1; i++) v /= 1024;
    return i;
  };
  const bytes = (v) => {
    if (!fin(v)) return '–';
    const i = unitOf(v);
    const x = v / 1024 ** i;
    return (i === 0 ? String(Math.round(x)) : x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)) + ' ' + UNITS[i];
  };
  const num = (v) => {
    if (!fin(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1000) return Math.round(v).toLocaleString('en-US');
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return trim(v.toFixed(1));
    if (a >= 0.01 || a === 0) return trim(v.toFixed(2));
    return v.toPrecision(1);
  };
  const pad = (n) => String(n).padStart(2, '0');
  const clock = (ms) => {
    const d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  };
  const duration = (sec) => {
    sec = Math.max(0, Math.floor(sec));
    const d = Math.floor(sec / 86400), hr = Math.floor(sec / 3600) % 24, m = Math.floor(sec / 60) % 60, x = sec % 60;
    return d ? d + 'd ' + hr + 'h' : hr ? hr + 'h ' + m + 'm' : m ? m + 'm ' + x + 's' : x + 's';
  };
  const niceStep = (raw) => {
    const p = 10 ** Math.floor(Math.log10(raw));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  };

  // ---- history: a ring buffer of points, one per answered poll --------------------------------------------------
  const ring = { a: new Array(HISTORY), start: 0, len: 0 };
  const push = (p) => {
    if (ring.len < HISTORY) ring.a[(ring.start + ring.len++) % HISTORY] = p;
    else { ring.a[ring.start] = p; ring.start = (ring.start + 1) % HISTORY; }
  };
  const points = () => {
    const out = new Array(ring.len);
    for (let i = 0; i < ring.len; i++) out[i] = ring.a[(ring.start + i) % HISTORY];
    return out;
  };
  let prev = null;   // the previous answer, for rates the JSON gives only as counters
  let latest = null; // the newest answer, for the header and notes

  // Turns one JSON answer into a point. Rates come from the server where it gives them; lock contentions and
  // exceptions are counters, so their rates are the difference between two answers over the server's own clock.
  const ingest = (j) => {
    if (!j || typeof j !== 'object' || !fin(j.time) || !Array.isArray(j.gc_pause)) {
      throw new Error('the answer is not StatsHandler JSON');
    }
    if (prev && (prev.pid !== j.pid || j.time <= prev.time)) {
      // Another process, or a clock that went back: the old history would be drawn against the wrong axis.
      ring.len = 0; ring.start = 0; prev = null;
    }
    const dt = prev ? (j.time - prev.time) / 1e9 : 0;
    const rate = (k) => (prev && dt > 0 && fin(j[k]) && j[k] >= prev[k] ? (j[k] - prev[k]) / dt : null);
    push({
      t: j.time / 1e6,
      heap: [j.heap_gen0, j.heap_gen1, j.heap_gen2, j.heap_loh, j.heap_poh],
      alloc: j.alloc_per_second,
      gc: j.gc_per_second,
      gen2: prev && j.gc_gen2_num > prev.gc_gen2_num ? j.gc_gen2_num - prev.gc_gen2_num : 0,
      pause: j.gc_pause_per_second,
      cpu: j.cpu_usage_percent,
      ws: j.memory_sys,
      limit: j.memory_limit,
      tp: j.threadpool_thread_num,
      q: j.threadpool_queue_length,
      locks: rate('lock_contention_num'),
      exc: rate('exception_num'),
      m: meterPoint(j, dt),
      pub: publishedPoint(j),
    });
    prev = latest = j;
    takePauses(j);
  };

  // ---- GC pause distribution: only with GC events on (server.EnableGcEvents(); the JSON then has gc_pause_num) ------
  // Every collection is listed once with its number, so each answer adds the collections not seen before; the card
  // shows their pauses over the last five minutes in the buckets of the dotnet_gc_pause_seconds histogram.
  const DIST_WINDOW_MS = 5 * 60 * 1000;
  const DIST_BOUNDS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];
  const dist = { pid: null, newest: 0, log: [], el: null };
  const takePauses = (j) => {
    if (!Array.isArray(j.gc_pause_num) || j.gc_pause_num.length !== j.gc_pause.length) return;
    if (j.pid !== dist.pid) { dist.pid = j.pid; dist.newest = 0; dist.log = []; }
    const t = j.time / 1e6;
    let fresh = 0;
    while (fresh < j.gc_pause_num.length && j.gc_pause_num[fresh] > dist.newest) fresh++;
    for (let i = fresh - 1; i >= 0; i--) dist.log.push({ t, ms: j.gc_pause[i] });
    if (fresh) dist.newest = j.gc_pause_num[0];
    while (dist.log.length && dist.log[0].t < t - DIST_WINDOW_MS) dist.log.shift();
  };
  const renderDist = () => {
    if (!dist.el) return;
    dist.el.hidden = dist.pid === null;
    if (dist.el.hidden) return;
    const counts = new Array(DIST_BOUNDS_MS.length + 1).fill(0);
    let max = 0;
    for (const e of dist.log) {
      let b = 0;
      while (b < DIST_BOUNDS_MS.length && e.ms > DIST_BOUNDS_MS[b]) b++;
      counts[b]++;
      max = Math.max(max, e.ms);
    }
    const top = Math.max(1, ...counts);
    const bars = counts.map((n, b) => {
      const bar = h('span', 'bar');
      bar.style.height = (n ? Math.max(4, 100 * n / top) : 0) + '%';
      bar.title = (b < DIST_BOUNDS_MS.length ? '\u2264 ' + num(DIST_BOUNDS_MS[b]) + ' ms' : '> 1 s') + ': ' + n;
      return bar;
    });
    dist.el.dataset.pauses = String(dist.log.length);
    dist.bars.replaceChildren(...bars);
    dist.label.textContent = dist.log.length
      ? dist.log.length + ' pauses in the last 5 min \u00b7 longest ' + num(max) + ' ms \u00b7 0.1 ms \u2026 1 s'
      : 'no collection in the last 5 min';
  };

  // ---- chart definitions -----------------------------------------------------------------------------------------
  const perSec = (v) => num(v) + ' /s';
  const CHARTS = [
    {
      id: 'heap', title: 'Heap by generation', bytes: true, stacked: true,
      series: ['gen0', 'gen1', 'gen2', 'LOH', 'POH'], get: (p) => p.heap, fmt: bytes,
      value: (p) => bytes(p.heap.reduce((a, b) => a + b, 0)),
      note: () => latest && latest.gc_num === 0 ? 'no collection yet: the runtime sizes generations at each GC' : 'stacked, as of the last collection',
    },
    {
      id: 'alloc', title: 'Allocation rate', bytes: true, series: ['allocated per second'],
      get: (p) => [p.alloc], fmt: (v) => bytes(v) + '/s', value: (p) => bytes(p.alloc) + '/s',
      note: () => latest ? bytes(latest.memory_total_alloc) + ' allocated since start' : '',
    },
    {
      id: 'gc', title: 'GC collections', series: ['collections per second'], marks: true,
      get: (p) => [p.gc], fmt: perSec, value: (p) => perSec(p.gc),
      note: (rows) => {
        const n = rows.reduce((a, r) => a + r.p.gen2, 0);
        return latest ? n + ' gen2 in view · ' + latest.gc_num + ' collections since start' : '';
      },
    },
    {
      id: 'pause', title: 'GC pause', series: ['paused ms per second'],
      get: (p) => [p.pause], fmt: (v) => num(v) + ' ms/s', value: (p) => num(p.pause) + ' ms/s',
      note: () => {
        if (!latest) return '';
        const recent = latest.gc_pause.slice(0, 6);
        return recent.length ? 'recent pauses, newest first: ' + recent.map(num).join(', ') + ' ms' : 'no pause recorded yet';
      },
    },
    {
      id: 'cpu', title: 'CPU', series: ['% of all CPUs'], max: 100, unit: '%',
      get: (p) => [p.cpu], fmt: (v) => num(v) + ' %', value: (p) => num(p.cpu) + ' %',
      note: () => latest ? latest.cpu_num + ' CPUs · ' + num(latest.cpu_user_seconds + latest.cpu_system_seconds) + ' s CPU time since start' : '',
    },
    {
      id: 'mem', title: 'Working set', bytes: true, limit: true, series: ['working set', 'memory limit'],
      get: (p) => [p.ws], fmt: bytes, value: (p) => bytes(p.ws),
      note: () => latest && latest.memory_limit > 0
        ? 'limit ' + bytes(latest.memory_limit) + ' · ' + num(100 * latest.memory_sys / latest.memory_limit) + ' % used'
        : '',
    },
    {
      id: 'threads', title: 'Thread pool', series: ['threads', 'queued items'], integer: true,
      get: (p) => [p.tp, p.q], fmt: num, value: (p) => num(p.tp) + ' threads · ' + num(p.q) + ' queued',
      note: () => latest ? latest.thread_num + ' OS threads · ' + num(latest.threadpool_completed_items) + ' items done' : '',
    },
    {
      id: 'locks', title: 'Lock contentions', series: ['contentions per second'],
      get: (p) => [p.locks], fmt: perSec, value: (p) => perSec(p.locks),
      note: () => latest ? num(latest.lock_contention_num) + ' contended Monitor waits since start' : '',
    },
    {
      id: 'exc', title: 'Exceptions', series: ['exceptions per second'],
      get: (p) => [p.exc], fmt: perSec, value: (p) => perSec(p.exc),
      note: () => latest ? num(latest.exception_num) + ' first-chance exceptions seen by the server' : '',
    },
  ];

  // ---- layout ------------------------------------------------------------------------------------------------------
  // The legend: a swatch per series, the limit's dashes, the gen2 marker, and how many series are not drawn.
  const fillLegend = (c) => {
    const items = c.series.map((name, i) => {
      const item = h('span');
      const label = h('span', null, name);
      item.append(h('span', 'sw ' + (c.limit && i === 1 ? 'lim' : 'c' + i)), label);
      if (c.limit && i === 1) c.limitLabel = label;
      item.title = name; // a long tag list is cut short on screen
      return item;
    });
    if (c.marks) {
      const item = h('span');
      item.append(h('span', 'sw mk'), 'gen2 collection');
      items.push(item);
    }
    if (c.more > 0) items.push(h('span', 'more', '+' + c.more + ' more'));
    c.legend.replaceChildren(...items);
  };
  const addCard = (c, parent) => {
    c.card = h('section', 'card');
    if (c.meter) c.card.dataset.meter = c.title; else c.card.dataset.chart = c.id;
    c.card.dataset.points = '0';
    const head = h('div', 'head');
    const title = h('h2', null, c.title);
    if (c.sub) title.append(' ', h('span', 'sub', c.sub));
    if (c.help) title.title = c.help;
    title.id = 'h-' + c.id;
    c.card.setAttribute('aria-labelledby', title.id);
    c.out = h('output', 'value', '–');
    c.out.setAttribute('aria-live', 'off'); // an <output> is a live region: nine of them would be read out every second
    head.append(title, c.out);
    c.legend = h('div', 'legend');
    fillLegend(c);
    c.plot = h('div', 'plot');
    c.tip = h('div', 'tip');
    c.tip.hidden = true;
    c.plot.append(c.tip);
    c.noteEl = h('p', 'note');
    c.card.append(head, c.legend, c.plot, c.noteEl);
    if (c.id === 'pause') {
      dist.el = h('div', 'dist');
      dist.el.hidden = true;
      dist.bars = h('div', 'bars');
      dist.label = h('p', 'note');
      dist.el.append(dist.bars, dist.label);
      c.card.append(dist.el);
    }
    parent.append(c.card);
    c.plot.addEventListener('pointermove', (e) => { c.hoverX = e.clientX - c.plot.getBoundingClientRect().left; hover(c); });
    c.plot.addEventListener('pointerleave', () => { c.hoverX = null; hover(c); });
  };
  const grid = $('charts');
  for (const c of CHARTS) addCard(c, grid);

  // ---- drawing -----------------------------------------------------------------------------------------------------
  const M = { l: 58, r: 10, t: 8, b: 20 };

  // The y scale: a top of 1, 2 or 5 times a power of ten (of the byte unit for bytes), and four or five ticks.
  const yScale = (max, c) => {
    if (c.max) return { top: c.max, step: c.max / 4, div: 1, unit: c.unit || '' };
    let div = 1, unit = c.tickUnit || '';
    if (c.bytes) { const i = max > 0 ? unitOf(max) : 2; div = 1024 ** i; unit = UNITS[i]; } // nothing yet: a MiB scale
    const m = max > 0 ? max / div : 1;
    let step = niceStep(m / 4);
    if (c.integer && div === 1) step = Math.max(1, step);
    return { top: Math.max(step, Math.ceil(m / step - 1e-9) * step) * div, step: step * div, div, unit };
  };

  // Time ticks every 5 s to 5 min, as many as fit one per 70 px.
  const timeStep = (span, width) => {
    const fit = Math.max(2, Math.floor(width / 70));
    for (const sec of [5, 10, 15, 30, 60, 120, 300]) if (span / (sec * 1000) <= fit) return sec * 1000;
    return 600000;
  };

  const render = (c, pts) => {
    const W = Math.floor(c.plot.clientWidth), H = Math.floor(c.plot.clientHeight);
    if (!W || !H) return;
    const pw = Math.max(10, W - M.l - M.r), ph = Math.max(10, H - M.t - M.b);
    const root = s('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': 'h-' + c.id });
    // The axis starts at the first point and grows with the history, rather than drawing a sliver at the right edge.
    const tLast = pts.length ? pts[pts.length - 1].t : Date.now();
    const tStart = pts.length ? Math.max(pts[0].t, tLast - HISTORY * 1000) : tLast;
    const span = Math.max(MIN_SPAN_MS, tLast - tStart);
    const tEnd = tStart + span;
    const rows = [];
    for (const p of pts) if (p.t >= tStart) rows.push({ t: p.t, v: c.get(p), p });

    let max = 0, min = 0; // min goes below 0 only for an app's gauges and up-down counters
    for (const r of rows) {
      let top = 0;
      for (const v of r.v) if (fin(v)) { top = c.stacked ? top + v : Math.max(top, v); min = Math.min(min, v); }
      max = Math.max(max, top);
    }
    const limit = c.limit && latest ? latest.memory_limit : 0;
    const limitShown = limit > 0 && limit <= Math.max(max, 1) * 1.5;
    if (limitShown) max = Math.max(max, limit);
    if (c.limitLabel) c.limitLabel.textContent = limit > 0 && !limitShown ? 'memory limit (far above)' : 'memory limit';
    const sc = yScale(max - min, c);
    const bot = min < 0 ? -Math.ceil(-min / sc.step - 1e-9) * sc.step : 0;
    if (min < 0) sc.top = Math.max(bot + sc.step, max > 0 ? Math.ceil(max / sc.step - 1e-9) * sc.step : 0);
    const X = (t) => M.l + ((t - tStart) / span) * pw;
    const Y = (v) => M.t + ph - ((Math.max(bot, Math.min(v, sc.top)) - bot) / (sc.top - bot)) * ph;

    // Grid and y ticks.
    const dec = Math.max(0, -Math.floor(Math.log10(sc.step / sc.div) + 1e-9));
    for (let i = 0, v = bot; v <= sc.top + sc.step / 2; v = bot + ++i * sc.step) {
      if (Math.abs(v) < sc.step / 1e6) v = 0;
      const y = Math.round(Y(v)) + 0.5;
      root.append(s('line', { x1: M.l, x2: M.l + pw, y1: y, y2: y }, v === 0 ? 'ax' : 'gl'));
      const label = v === 0 ? '0' : trim((v / sc.div).toFixed(dec)) + (sc.unit ? ' ' + sc.unit : '');
      const tx = s('text', { x: M.l - 6, y: y + 3.5, 'text-anchor': 'end' }, 'tick');
      tx.textContent = label;
      root.append(tx);
    }
    // Time ticks.
    const ts = timeStep(span, pw);
    for (let t = Math.ceil(tStart / ts) * ts; t <= tEnd; t += ts) {
      const x = Math.round(X(t)) + 0.5;
      root.append(s('line', { x1: x, x2: x, y1: M.t + ph, y2: M.t + ph + 4 }, 'ax'));
      if (x + 24 > W) continue; // a label centred this close to the edge would stick out of the card
      const tx = s('text', { x, y: H - 4, 'text-anchor': 'middle' }, 'tick');
      tx.textContent = clock(t);
      root.append(tx);
    }

    // Series: runs of consecutive answers, broken where a poll was missed or a value is unknown.
    const n = c.series.length - (c.limit ? 1 : 0);
    let drawn = 0;
    for (const r of rows) if (r.v.some(fin)) drawn++;
    const runs = (ok) => {
      const out = [];
      let run = null, last = -Infinity;
      for (const r of rows) {
        if (!ok(r)) { run = null; continue; }
        if (!run || r.t - last > GAP_MS) out.push(run = []);
        run.push(r);
        last = r.t;
      }
      return out;
    };
    if (c.stacked) {
      for (let i = 0; i < n; i++) {
        let d = '';
        for (const run of runs((r) => r.v.every(fin))) {
          const below = (r) => r.v.slice(0, i).reduce((a, b) => a + b, 0);
          d += run.map((r, k) => (k ? 'L' : 'M') + X(r.t).toFixed(1) + ' ' + Y(below(r) + r.v[i]).toFixed(1)).join('');
          d += run.slice().reverse().map((r) => 'L' + X(r.t).toFixed(1) + ' ' + Y(below(r)).toFixed(1)).join('') + 'Z';
          if (run.length === 1) root.append(s('circle', { cx: X(run[0].t), cy: Y(below(run[0]) + run[0].v[i]), r: 2 }, 'dot c' + i));
        }
        if (d) root.append(s('path', { d }, 'ar c' + i));
      }
    } else {
      for (let i = 0; i < n; i++) {
        let d = '';
        for (const run of runs((r) => fin(r.v[i]))) {
          d += run.map((r, k) => (k ? 'L' : 'M') + X(r.t).toFixed(1) + ' ' + Y(r.v[i]).toFixed(1)).join('');
          if (run.length === 1) root.append(s('circle', { cx: X(run[0].t), cy: Y(run[0].v[i]), r: 2 }, 'dot c' + i));
        }
        if (d) root.append(s('path', { d }, 'ln c' + i));
      }
    }
    if (c.marks) {
      for (const r of rows) {
        if (!r.p.gen2) continue;
        const x = X(r.t).toFixed(1);
        root.append(s('line', { x1: x, x2: x, y1: M.t, y2: M.t + ph }, 'mk'));
        root.append(s('path', { d: 'M' + (x - 4) + ' ' + M.t + 'L' + (+x + 4) + ' ' + M.t + 'L' + x + ' ' + (M.t + 6) + 'Z' }, 'mkh'));
      }
    }
    if (limitShown) {
      const y = Math.round(Y(limit)) + 0.5;
      root.append(s('line', { x1: M.l, x2: M.l + pw, y1: y, y2: y }, 'lim'));
      const tx = s('text', { x: M.l + pw - 2, y: y - 3, 'text-anchor': 'end' }, 'limt');
      tx.textContent = 'limit ' + bytes(limit);
      root.append(tx);
    }
    c.cross = s('line', { x1: 0, x2: 0, y1: M.t, y2: M.t + ph, visibility: 'hidden' }, 'cross');
    root.append(c.cross, s('rect', { x: M.l, y: M.t, width: pw, height: ph }, 'hit'));

    const old = c.plot.querySelector('svg');
    if (old) old.replaceWith(root); else c.plot.prepend(root);
    Object.assign(c, { rows, X, Y });
    c.card.dataset.points = String(drawn);
    const last = rows[rows.length - 1];
    c.out.textContent = last ? c.value(last.p) : '–';
    c.noteEl.textContent = c.noteEl.title = c.note(rows); // the title shows a note cut short on a narrow screen
    hover(c);
  };

  // The hover read-out: the answer nearest the pointer, every series' value at that time.
  const hover = (c) => {
    const rows = c.rows || [];
    if (c.hoverX == null || !rows.length) {
      c.tip.hidden = true;
      if (c.cross) c.cross.setAttribute('visibility', 'hidden');
      return;
    }
    let best = rows[0];
    for (const r of rows) if (Math.abs(c.X(r.t) - c.hoverX) < Math.abs(c.X(best.t) - c.hoverX)) best = r;
    const x = c.X(best.t);
    c.cross.setAttribute('x1', x);
    c.cross.setAttribute('x2', x);
    c.cross.setAttribute('visibility', 'visible');
    const lines = [h('div', 't', clock(best.t))];
    const n = c.series.length - (c.limit ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const line = h('div');
      line.append(h('span', 'sw c' + i), c.series[i] + ': ' + c.fmt(best.v[i]));
      lines.push(line);
    }
    if (c.stacked) lines.push(h('div', null, 'total: ' + c.fmt(best.v.reduce((a, b) => a + b, 0))));
    if (c.marks && best.p.gen2) lines.push(h('div', null, 'gen2 collections: ' + best.p.gen2));
    if (c.limit && best.p.limit > 0) lines.push(h('div', null, 'limit: ' + bytes(best.p.limit)));
    if (c.extra) lines.push(h('div', null, c.extra(best.p)));
    c.tip.replaceChildren(...lines);
    c.tip.hidden = false;
    const w = c.tip.offsetWidth, W = c.plot.clientWidth;
    c.tip.style.left = (x + 12 + w <= W ? x + 12 : Math.max(0, x - 12 - w)) + 'px';
  };

  // ---- the app's meters and published values ----------------------------------------------------------------------------
  // One chart per exported instrument, from the JSON's `meters`: counters as a rate per second, up-down counters and
  // gauges as values, histograms as p50/p90/p99 of what was observed between two polls. Published numbers get a card
  // with a sparkline, published strings a place in the header.
  const MAX_METER_CHARTS = 24;   // more instruments than this are named below the charts, not drawn
  const TOP_SERIES = 5;          // series drawn per chart (one per colour); the legend counts the rest
  const QUANTILES = [0.5, 0.9, 0.99];
  const appTitle = $('title').textContent;
  const appSection = $('app'), meterGrid = $('meters'), cardGrid = $('cards'), metersNote = $('meters-note');
  const meterCharts = new Map(); // instrument key -> chart, in the order the instruments first appeared
  const pubCards = new Map();    // published name -> card
  const skipped = new Set();     // names of the instruments over the cap
  const instKey = (i) => i.meter + '\n' + i.name;
  const tagKey = (tags) => JSON.stringify(tags || {});
  const tagText = (tags) => Object.entries(tags || {}).map(([k, v]) => k + '=' + v).join(', ');
  const isRate = (kind) => kind === 'counter' || kind === 'observable_counter';

  // Prometheus's histogram_quantile over one window's bucket counts (per bucket, the last one above the top bound):
  // linear inside the bucket that holds the rank, the lowest bucket from 0, a rank above the top bound capped at it.
  // The library's HistogramEstimates applies the same rules to the JSON's since-start estimates.
  const quantile = (q, bounds, counts) => {
    const total = counts.reduce((a, b) => a + b, 0);
    if (!bounds.length || counts.length !== bounds.length + 1 || !(total > 0)) return null;
    const rank = q * total;
    let below = 0;
    for (let i = 0; i < bounds.length; i++) {
      if (counts[i] > 0 && below + counts[i] >= rank) {
        if (i === 0 && bounds[0] <= 0) return bounds[0];
        const lo = i ? bounds[i - 1] : 0;
        return lo + ((bounds[i] - lo) * (rank - below)) / counts[i];
      }
      below += counts[i];
    }
    return bounds[bounds.length - 1];
  };

  // The JSON's `exponential` buckets: bucket i at scale s holds (2^(i/2^s), 2^((i+1)/2^s)]; one scale lower merges
  // buckets 2k and 2k+1 into k, so an index moves down a scale by halving (an arithmetic shift).
  const expBound = (i, scale) => Math.pow(2, i * Math.pow(2, -scale));
  // Positive buckets gained between two polls, every series mapped to the lowest scale among them: Map index -> count.
  const expDelta = (pairs) => {
    let scale = Infinity, zero = 0;
    for (const [x] of pairs) scale = Math.min(scale, x.scale);
    const cells = new Map();
    const add = (e, sign) => (e.positive || []).forEach((n, i) => {
      if (!n) return;
      const k = (e.positive_offset + i) >> (e.scale - scale);
      cells.set(k, (cells.get(k) || 0) + sign * n);
    });
    for (const [x, o] of pairs) {
      add(x, 1);
      zero += x.zero_count;
      if (o) { add(o, -1); zero -= o.zero_count; }
    }
    return { scale, zero, cells };
  };
  // Prometheus's rule for native histograms over one window: the bucket holding the rank, linear inside it.
  const expQuantile = (q, d) => {
    const keys = [...d.cells.keys()].filter((k) => d.cells.get(k) > 0).sort((a, b) => a - b);
    const total = d.zero + keys.reduce((a, k) => a + d.cells.get(k), 0);
    if (!(total > 0)) return null;
    const rank = q * total;
    let below = d.zero;
    if (rank <= below) return 0;
    for (const k of keys) {
      const n = d.cells.get(k);
      if (below + n >= rank) {
        const lo = expBound(k, d.scale), hi = expBound(k + 1, d.scale);
        return lo + ((hi - lo) * (rank - below)) / n;
      }
      below += n;
    }
    return expBound(keys[keys.length - 1] + 1, d.scale);
  };

  // Units as the runtime charts show theirs: bytes scaled, a {word} as its word, short units (ms, s, %) on the axis.
  const units = (unit) => {
    if (unit === 'By') return { bytes: true, fmt: bytes, rate: (v) => (fin(v) ? bytes(v) + '/s' : '–') };
    const word = /^\{.+\}$/.test(unit) ? unit.slice(1, -1) : unit === '1' ? '' : unit;
    return {
      tick: word === unit && word.length <= 3 ? word : '',
      fmt: (v) => (fin(v) ? num(v) + (word ? ' ' + word : '') : '–'),
      rate: (v) => (fin(v) ? num(v) + ' ' + word + '/s' : '–'),
    };
  };

  const meterChart = (inst, key) => {
    let c = meterCharts.get(key);
    if (c) return c;
    if (meterCharts.size >= MAX_METER_CHARTS) {
      skipped.add(inst.name);
      return null;
    }
    const kind = String(inst.kind), hist = kind === 'histogram', rate = isRate(kind), u = units(String(inst.unit || ''));
    c = {
      meter: true, id: 'm' + meterCharts.size, title: String(inst.name), key, kind, inst, labels: new Map(), order: new Map(),
      keys: [], series: hist ? ['p50', 'p90', 'p99'] : [], more: 0, bytes: u.bytes, tickUnit: rate ? '' : u.tick,
      fmt: rate ? u.rate : u.fmt, sub: kind.replace(/_/g, ' ') + (inst.unit ? ' · ' + inst.unit : ''), help: inst.description,
    };
    const at = (p) => p.m && p.m.get(key);
    if (hist) {
      c.get = (p) => (at(p) ? at(p).q : [null, null, null]);
      c.value = (p) => (at(p) ? 'p99 ' + c.fmt(at(p).q[2]) + ' · ' + num(at(p).rate) + ' /s' : '–');
      c.extra = (p) => (at(p) ? 'observed ' + num(at(p).rate) + ' /s · mean ' + c.fmt(at(p).mean) : '');
    } else {
      c.get = (p) => c.keys.map((k) => (at(p) ? at(p).get(k) : null));
      c.value = (p) => {
        let total = 0, top = null;
        for (const v of (at(p) || new Map()).values()) if (fin(v)) { total += v; top = top == null ? v : Math.max(top, v); }
        const n = at(p) ? at(p).size : 0;
        return n < 2 ? c.fmt(top) : kind.endsWith('gauge') ? 'max ' + c.fmt(top) : 'total ' + c.fmt(total);
      };
    }
    c.note = () => {
      const i = c.inst, all = i.series || [], parts = [];
      if (hist) {
        parts.push(num(all.reduce((a, x) => a + (x.count || 0), 0)) + ' observed since start' + (all.length > 1 ? ', ' + all.length + ' series combined' : ''));
        parts.push(all.length && all.every((x) => x.exponential)
          ? 'quantiles estimated from the exponential buckets (error under 2^(2^-scale) - 1)'
          : 'quantiles estimated from the buckets');
      } else if (rate) {
        parts.push(u.fmt(all.reduce((a, x) => a + (fin(x.value) ? x.value : 0), 0)) + ' since start');
      }
      if (!all.length) parts.push('no measurement yet');
      if (i.dropped_series > 0) parts.push(num(i.dropped_series) + ' series dropped at the cap');
      if (i.description) parts.push(i.description);
      return parts.join(' · ');
    };
    addCard(c, meterGrid);
    if (hist) {
      c.heat = h('div', 'heat');
      c.heat.setAttribute('role', 'img');
      c.heatNote = h('p', 'heatnote');
      c.card.insertBefore(c.heat, c.noteEl);
      c.card.insertBefore(c.heatNote, c.noteEl);
    }
    meterCharts.set(key, c);
    return c;
  };

  // One poll's numbers per instrument: a series' rate or value by its tags, or a histogram's quantiles, count rate and
  // mean over the observations since the previous poll, all series combined (a series new since then started at 0).
  const meterPoint = (j, dt) => {
    const out = new Map();
    if (!Array.isArray(j.meters)) return out;
    const before = prev && prev.ix;
    const ix = (j.ix = new Map());
    for (const inst of j.meters) {
      const key = instKey(inst), series = new Map();
      for (const x of inst.series || []) series.set(tagKey(x.tags), x);
      ix.set(key, series);
      const c = meterChart(inst, key);
      if (!c) continue;
      c.inst = inst;
      const old = before && before.get(key), known = !!old && dt > 0;
      if (c.kind === 'histogram') {
        const bounds = Array.isArray(inst.bounds) ? inst.bounds : [];
        const counts = new Array(bounds.length + 1).fill(0);
        const pairs = [];
        let n = 0, sum = 0, ok = known;
        for (const [k, x] of series) {
          const o = old && old.get(k);
          if (!Array.isArray(x.bucket_counts) || x.bucket_counts.length !== counts.length || (o && x.count < o.count)) { ok = false; continue; }
          n += x.count - (o ? o.count : 0);
          sum += x.sum - (o ? o.sum : 0);
          x.bucket_counts.forEach((b, i) => { counts[i] += b - (o ? o.bucket_counts[i] : 0); });
          if (x.exponential) pairs.push([x.exponential, o && o.exponential]);
        }
        // The window's quantiles from the exponential buckets when every series has them, else from the classic ones.
        const heat = ok && pairs.length === series.size && pairs.length ? expDelta(pairs) : null;
        const q = QUANTILES.map((v) => (heat ? expQuantile(v, heat) : quantile(v, bounds, counts)));
        out.set(key, ok ? { q, rate: n / dt, mean: n > 0 && fin(sum) ? sum / n : null, heat } : null);
        continue;
      }
      const values = new Map();
      for (const [k, x] of series) {
        if (!c.order.has(k)) c.order.set(k, c.order.size);
        c.labels.set(k, tagText(x.tags));
        if (!isRate(c.kind)) { values.set(k, fin(x.value) ? x.value : null); continue; }
        // A counter series new since the last poll counted from 0; an observable one may report a long-running total.
        const o = old && old.get(k), was = o ? o.value : known && c.kind === 'counter' ? 0 : null;
        values.set(k, known && fin(was) && fin(x.value) && x.value >= was ? (x.value - was) / dt : null);
      }
      out.set(key, values);
    }
    return out;
  };

  // The few series drawn: the largest by their latest value, kept in the order they appeared so colours stay put.
  const pickSeries = (c, pts) => {
    if (c.kind === 'histogram') return;
    const latestOf = new Map();
    for (const p of pts) {
      const v = p.m && p.m.get(c.key);
      if (v) for (const [k, x] of v) if (fin(x) || !latestOf.has(k)) latestOf.set(k, fin(x) ? Math.abs(x) : -1);
    }
    const ranked = [...latestOf.keys()].sort((a, b) => latestOf.get(b) - latestOf.get(a) || c.order.get(a) - c.order.get(b));
    c.keys = ranked.slice(0, TOP_SERIES).sort((a, b) => c.order.get(a) - c.order.get(b));
    const names = c.keys.map((k) => c.labels.get(k) || (isRate(c.kind) ? 'per second' : 'value'));
    const more = ranked.length - c.keys.length;
    if (names.join('\n') + '\n' + more !== c.shown) {
      c.shown = names.join('\n') + '\n' + more;
      c.series = names;
      c.more = more;
      fillLegend(c);
    }
  };

  const publishedPoint = (j) => {
    const out = {};
    const pub = j.published && typeof j.published === 'object' ? j.published : {};
    for (const name of Object.keys(pub)) {
      if (!fin(pub[name])) continue;
      out[name] = pub[name];
      if (!pubCards.has(name)) {
        const card = { name, el: h('section', 'card pub'), out: h('output', 'value', '–'), spark: h('div', 'spark') };
        card.el.dataset.published = name;
        card.out.setAttribute('aria-live', 'off');
        card.el.append(h('h2', null, name), card.out, card.spark);
        cardGrid.append(card.el);
        pubCards.set(name, card);
      }
    }
    return out;
  };
  const publishedTexts = (j) => {
    const pub = j.published && typeof j.published === 'object' ? j.published : {};
    return Object.keys(pub)
      .filter((k) => typeof pub[k] === 'string' || typeof pub[k] === 'boolean')
      .map((k) => [k + ' ', String(pub[k]).length > 60 ? String(pub[k]).slice(0, 59) + '…' : String(pub[k])]);
  };

  // A card's sparkline: its value over the history, scaled between its own lowest and highest.
  const drawSpark = (card, pts) => {
    const W = Math.floor(card.spark.clientWidth), H = 30;
    if (!W) return;
    const rows = pts.filter((p) => p.pub && fin(p.pub[card.name]));
    const svg = s('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'aria-hidden': 'true' });
    if (rows.length) {
      const vs = rows.map((p) => p.pub[card.name]), lo = Math.min(...vs), hi = Math.max(...vs);
      const t0 = rows[0].t, tw = Math.max(MIN_SPAN_MS, rows[rows.length - 1].t - t0);
      let d = '', last = -Infinity;
      for (const p of rows) {
        const x = 1 + ((W - 2) * (p.t - t0)) / tw, y = hi > lo ? 2 + (H - 4) * (1 - (p.pub[card.name] - lo) / (hi - lo)) : H / 2;
        d += (p.t - last > GAP_MS ? 'M' : 'L') + x.toFixed(1) + ' ' + y.toFixed(1);
        last = p.t;
      }
      svg.append(s('path', { d }, 'ln c0'));
    }
    const old = card.spark.querySelector('svg');
    if (old) old.replaceWith(svg); else card.spark.append(svg);
    card.el.dataset.points = String(rows.length);
    card.out.textContent = rows.length ? num(rows[rows.length - 1].pub[card.name]) : '–';
  };

  // A histogram's distribution over time: one column per poll, one row per exponential bucket (merged to at most
  // HEAT_ROWS rows), each cell's shade the share of that poll's observations in the bucket, darkest for the column's
  // fullest bucket. Drawn under the quantile lines, on the same time axis.
  const HEAT_ROWS = 40;
  const drawHeat = (c, pts) => {
    const W = Math.floor(c.plot.clientWidth), H = 110;
    if (!W) return;
    const cols = pts.filter((p) => p.m && p.m.get(c.key) && p.m.get(c.key).heat);
    let scale = Infinity, lo = Infinity, hi = -Infinity;
    for (const p of cols) scale = Math.min(scale, p.m.get(c.key).heat.scale);
    const rowsOf = (sc) => {
      lo = Infinity; hi = -Infinity;
      for (const p of cols) {
        const d = p.m.get(c.key).heat;
        for (const [k, n] of d.cells) if (n > 0) { const r = k >> (d.scale - sc); lo = Math.min(lo, r); hi = Math.max(hi, r); }
      }
      return hi - lo + 1;
    };
    while (cols.length && rowsOf(scale) > HEAT_ROWS) scale--;
    const svg = s('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
    let shown = 0;
    if (cols.length && hi >= lo) {
      const rows = hi - lo + 1, x0 = M.l, pw = W - M.l - M.r, ph = H - 16, rh = ph / rows;
      const t1 = cols[cols.length - 1].t, t0 = Math.min(cols[0].t, t1 - MIN_SPAN_MS), tw = Math.max(1, t1 - t0);
      const cw = Math.max(2, pw / Math.max(1, cols.length));
      for (const p of cols) {
        const d = p.m.get(c.key).heat, merged = new Map();
        for (const [k, n] of d.cells) if (n > 0) { const r = k >> (d.scale - scale); merged.set(r, (merged.get(r) || 0) + n); }
        const top = Math.max(0, ...merged.values());
        if (!top) continue;
        const x = x0 + (pw * (p.t - t0)) / tw - cw;
        for (const [r, n] of merged) {
          svg.append(s('rect', {
            x: Math.max(x0, x).toFixed(1), y: (ph - (r - lo + 1) * rh).toFixed(1), width: cw.toFixed(1), height: Math.max(1, rh).toFixed(1),
            'fill-opacity': (0.12 + 0.88 * n / top).toFixed(2),
          }, 'cell'));
          shown++;
        }
      }
      const label = (y, text) => { const t = s('text', { x: M.l - 6, y, 'text-anchor': 'end' }, 'tick'); t.textContent = text; svg.append(t); };
      label(ph - 2, c.fmt(expBound(lo, scale)).replace(/\/s$/, ''));
      label(10, c.fmt(expBound(hi + 1, scale)).replace(/\/s$/, ''));
      c.heatNote.textContent = 'distribution between polls: ' + rows + ' buckets at scale ' + scale + ' (x' +
        num(Math.pow(2, Math.pow(2, -scale))) + ' each), shade = share of the poll\u2019s observations';
    } else {
      c.heatNote.textContent = 'distribution between polls: nothing observed in view';
    }
    c.heat.dataset.cells = String(shown);
    c.heat.setAttribute('aria-label', 'Heatmap of ' + c.title + ': ' + shown + ' filled cells');
    const old = c.heat.querySelector('svg');
    if (old) old.replaceWith(svg); else c.heat.append(svg);
  };

  const renderApp = (pts) => {
    appSection.hidden = !meterCharts.size && !pubCards.size;
    if (appSection.hidden) return;
    for (const c of meterCharts.values()) {
      pickSeries(c, pts);
      render(c, pts);
      if (c.heat) drawHeat(c, pts);
    }
    for (const card of pubCards.values()) drawSpark(card, pts);
    const names = [...skipped];
    metersNote.hidden = !names.length;
    metersNote.textContent = names.length
      ? MAX_METER_CHARTS + ' instruments drawn; ' + names.length + ' more are in ' + statsUrl + ': ' +
        names.slice(0, 10).join(', ') + (names.length > 10 ? ', …' : '')
      : '';
  };

  let frame = 0;
  const renderAll = () => {
    frame = 0;
    const pts = points();
    for (const c of CHARTS) render(c, pts);
    renderDist();
    renderApp(pts);
  };
  const schedule = () => { if (!frame) frame = requestAnimationFrame(renderAll); };
  new ResizeObserver(schedule).observe(grid);

  // ---- header --------------------------------------------------------------------------------------------------------
  const identity = $('identity'), status = $('status'), banner = $('banner'), pauseButton = $('pause');
  const showIdentity = (j) => {
    const gc = (j.gc_server ? 'server' : 'workstation') + (j.gc_concurrent ? ', concurrent' : '') + ', ' + j.gc_latency_mode;
    const items = [
      ...publishedTexts(j),
      ['', j.dotnet_version], ['', j.os_description], ['', j.arch + ' · ' + j.cpu_num + ' CPUs'],
      ['pid ', String(j.pid)], ['up ', duration(j.uptime_seconds)], ['GC ', gc],
    ];
    document.title = appTitle + ' · pid ' + j.pid + ' · StatsHandler dashboard';
    identity.replaceChildren(...items.map(([label, value]) => {
      const item = h('span', null, label);
      item.append(h('b', null, value));
      return item;
    }));
  };

  // ---- polling -------------------------------------------------------------------------------------------------------
  let paused = false, pausedAt = 0, inFlight = false, lastOk = 0, down = false;
  const setStatus = () => {
    status.className = 'status' + (paused ? ' paused' : down ? ' down' : '');
    status.textContent = paused ? 'paused · ' + duration((Date.now() - pausedAt) / 1000)
      : down ? 'no answer' : 'live · ' + ring.len + ' samples';
  };
  const poll = async () => {
    if (paused) { setStatus(); return; }
    if (inFlight) return; // never two requests at once: skip this tick
    inFlight = true;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(fetchUrl, { cache: 'no-store', signal: abort.signal, headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + response.statusText);
      const text = await response.text();
      let j;
      try {
        j = JSON.parse(text);
      } catch {
        throw new Error(text ? 'the answer is not JSON' : 'an empty answer');
      }
      if (paused) return;
      ingest(j);
      lastOk = Date.now();
      down = false;
      banner.hidden = true;
      showIdentity(j);
      schedule();
    } catch (e) {
      down = true;
      const why = e && e.name === 'AbortError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : (e && e.message) || String(e);
      banner.textContent = 'The stats endpoint ' + statsUrl + ' is not answering (' + why + ')' +
        (lastOk ? '; last answer at ' + clock(lastOk) : '') + '. Retrying every second.';
      banner.hidden = false;
    } finally {
      clearTimeout(timer);
      inFlight = false;
      setStatus();
    }
  };
  // ---- CPU profile: on request, {profiles}/profile?seconds=10&format=json drawn as a flame graph ---------------------
  // The JSON lists functions once and stacks as indexes into them, root first. Frames merge into a tree by path; a
  // frame's width is its share of the samples (total), the part no callee covers is its self time. Root on top.
  const PROFILE_S = 10, ROW = 18, TOP_N = 12;
  const profilesUrl = meta('profiles-url');
  const profButton = $('profile'), flame = $('flame'), flameNote = $('flame-note'), flameGraph = $('flame-graph'), flameTop = $('flame-top');
  let fprof = null;
  const pct = (v) => (fprof.root.v ? (100 * v / fprof.root.v).toFixed(1) : '0.0') + '%';
  const hue = (t) => { let x = 0; for (let i = 0; i < t.length; i++) x = (x * 31 + t.charCodeAt(i)) | 0; return Math.abs(x); };
  const profileTree = (j) => {
    const fns = j.functions, root = { f: -1, v: 0, s: 0, k: new Map(), p: null }, self = new Map(), total = new Map();
    const add = (m, f, c) => m.set(f, (m.get(f) || 0) + c);
    for (const st of j.stacks) {
      const c = st.count;
      let node = root;
      root.v += c;
      for (const f of st.frames) {
        let k = node.k.get(f);
        if (!k) node.k.set(f, (k = { f, v: 0, s: 0, k: new Map(), p: node }));
        k.v += c;
        node = k;
      }
      node.s += c;
      if (st.frames.length) add(self, st.frames[st.frames.length - 1], c);
      for (const f of new Set(st.frames)) add(total, f, c); // a recursive function counts once per stack
    }
    return { fns, root, self, total };
  };
  const fname = (f) => (f < 0 ? 'all' : fprof.fns[f].name);
  const drawFlame = (top) => {
    const frames = [];
    let depth = 0;
    // The zoomed frame's callers stay drawn full width above it, so a click on one zooms back out.
    const path = [];
    for (let n = top; n; n = n.p) path.unshift(n);
    const place = (n, x, w, d) => {
      if (w < 0.002) return;
      depth = Math.max(depth, d);
      const e = h('div', 'fr', fname(n.f));
      const m = n.f < 0 ? '' : fprof.fns[n.f].module || '';
      e.style.left = 100 * x + '%';
      e.style.width = 100 * w + '%';
      e.style.top = d * ROW + 'px';
      e.style.background = 'hsl(' + (8 + (hue(m) % 42)) + ' 78% ' + (62 + (hue(fname(n.f)) % 14)) + '%)';
      e.title = fname(n.f) + (m ? ' (' + m + ')' : '') + '\ntotal ' + pct(n.v) + ' (' + n.v + ' samples), self ' + pct(n.s);
      e.addEventListener('click', () => drawFlame(n === top ? top.p || top : n));
      frames.push(e);
      if (d >= path.length - 1) {
        let cx = x;
        for (const k of [...n.k.values()].sort((a, b) => b.v - a.v)) { place(k, cx, w * k.v / n.v, d + 1); cx += w * k.v / n.v; }
      }
    };
    path.forEach((n, i) => { if (i < path.length - 1) place(n, 0, 1, i); });
    place(top, 0, 1, path.length - 1);
    flameGraph.style.height = (depth + 1) * ROW + 'px';
    flameGraph.replaceChildren(...frames);
    flame.dataset.frames = frames.length;
  };
  const topList = (title, m) => {
    const t = h('table', 'tops');
    const cap = h('caption', null, title);
    t.append(cap);
    for (const [f, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP_N)) {
      const r = h('tr');
      r.append(h('td', 'pc', pct(v)), h('td', 'fn', fname(f)));
      r.title = fname(f) + ' (' + (fprof.fns[f].module || '') + ')';
      t.append(r);
    }
    return t;
  };
  const showProfile = (j) => {
    if (!j || !Array.isArray(j.functions) || !Array.isArray(j.stacks)) throw new Error('the answer is not a profile');
    fprof = profileTree(j);
    flameNote.textContent = num(j.samples) + ' samples over ' + j.seconds + ' s (each thread every ' + num(j.period_ns / 1e6) +
      ' ms), taken at ' + clock(Date.now()) + '. Width is time on CPU; click a frame to zoom.';
    drawFlame(fprof.root);
    flameTop.replaceChildren(topList('Top by self time', fprof.self), topList('Top by total time', fprof.total));
  };
  if (profilesUrl) {
    profButton.hidden = false;
    const profileFetch = bare(profilesUrl.replace(/\/+$/, '') + '/profile?seconds=' + PROFILE_S + '&format=json');
    profButton.addEventListener('click', async () => {
      profButton.disabled = true;
      flame.hidden = false;
      flameNote.textContent = 'Profiling for ' + PROFILE_S + ' s…';
      try {
        const r = await fetch(profileFetch, { cache: 'no-store', headers: { Accept: 'application/json' } });
        const text = await r.text();
        let j = null;
        try { j = JSON.parse(text); } catch { /* said below */ }
        if (!r.ok) throw new Error('HTTP ' + r.status + (j && j.error ? ': ' + j.error : ''));
        if (!j) throw new Error('the answer is not JSON');
        showProfile(j);
      } catch (e) {
        flameNote.textContent = 'No profile: ' + ((e && e.message) || String(e));
      } finally {
        profButton.disabled = false;
      }
    });
    $('flame-close').addEventListener('click', () => { flame.hidden = true; });
  }

  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pausedAt = Date.now();
    pauseButton.setAttribute('aria-pressed', String(paused));
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    setStatus(); // on resume the next tick polls, so the rate stays at one request a second
  });
  setInterval(poll, PERIOD_MS);
  poll();
  schedule();
})();
