// The adasim explorer page: controls, and SVG figures of one view (x_t, v_t against g_t, the net
// update factors beside their closed forms, the drift and its sign, the (β1, β2) map of the
// drift's sign). The numbers come from a backend: the local server (fetch), a static export
// (the views embedded in the page) or a Jupyter widget (anywidget's model). Nothing is computed
// here; the page only draws what adasim computed.

const SVGNS = "http://www.w3.org/2000/svg";
const AWAY = "#E69F00", TOWARD = "#0072B2", NONE = "#bbbbbb"; // Okabe–Ito orange / blue

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}
const s = (tag, attrs, ...children) => el("svg:" + tag, attrs, ...children);

// -- each optimizer's look: the page's config carries it (adasim/explorer/style.py, the one definition
// the matplotlib explorer draws with too): a colour, a dash (in line widths; [] solid) and a marker
export function styler(styles) {
  const fallback = { color: "#000000", dash: [], marker: "o" };
  return (name) => {
    const st = styles[name] || fallback;
    return { color: st.color, marker: st.marker, dashes: st.dash };
  };
}
const dashArray = (dash, width) => dash.map((v) => +(v * width).toFixed(2)).join(" ");
// a short line in the optimizer's colour and dash: the key of the toggles and the tables
function swatch(st) {
  return s("svg", { class: "swatch", viewBox: "0 0 26 10", "aria-hidden": "true", "data-color": st.color, "data-dash": st.dashes.join(" ") },
           s("line", { x1: 1, x2: 25, y1: 5, y2: 5, stroke: st.color, "stroke-width": 3, "stroke-dasharray": dashArray(st.dashes, 3) || null }));
}
// a point of the (g_t, v_t) scatter in the optimizer's marker (o circle, s square, ^ triangle, D diamond)
function mark(marker, x, y, r = 3.4) {
  if (marker === "s") return s("rect", { x: x - 0.9 * r, y: y - 0.9 * r, width: 1.8 * r, height: 1.8 * r, opacity: 0.7 });
  if (marker === "^") return s("path", { d: `M${x},${y - 1.2 * r}L${x + 1.1 * r},${y + 0.8 * r}L${x - 1.1 * r},${y + 0.8 * r}Z`, opacity: 0.7 });
  if (marker === "D") return s("path", { d: `M${x},${y - 1.3 * r}L${x + 1.1 * r},${y}L${x},${y + 1.3 * r}L${x - 1.1 * r},${y}Z`, opacity: 0.7 });
  return s("circle", { cx: x, cy: y, r, opacity: 0.7 });
}
// a table in a box of its own that scrolls sideways when the table is wider than the page, and says
// so ("overflowing" and a visible cue) instead of hiding the last columns
function tableBox(table, cls) {
  const box = el("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": table.getAttribute("aria-label") + " (scrolls sideways)" }, table);
  const wrap = el("div", { class: "table-box " + cls }, box, el("p", { class: "scroll-cue", "aria-hidden": "true", text: "⇠ more columns: scroll the table sideways ⇢" }));
  const check = () => wrap.classList.toggle("overflowing", box.scrollWidth > box.clientWidth + 1);
  if (typeof ResizeObserver !== "undefined") new ResizeObserver(check).observe(box);
  return wrap;
}

export function fmt(v, digits = 4) {
  if (v === null || v === undefined) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(digits)));
  return v.toExponential(digits - 1).replace("e+", "e");
}
const signed = (v) => (v === null || v === undefined ? "—" : (v > 0 ? "+" : v < 0 ? "−" : "") + fmt(Math.abs(v)));

// -- axes -------------------------------------------------------------------------------------
function niceTicks(lo, hi, n = 5) {
  const span = hi - lo || 1, raw = span / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((m) => span / m <= n) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}
function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) out.push(10 ** e);
  return out.length >= 2 ? out : [lo, hi];
}
function scale(kind, [d0, d1], [r0, r1]) {
  const f = kind === "log" ? Math.log10 : (v) => v;
  const a = f(d0), b = f(d1) === a ? a + 1 : f(d1);
  return (v) => r0 + ((f(v) - a) / (b - a)) * (r1 - r0);
}
const tickText = (v, kind) => (kind === "log" ? (v >= 1e4 || v < 1e-2 ? "10" + sup(Math.round(Math.log10(v))) : fmt(v, 3)) : fmt(v, 3));
const sup = (n) => String(n).replace(/-/g, "⁻").replace(/\d/g, (d) => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d]);

function frame(title, x, y, { width = 520, height = 300 } = {}) {
  const m = { l: 62, r: 84, t: 28, b: 44 };
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  const sx = scale(x.kind, x.domain, [m.l, width - m.r]), sy = scale(y.kind, y.domain, [height - m.b, m.t]);
  svg.append(s("text", { x: m.l, y: 16, class: "title", text: title }));
  const axes = s("g", { class: "axes" });
  for (const [ax, sc, ticks] of [["x", sx, x.ticks || (x.kind === "log" ? logTicks(...x.domain) : niceTicks(...x.domain))],
                                  ["y", sy, y.ticks || (y.kind === "log" ? logTicks(...y.domain) : niceTicks(...y.domain))]]) {
    for (const v of ticks) {
      const p = sc(v);
      if (ax === "x") {
        axes.append(s("line", { x1: p, x2: p, y1: height - m.b, y2: m.t, class: "grid" }));
        axes.append(s("text", { x: p, y: height - m.b + 16, "text-anchor": "middle", text: (x.tick || tickText)(v, x.kind) }));
      } else {
        axes.append(s("line", { x1: m.l, x2: width - m.r, y1: p, y2: p, class: "grid" }));
        axes.append(s("text", { x: m.l - 6, y: p + 4, "text-anchor": "end", text: (y.tick || tickText)(v, y.kind) }));
      }
    }
  }
  axes.append(s("rect", { x: m.l, y: m.t, width: width - m.l - m.r, height: height - m.t - m.b, class: "box" }));
  axes.append(s("text", { x: (m.l + width - m.r) / 2, y: height - 8, "text-anchor": "middle", class: "label", text: x.label }));
  axes.append(s("text", { x: 14, y: (m.t + height - m.b) / 2, "text-anchor": "middle", class: "label",
                          transform: `rotate(-90 14 ${(m.t + height - m.b) / 2})`, text: y.label }));
  svg.append(axes);
  return { svg, sx, sy, m, width, height };
}

// labels at the right end of lines, moved apart so that they never overlap
function endLabels(f, items) {
  const gap = 13;
  const sorted = items.map((it) => ({ ...it, p: f.sy(it.y) })).sort((a, b) => a.p - b.p);
  for (let i = 1; i < sorted.length; i++) sorted[i].p = Math.max(sorted[i].p, sorted[i - 1].p + gap);
  for (const it of sorted) f.svg.append(s("text", { x: f.width - f.m.r + 4, y: it.p + 4, fill: it.color, class: "end", text: it.text }));
}

// -- the figures ---------------------------------------------------------------------------
function figureX(view, shown, style) {
  const [lo, hi] = view.domain.map((v) => (v === null || !isFinite(v) ? null : v));
  const all = shown.flatMap((o) => o.x);
  const ylo = lo ?? Math.min(...all), yhi = hi ?? Math.max(...all);
  const pad = 0.05 * (yhi - ylo || 1);
  const f = frame("x_t (median over seeds)", { kind: "log", domain: [1, view.steps], label: "step t" },
                  { kind: "linear", domain: [ylo - pad, yhi + pad], label: "x_t" });
  if (view.optimum !== null) {
    const p = f.sy(view.optimum);
    f.svg.append(s("line", { x1: f.m.l, x2: f.width - f.m.r, y1: p, y2: p, class: "optimum" }));
    f.svg.append(s("text", { x: f.m.l + 4, y: p + (view.optimum < 0 ? -5 : 13), class: "note", text: "x* (optimum)" }));
  }
  shown.forEach((o, i) => {  // the first drawn widest, under the others: lines that coincide (at x*) all stay in sight
    const d = o.t.map((t, j) => `${j ? "L" : "M"}${f.sx(t).toFixed(1)},${f.sy(o.x[j]).toFixed(1)}`).join("");
    const width = 1.8 + (shown.length - 1 - i) * Math.min(0.8, 2.4 / Math.max(shown.length - 1, 1)), st = style(o.name);
    f.svg.append(s("path", { d, stroke: st.color, "stroke-width": width, "stroke-dasharray": dashArray(st.dashes, width) || null, class: "line", "data-optimizer": o.name }));
  });
  endLabels(f, shown.map((o) => ({ y: o.x[o.x.length - 1], color: style(o.name).color, text: o.name })));
  return f.svg;
}

function figureV(view, shown, style) {
  const gs = shown.flatMap((o) => o.g), vs = shown.flatMap((o) => o.v).filter((v) => v > 0);
  if (!vs.length) return el("p", { class: "note", text: "no positive v_t to draw" });
  const glo = Math.min(...gs), ghi = Math.max(...gs), gpad = 0.08 * (ghi - glo || 1);
  const vlo = Math.min(...vs), vhi = Math.max(...vs);
  const ratio = vhi / vlo < 10 ? Math.sqrt(10 / (vhi / vlo)) : 1.3;
  const f = frame("v_t against the g_t it divides (last steps)", { kind: "linear", domain: [glo - gpad, ghi + gpad], label: "g_t" },
                  { kind: "log", domain: [vlo / ratio, vhi * ratio], label: "v_t (the scale of step t)" });
  shown.forEach((o, i) => {
    const jitter = (i - (shown.length - 1) / 2) * 0.012 * (ghi - glo || 1);
    const group = s("g", { fill: style(o.name).color, "data-optimizer": o.name, "data-marker": style(o.name).marker });
    o.g.forEach((g, j) => { if (o.v[j] > 0) group.append(mark(style(o.name).marker, f.sx(g + jitter), f.sy(o.v[j]))); });
    f.svg.append(group);
  });
  endLabels(f, shown.filter((o) => o.v.some((v) => v > 0)).map((o) => ({ y: Math.max(...o.v.filter((v) => v > 0)), color: style(o.name).color, text: o.name })));
  return f.svg;
}

function groupName(view, row) {
  return view.grouped_by === "phase" ? `phase ${row.phase} (g=${fmt(row.gradient, 3)})` : `g = ${fmt(row.gradient, 3)}`;
}

function figureNUF(view, all, style) {
  const shown = all.filter((o) => o.nuf.length);  // an optimizer without factors (Lion, AdamW, ...) has no bars
  if (!shown.length) return el("p", { class: "note no-closed-form", text: "net update factors: no closed form for the chosen optimizers (see the table)" });
  const groups = shown[0].nuf.map((r) => groupName(view, r));
  const values = shown.flatMap((o) => o.nuf.flatMap((r) => [r.measured, r.closed])).filter((v) => v !== null);
  const top = Math.max(...values, 1e-12) * 1.12;
  const f = frame("net update factor κ per " + view.grouped_by + " (bars: measured, ◆: closed form)",
                  { kind: "linear", domain: [-0.5, groups.length - 0.5], label: view.grouped_by, ticks: groups.map((_, i) => i), tick: (v) => groups[v] ?? "" },
                  { kind: "linear", domain: [0, top], label: "κ = Σ step sizes / α" });
  const width = 0.8 / shown.length;
  shown.forEach((o, i) => {
    const { color: c, dashes } = style(o.name);  // a dashed optimizer's bars: light, with a dashed outline
    const look = dashes.length ? { "fill-opacity": 0.3, stroke: c, "stroke-width": 1.5, "stroke-dasharray": dashArray(dashes, 1.5) } : { opacity: 0.75 };
    o.nuf.forEach((r, j) => {
      const x0 = f.sx(j - 0.4 + i * width), x1 = f.sx(j - 0.4 + (i + 1) * width);
      if (r.measured !== null) f.svg.append(s("rect", { x: x0, width: Math.max(x1 - x0 - 1, 1), y: f.sy(r.measured), height: f.sy(0) - f.sy(r.measured),
                                                        fill: c, "data-optimizer": o.name, ...look }));
      if (r.closed !== null) f.svg.append(s("path", { d: `M${(x0 + x1) / 2},${f.sy(r.closed) - 6}l6,6l-6,6l-6,-6z`, fill: "black", stroke: "white" }));
    });
  });
  return f.svg;
}

function tableNUF(view, shown, style) {
  const head = el("tr", {}, el("th", { text: "optimizer" }), el("th", { text: view.grouped_by }), el("th", { text: "κ measured" }),
                  el("th", { text: "κ closed form" }), el("th", { text: "steps counted" }));
  const rows = shown.flatMap((o) => o.nuf.length ? o.nuf.map((r) => el("tr", { "data-optimizer": o.name },
    el("td", {}, swatch(style(o.name)), o.name), el("td", { text: groupName(view, r) }), el("td", { class: "measured", text: fmt(r.measured) }),
    el("td", { class: "closed", text: fmt(r.closed) }), el("td", { text: String(r.count) })))
    : [el("tr", { "data-optimizer": o.name, class: "no-closed-form" }, el("td", {}, swatch(style(o.name)), o.name),
          el("td", { colspan: 4, class: "no-closed-form", title: o.factors, text: "no closed form (and no factors to measure)" }))]);
  const notes = [
    ...shown.filter((o) => o.closed_note).map((o) => el("p", { class: "note", "data-optimizer": o.name, text: `${o.name}: measured ≠ closed form: ${o.closed_note}` })),
    ...shown.filter((o) => o.factors).map((o) => el("p", { class: "note no-closed-form", "data-optimizer": o.name, text: o.factors }))];
  return el("div", { class: "nuf-box" },
            el("p", { class: "caption", text: "κ over the second half of the run, and in closed form" }),
            tableBox(el("table", { class: "nuf", "aria-label": "net update factors" }, head, ...rows), "nuf-scroll"),
            ...notes);
}

function tableDrift(view, shown, style) {
  const head = el("tr", {}, el("th", { text: "optimizer" }), el("th", { text: "drift, closed form" }), el("th", { text: "drift, measured" }),
                  el("th", { text: "direction" }), el("th", { text: "x at T" }));
  const rows = shown.map((o) => el("tr", { "data-optimizer": o.name, class: o.drift.wrong_way === null ? "no-closed-form" : o.drift.wrong_way > 0 ? "away" : "toward" },
    el("td", {}, swatch(style(o.name)), o.name),
    el("td", { class: "drift", text: signed(o.drift.closed) }), el("td", { class: "drift-measured", text: signed(o.drift.measured) }),
    el("td", { class: "verdict", text: o.drift.verdict }), el("td", { text: fmt(o.final_x) })));
  const sign = view.mean_gradient > 0 ? "x* is the lower end: a positive drift moves away from it" : "x* is the upper end: a negative drift moves away from it";
  return el("div", { class: "drift-box" }, el("p", { class: "caption", text: `drift E[Δx]/α per step = −(1/d) Σ c_j κ_j; ${sign}` }),
            tableBox(el("table", { class: "drift-table", "aria-label": "drift" }, head, ...rows), "drift-scroll"));
}

function figureMap(phase, current, style) {
  const o = phase.optimizers.find((p) => p.map && current.optimizers.includes(p.name));
  if (!o) return el("p", { class: "note", text: phase.note || "no (β1, β2) map: no chosen optimizer has a β2 and a closed form" });
  const rows = o.map_rows === "beta1" ? phase.beta1 : [null];
  const b2 = phase.beta2, W = 360, H = rows.length > 1 ? 230 : 110;
  const f = frame(`sign of ${o.name}'s drift over (β1, β2)`, { kind: "log", domain: [b2[0], b2[b2.length - 1]], label: "β2" },
                  rows.length > 1 ? { kind: "linear", domain: [rows[0] - 0.075, rows[rows.length - 1] + 0.075], label: "β1" }
                                  : { kind: "linear", domain: [0, 1], label: "", ticks: [] }, { width: W, height: H });
  const edges = b2.map((v, i) => (i === 0 ? v / Math.sqrt(b2[1] / b2[0]) : Math.sqrt(b2[i - 1] * v)));
  edges.push(b2[b2.length - 1] * Math.sqrt(b2[b2.length - 1] / b2[b2.length - 2]));
  const clip = (x) => Math.min(Math.max(x, f.m.l), f.width - f.m.r);
  rows.forEach((b1, r) => {
    const y0 = rows.length > 1 ? f.sy(b1 + 0.075) : f.m.t, y1 = rows.length > 1 ? f.sy(b1 - 0.075) : f.height - f.m.b;
    o.map[r].forEach((cell, c) => {
      const x0 = clip(f.sx(edges[c])), x1 = clip(f.sx(edges[c + 1]));
      f.svg.append(s("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, fill: cell > 0 ? AWAY : cell < 0 ? TOWARD : NONE }));
    });
  });
  const cx = f.sx(current.beta2), cy = rows.length > 1 ? f.sy(current.beta1) : (f.m.t + f.height - f.m.b) / 2;
  f.svg.append(s("circle", { cx, cy, r: 7, class: "here" }), s("circle", { cx, cy, r: 2.5, fill: "black" }));
  f.svg.append(s("text", { x: f.width - f.m.r + 6, y: f.m.t + 12, fill: AWAY, class: "end", text: "away" }),
               s("text", { x: f.width - f.m.r + 6, y: f.m.t + 28, fill: TOWARD, class: "end", text: "toward" }),
               s("text", { x: f.width - f.m.r + 6, y: f.m.t + 44, class: "end", text: "○ here" }));
  return f.svg;
}

// -- controls ----------------------------------------------------------------------------------
function nearest(stops, value) {
  let best = 0;
  stops.forEach((t, i) => { if (Math.abs(Number(t) - value) < Math.abs(Number(stops[best]) - value)) best = i; });
  return best;
}
function fractionOf(stops, value) {  // where `value` sits along the slider (stops are spaced by index)
  const xs = stops.map(Number), n = xs.length;
  if (n < 2 || value < xs[0] || value > xs[n - 1]) return null;
  for (let i = 0; i < n - 1; i++) if (value <= xs[i + 1]) {
    const log = xs[i] > 0 && value > 0;
    const u = log ? Math.log(value / xs[i]) / Math.log(xs[i + 1] / xs[i]) : (value - xs[i]) / (xs[i + 1] - xs[i]);
    return (i + u) / (n - 1);
  }
  return 1;
}

// the index of `text` among a slider's stops (compared as numbers); a number that is not a stop is
// inserted in order, so that the slider holds exactly the value a link carries or the user typed
// (unless `fixed`: a static export's stops are its grid). null when `text` is not a number.
export function hold(stops, text, fixed = false) {
  const t = String(text ?? "").trim(), v = Number(t);
  if (t === "" || !Number.isFinite(v)) return null;
  const at = stops.findIndex((x) => Number(x) === v);
  if (at >= 0 || fixed) return at >= 0 ? at : null;
  const after = stops.findIndex((x) => Number(x) > v), i = after < 0 ? stops.length : after;
  stops.splice(i, 0, String(v));
  return i;
}

export function mount(root, backend) {
  const config = backend.config;
  const state = { ...config.start };
  const style = styler(config.styles || {});
  const limit = config.max_optimizers || config.optimizers.length;  // optimizers drawn at once
  root.classList.add("adasim-explorer");
  if (state.large === "1") root.classList.add("large");
  const inputs = {}, outputs = {}, rows = {}, markers = {}, stops = {}, snapped = [];
  const panel = el("form", { class: "controls", "aria-label": "settings", onsubmit: (e) => e.preventDefault() });
  for (const c of config.controls) {
    const id = `adasim-${c.name}`;
    let input;
    if (c.kind === "select") {
      input = el("select", { id, name: c.name }, ...c.stops.map((v) => el("option", { value: v, text: v })));
      input.value = state[c.name];
      outputs[c.name] = el("output", { for: id, class: "value" });
    } else {
      stops[c.name] = [...c.stops];
      let at = hold(stops[c.name], state[c.name], backend.fixedStops);
      if (at === null) {  // not a number, or (static export) not on the grid: the nearest stop, said so
        const given = String(state[c.name] ?? "").trim();
        const fallback = given !== "" && Number.isFinite(Number(given)) ? Number(given) : Number(c.default[state.family] ?? c.default);
        at = nearest(stops[c.name], fallback);
        if (state[c.name] !== undefined && state[c.name] !== stops[c.name][at]) snapped.push(`${c.label} = ${state[c.name]} → ${stops[c.name][at]}`);
      }
      input = el("input", { id, name: c.name, type: "range", min: 0, max: stops[c.name].length - 1, step: 1, value: at, disabled: c.stops.length < 2 });
      const field = el("input", { type: "text", id: `${id}-value`, class: "exact", inputmode: "decimal", autocomplete: "off", spellcheck: "false",
                                  readonly: backend.fixedStops || c.stops.length < 2,
                                  title: backend.fixedStops ? "the values of this export's grid: move the slider" : `type any value of ${c.label}, then Enter` });
      field.addEventListener("change", () => typed(c, field));
      outputs[c.name] = el("label", { for: field.id, class: "value" }, el("span", { class: "sr-only", text: `${c.label}, exact value` }), field);
    }
    inputs[c.name] = input;
    markers[c.name] = el("div", { class: "markers", "aria-hidden": "true" });
    const wrap = el("div", { class: "track" }, input, markers[c.name]);
    rows[c.name] = el("div", { class: "control", "data-control": c.name },
                      el("label", { for: id, text: c.label }), outputs[c.name], wrap,
                      c.note ? el("small", { text: c.stops.length < 2 && c.kind !== "select" ? c.note + " (fixed in this export)" : c.note }) : null);
    input.addEventListener("input", () => changed(c.name));
    panel.append(rows[c.name]);
  }
  const count = el("span", { class: "count" });
  const toggles = el("fieldset", { class: "optimizers" }, el("legend", {}, `optimizers: pick up to ${limit} `, count));
  const chosen = new Set(state.optimizers.split(",").filter(Boolean));
  for (const name of config.optimizers) {
    const box = el("input", { type: "checkbox", id: `adasim-opt-${name}`, value: name, checked: chosen.has(name) });
    box.addEventListener("change", () => changed("optimizers"));
    inputs["opt:" + name] = box;
    toggles.append(el("label", { for: box.id, class: "toggle" }, box, swatch(style(name)), name));
  }
  panel.append(toggles);
  const large = el("button", { type: "button", "aria-pressed": String(root.classList.contains("large")), text: "Large type" });
  large.addEventListener("click", () => { root.classList.toggle("large"); large.setAttribute("aria-pressed", String(root.classList.contains("large"))); });
  const command = el("input", { type: "text", readonly: true, class: "command", "aria-label": "the adasim run command of this view" });
  const copy = el("button", { type: "button", text: "Copy command" });
  const copied = el("span", { class: "copied", role: "status" });
  copy.addEventListener("click", async () => {
    command.select();
    try { await navigator.clipboard.writeText(command.value); copied.textContent = "copied"; }
    catch { document.execCommand && document.execCommand("copy"); copied.textContent = "selected: press Ctrl+C to copy"; }
  });
  const error = el("div", { class: "error", role: "alert" });
  const snappedNote = el("p", { class: "note snapped", text: !snapped.length ? "" : (backend.fixedStops ? "not on this export's grid, shown at the nearest value: "
                                                                                                  : "not a number, shown at the default: ") + snapped.join(", ") });
  const status = el("div", { class: "status", role: "status", "aria-live": "polite" });
  const figs = el("div", { class: "figures" });
  const phaseBox = el("div", { class: "phase" });
  root.append(
    el("header", {}, el("h1", { text: "adasim explorer" }), el("p", { class: "mode", text: config.mode_note }), large),
    el("div", { class: "layout" }, panel,
       el("main", {}, error, snappedNote, el("div", { class: "commandline" }, command, copy, copied), status, figs, phaseBox)));

  function current() {
    const q = {};
    for (const c of config.controls) q[c.name] = c.kind === "select" ? inputs[c.name].value : stops[c.name][Number(inputs[c.name].value)];
    q.optimizers = config.optimizers.filter((n) => inputs["opt:" + n].checked).join(",");
    return q;
  }
  function showControls(q) {
    for (const c of config.controls) {
      if (c.kind === "select") outputs[c.name].textContent = q[c.name];
      else { const field = outputs[c.name].lastChild; field.value = q[c.name]; field.removeAttribute("aria-invalid"); }
      if (c.kind !== "select") inputs[c.name].setAttribute("aria-valuetext", `${c.label} = ${q[c.name]}`);
      rows[c.name].hidden = !c.families.includes(q.family);
    }
  }
  let last = null, lastPhase = null, began = 0, seq = 0, drawn = 0, inflight = false, pending = null, phaseTimer = null;
  function changed(name) {
    if (name === "family") {  // each family's own defaults for the settings it reads differently
      for (const c of config.controls) if (c.kind !== "select" && c.default[inputs.family.value] !== c.default[state.family])
        inputs[c.name].value = hold(stops[c.name], c.default[inputs.family.value]) ?? nearest(stops[c.name], Number(c.default[inputs.family.value]));
      state.family = inputs.family.value;
    }
    if (name === "d" || name === "k") {  // k < d: keep the spikes below the period
      const d = Number(current().d);
      if (stops.k && Number(current().k) >= d) inputs.k.value = nearest(stops.k, d - 1);
    }
    if (name === "optimizers") limitToggles();
    began = performance.now();
    request(current());
  }
  function typed(c, field) {  // a value typed in a slider's field: the slider holds it exactly
    const at = hold(stops[c.name], field.value, backend.fixedStops);
    if (at === null) {
      field.setAttribute("aria-invalid", "true");
      error.textContent = `${c.label} must be a number, got ${JSON.stringify(field.value.trim())}`;
      return;
    }
    inputs[c.name].max = stops[c.name].length - 1;
    inputs[c.name].value = at;
    changed(c.name);
  }
  function limitToggles() {  // at most `limit` optimizers: the other toggles are disabled, and say why
    const on = config.optimizers.filter((n) => inputs["opt:" + n].checked).length;
    count.textContent = `(${on} chosen)`;
    for (const n of config.optimizers) {
      const box = inputs["opt:" + n], full = on >= limit && !box.checked;
      box.disabled = full;
      box.parentElement.classList.toggle("full", full);
      const why = full ? `at most ${limit} optimizers at once: untick one to choose ${n}` : null;
      for (const node of [box, box.parentElement]) why ? node.setAttribute("title", why) : node.removeAttribute("title");
    }
  }
  async function request(q) {
    showControls(q);
    if (inflight) { pending = q; return; }
    inflight = true;
    const mine = ++seq;
    const res = await backend.view(q);
    inflight = false;
    if (mine > drawn) { drawn = mine; draw(q, res); }
    if (pending) { const next = pending; pending = null; request(next); return; }
    if (res.error) return;
    // the map and the critical β2 once the controls rest: while a slider is dragged they would
    // only compete with the next view for the server's time
    clearTimeout(phaseTimer);
    phaseTimer = setTimeout(async () => {
      const ph = await backend.phase(q);
      if (mine === seq) drawPhase(q, ph);
    }, backend.phaseDelay || 0);
  }
  function draw(q, res) {
    if (res.error) {
      error.textContent = res.error;
      figs.classList.add("stale");
      status.textContent = "";
      return;
    }
    error.textContent = "";
    figs.classList.remove("stale");
    const view = res.data;
    last = view;
    const shown = view.optimizers.filter((o) => q.optimizers.split(",").includes(o.name));
    const ok = shown.filter((o) => !o.trouble);
    command.value = view.command;
    copied.textContent = "";
    figs.replaceChildren(
      ...shown.filter((o) => o.trouble).map((o) => el("p", { class: "trouble", text: o.trouble })),
      ...(ok.length ? [tableDrift(view, ok, style),
                       el("div", { class: "row" }, el("figure", {}, figureX(view, ok, style)), el("figure", {}, figureV(view, ok, style))),
                       el("div", { class: "row" }, el("figure", {}, figureNUF(view, ok, style)), tableNUF(view, ok, style))] : []));
    if (backend.hash) history.replaceState(null, "", "#" + new URLSearchParams({ ...q, ...(root.classList.contains("large") ? { large: "1" } : {}) }));
    const ms = performance.now() - began;
    root.dataset.redrawMs = ms.toFixed(1);
    root.dataset.drawn = new URLSearchParams(q).toString();
    root.dataset.views = String(Number(root.dataset.views || 0) + 1);
    status.textContent = `${view.steps.toLocaleString("en")} steps × ${ok.length} optimizers, drawn in ${ms.toFixed(0)} ms`;
    if (lastPhase) drawPhase(q, lastPhase);
  }
  function drawPhase(q, res) {
    lastPhase = res;
    for (const m of Object.values(markers)) m.replaceChildren();
    if (res.error) { phaseBox.replaceChildren(el("p", { class: "note", text: res.error })); return; }
    const ph = res.data;
    const crit = ph.optimizers.filter((o) => o.critical_beta2 !== null && o.critical_beta2 !== undefined && q.optimizers.split(",").includes(o.name));
    for (const o of crit) {
      const at = fractionOf(stops.beta2, o.critical_beta2);
      if (at === null) continue;
      markers.beta2.append(el("span", { class: "marker", style: `left:calc(${(at * 100).toFixed(2)}% + ${(8 - 16 * at).toFixed(1)}px);background:${style(o.name).color}`,
                                        title: `critical β2 of ${o.name}: ${fmt(o.critical_beta2)}` }));
    }
    const words = crit.map((o) => `${o.name} ${fmt(o.critical_beta2)} (${o.wrong_way_below ? "fails below" : "fails above"})`);
    const items = [el("p", { class: "critical", text: words.length ? "critical β2 (▮ on the β2 slider): " + words.join(", ") : "critical β2: " + (ph.note || "none in (0, 1) for the chosen optimizers") })];
    items.push(el("figure", {}, figureMap(ph, { ...q, beta1: Number(q.beta1), beta2: Number(q.beta2), optimizers: q.optimizers.split(",") }, style)));
    phaseBox.replaceChildren(...items);
  }
  limitToggles();
  began = performance.now();
  request(current());
  return { current, inputs, get view() { return last; } };
}

// -- backends ------------------------------------------------------------------------------------
export function serverBackend(config, base = "") {
  const get = async (what, q) => {
    try {
      const res = await fetch(`${base}api/${what}?${new URLSearchParams(q)}`);
      const body = await res.json();
      return res.ok ? { data: body } : { error: body.error || `the server answered ${res.status}` };
    } catch (err) { return { error: `no answer from the adasim server (${err.message}): is adasim explore still running?` }; }
  };
  return { config, hash: true, phaseDelay: 250, view: (q) => get("view", q), phase: (q) => get("phase", q) };
}

export function staticBackend(config, data) {
  const key = (q) => data.keys.map((k) => `${k}=${q[k]}`).join("&");
  const find = (table, q) => {
    const hit = table[key(q)];
    return hit ? { data: hit } : { error: `this view (${key(q)}) is not in the export's grid` };
  };
  return { config, hash: true, fixedStops: true, view: async (q) => find(data.views, q), phase: async (q) => find(data.phases, q) };
}

export function widgetBackend(model) {
  let seq = 0;
  const waiting = new Map();
  model.on("msg:custom", (msg) => { const w = waiting.get(msg.seq); if (w) { waiting.delete(msg.seq); w(msg); } });
  const ask = (what, q) => new Promise((resolve) => { const id = ++seq; waiting.set(id, resolve); model.send({ what, seq: id, query: q }); });
  return { config: model.get("config"), hash: false, phaseDelay: 250, view: (q) => ask("view", q), phase: (q) => ask("phase", q) };
}

function render({ model, el: root }) { mount(root, widgetBackend(model)); }
export default { render };
