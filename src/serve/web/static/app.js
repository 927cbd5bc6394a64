/* global document, window, fetch, sessionStorage, URLSearchParams */
/**
 * The watchnext web page: a thin client of the /v1 API served by the same process. It shows one
 * user's history and two-stage recommendations (or those of an anonymous session whose history
 * lives in this page), marks items watched, opens an item's similar items, and draws the model
 * card with per-epoch validation charts as inline SVG. Plain ES module, no dependencies, no
 * network beyond this server. Every API error is shown in the alert bar, never swallowed.
 */

// ---------- API ----------

class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

const TOKEN_KEY = "watchnext.token";

/** One API call; resolves with the parsed JSON body or throws an ApiError carrying the server's reason. */
async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && method !== "GET") headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, `cannot reach the server (${err.message})`, path);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      if (res.ok) throw new ApiError(res.status, `the server answered with invalid JSON`, path);
    }
  }
  if (!res.ok) {
    const reason = (data && (data.message || data.error)) || text || res.statusText;
    throw new ApiError(res.status, reason, path);
  }
  return data;
}

const enc = encodeURIComponent;

// ---------- DOM helpers ----------

const $ = (id) => document.getElementById(id);

/** Creates an element; attributes starting with "on" are listeners; children are nodes or text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof window.Node ? c : String(c));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null) el.append(c);
  return el;
}

function fmt(x, digits = 3) {
  if (typeof x !== "number" || !Number.isFinite(x)) return "–";
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(1);
  return x.toFixed(digits);
}

function fmtTime(epochSeconds) {
  if (typeof epochSeconds === "string") return new Date(epochSeconds).toLocaleString();
  if (typeof epochSeconds !== "number") return "";
  return new Date(epochSeconds * 1000).toLocaleString();
}

// ---------- errors ----------

function showError(err) {
  const where = err.path ? ` (${err.path})` : "";
  const status = err.status ? `${err.status}: ` : "";
  let text = `${status}${err.message}${where}`;
  if (err.status === 401 || err.status === 403) text += "\nThis server needs an API token for writes.";
  $("error-text").textContent = text;
  $("error").hidden = false;
  if (err.status === 401 || err.status === 403) askToken();
}

function clearError() {
  $("error").hidden = true;
  $("error-text").textContent = "";
}

/** Runs an async action, showing its failure; the button (if any) is disabled meanwhile. */
async function guarded(action, button) {
  if (button) button.disabled = true;
  try {
    clearError();
    return await action();
  } catch (err) {
    showError(err instanceof ApiError ? err : new ApiError(0, String(err?.message ?? err), ""));
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

function askToken() {
  if ($("token-form")) return;
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true });
  const form = h(
    "form",
    {
      id: "token-form",
      class: "user-form",
      onsubmit: (e) => {
        e.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value);
        form.remove();
        clearError();
      },
    },
    h("label", { for: "token" }, "API token"),
    input,
    h("button", { type: "submit" }, "Use token"),
  );
  $("error").after(form);
  input.focus();
}

// ---------- state ----------

/**
 * mode "user": a stored user (history and recommendations from the server);
 * mode "anon": an anonymous session whose history is kept here and posted with each request.
 */
const state = {
  mode: null,
  user: null,
  /** anonymous history, oldest first: { item, time, title, genres } */
  anonHistory: [],
  /** item id -> { title, genres, year } learned from any response, for labels */
  items: new Map(),
  /** the item just marked watched, highlighted once in the history */
  fresh: null,
  genres: new Set(),
  /** Number of the latest list request: an older answer arriving late is dropped, not drawn. */
  latest: 0,
};

/** Learns an item's labels from any response (items carry `item`, GET /v1/items/:id carries `id`). */
function remember(it) {
  const raw = it?.item ?? it?.id;
  if (raw === undefined) return;
  const id = String(raw);
  const known = state.items.get(id) ?? {};
  state.items.set(id, {
    title: it.title ?? known.title,
    genres: it.genres ?? known.genres,
    year: it.year ?? known.year,
  });
  for (const g of it.genres ?? []) addGenre(g);
}

function addGenre(g) {
  if (state.genres.has(g)) return;
  state.genres.add(g);
  const select = $("opt-genre");
  const options = [...select.options].slice(1).map((o) => o.value);
  options.push(g);
  options.sort();
  const current = select.value;
  select.replaceChildren(
    h("option", { value: "" }, "any"),
    ...options.map((v) => h("option", { value: v }, v)),
  );
  select.value = current;
}

function label(id) {
  const info = state.items.get(String(id));
  return info?.title || `item ${id}`;
}

function options() {
  const k = Number($("opt-k").value) || 10;
  return {
    k,
    stage: $("opt-stage").value,
    genre: $("opt-genre").value,
    explain: $("opt-explain").checked,
  };
}

// ---------- loading ----------

async function loadUser(id) {
  const o = options();
  const q = new URLSearchParams({ k: String(o.k), stage: o.stage, explain: String(o.explain) });
  if (o.genre) q.set("genre", o.genre);
  const seq = ++state.latest;
  $("recs").setAttribute("aria-busy", "true");
  try {
    const [history, recs] = await Promise.all([
      api("GET", `/v1/users/${enc(id)}/history?limit=50`),
      api("GET", `/v1/users/${enc(id)}/recommendations?${q}`),
    ]);
    if (seq !== state.latest) return;
    state.mode = "user";
    state.user = id;
    for (const it of history.items) remember(it);
    for (const it of recs.items) remember(it);
    renderSession();
    renderHistory(history.items);
    renderRecs(recs.items, recs);
  } finally {
    if (seq === state.latest) $("recs").setAttribute("aria-busy", "false");
  }
}

async function loadAnon() {
  const o = options();
  const body = {
    history: state.anonHistory.map((e) => ({ item: e.item, time: e.time })),
    k: o.k,
    stage: o.stage,
    explain: o.explain,
  };
  if (o.genre) body.genre = o.genre;
  const seq = ++state.latest;
  $("recs").setAttribute("aria-busy", "true");
  try {
    const recs = await api("POST", "/v1/recommendations", body);
    if (seq !== state.latest) return;
    state.mode = "anon";
    for (const it of recs.items) remember(it);
    renderSession();
    renderHistory([...state.anonHistory].reverse());
    renderRecs(recs.items, recs);
  } finally {
    if (seq === state.latest) $("recs").setAttribute("aria-busy", "false");
  }
}

function reload() {
  if (state.mode === "user") return loadUser(state.user);
  if (state.mode === "anon") return loadAnon();
  return undefined;
}

async function markWatched(item, button) {
  // Keyboard users keep their place: focus moves to the item that takes this one's slot.
  const slot = button?.closest("#recs > li");
  const index = slot ? [...slot.parentElement.children].indexOf(slot) : -1;
  await guarded(async () => {
    if (state.mode === "user") {
      await api("POST", "/v1/events", { events: [{ user: state.user, item }] });
    } else {
      if (state.mode !== "anon") state.anonHistory = [];
      const info = state.items.get(String(item)) ?? {};
      state.anonHistory.push({ item, time: Math.floor(Date.now() / 1000), ...info });
    }
    state.fresh = String(item);
    await reload();
  }, button);
  if (index >= 0) {
    const rows = $("recs").children;
    rows[Math.min(index, rows.length - 1)]?.querySelector("button.watch")?.focus();
  }
}

// ---------- rendering ----------

function renderSession() {
  const el = $("session-title");
  el.replaceChildren();
  if (state.mode === "user") append(el, ["Showing user ", h("strong", {}, state.user)]);
  else
    append(el, [
      h("strong", {}, "Anonymous session"),
      ` — ${state.anonHistory.length} item${state.anonHistory.length === 1 ? "" : "s"} watched in this page`,
    ]);
}

function genreLine(it) {
  const parts = [];
  if (it.genres?.length) parts.push(it.genres.join(", "));
  if (it.year) parts.push(String(it.year));
  return parts.join(" · ");
}

/** The score fields of a recommendation, whichever stage produced it. */
function scoreChips(it) {
  const chips = [];
  const sources = it.sourceScores ?? {};
  for (const [name, v] of Object.entries(sources))
    chips.push([name, fmt(v), `score from the ${name} source`]);
  if (typeof it.candidateScore === "number" && !Object.keys(sources).length)
    chips.push(["candidate", fmt(it.candidateScore), "candidate generator score u·v"]);
  if (typeof it.rankingScore === "number")
    chips.push(["ranking", fmt(it.rankingScore), "the ranker's logit for this item"]);
  if (typeof it.expectedEngagement === "number")
    chips.push(["expected engagement", fmt(it.expectedEngagement), "e^logit: the expected engagement"]);
  return h(
    "ul",
    { class: "scores", "aria-label": "scores" },
    chips.map(([k, v, title]) => h("li", { title }, `${k} `, h("b", {}, v))),
  );
}

function explanation(it) {
  const out = [];
  const because = it.because ?? [];
  if (because.length) {
    for (const b of because) remember(b);
    const names = because.map((b) => b.title || label(b.item));
    out.push(h("p", { class: "why" }, "Because you watched ", h("em", {}, names.join(", "))));
  }
  const contributions = it.contributions ?? [];
  if (contributions.length) {
    const max = Math.max(...contributions.map((c) => Math.abs(c.contribution)), 1e-12);
    out.push(
      h(
        "dl",
        { class: "contrib", "aria-label": "top feature contributions to the ranking score" },
        contributions.map((c) => [
          h("dt", {}, c.feature),
          h(
            "dd",
            {},
            h("div", {
              class: c.contribution < 0 ? "bar neg" : "bar",
              style: `width:${Math.max(2, (100 * Math.abs(c.contribution)) / max)}%`,
            }),
          ),
          h("dd", { class: "num" }, (c.contribution >= 0 ? "+" : "") + fmt(c.contribution)),
        ]),
      ),
    );
  }
  return out;
}

function itemButtons(item) {
  return h(
    "div",
    { class: "actions" },
    h(
      "button",
      {
        type: "button",
        class: "watch",
        "aria-label": `Mark ${label(item)} watched`,
        onclick: (e) => markWatched(item, e.currentTarget),
      },
      "Mark watched",
    ),
    h(
      "button",
      {
        type: "button",
        class: "similar",
        "aria-label": `Similar to ${label(item)}`,
        onclick: () => guarded(() => openItem(item)),
      },
      "Similar items",
    ),
  );
}

function renderRecs(items, response) {
  const list = $("recs");
  const stage = response.stage ?? options().stage;
  $("recs-note").textContent = items.length
    ? `${items.length} items, ${stage === "candidates" ? "candidate generator only" : "two-stage"}`
    : "No recommendations (every item is seen or filtered out).";
  list.replaceChildren(
    ...items.map((it, i) =>
      h(
        "li",
        { "data-item": String(it.item) },
        h(
          "div",
          { class: "item-head" },
          h("span", { class: "rank" }, `${i + 1}.`),
          h("span", { class: "title" }, it.title || label(it.item)),
        ),
        h("p", { class: "meta" }, genreLine(it)),
        scoreChips(it),
        explanation(it),
        itemButtons(it.item),
      ),
    ),
  );
}

function renderHistory(items) {
  // Weights are worth showing when they vary (MovieLens ratings); a log of plain watches is all 1s.
  const weighted = items.some((it) => it.weight !== undefined && it.weight !== 1);
  $("history-note").textContent = items.length
    ? `${items.length} most recent, newest first`
    : "Nothing watched yet.";
  $("history").replaceChildren(
    ...items.map((it) =>
      h(
        "li",
        { "data-item": String(it.item), class: state.fresh === String(it.item) ? "fresh" : undefined },
        h(
          "div",
          { class: "history-item" },
          h(
            "button",
            { type: "button", class: "link title", onclick: () => guarded(() => openItem(it.item)) },
            it.title || label(it.item),
          ),
          h(
            "span",
            { class: "meta", title: weighted ? "engagement weight (the rating)" : undefined },
            weighted && it.weight !== undefined ? `★ ${it.weight}` : "",
          ),
        ),
        h("p", { class: "meta" }, fmtTime(it.time)),
      ),
    ),
  );
  state.fresh = null;
}

async function openItem(id) {
  const [item, similar] = await Promise.all([
    api("GET", `/v1/items/${enc(id)}`),
    api("GET", `/v1/items/${enc(id)}/similar?k=10`),
  ]);
  remember(item);
  for (const it of similar.items) remember(it);
  $("item-dialog-title").textContent = item.title || `item ${item.id}`;
  const notYet = item.recommendable === false ? "not recommendable until the next training" : "";
  $("item-dialog-meta").textContent = [`id ${item.id}`, genreLine(item), notYet].filter(Boolean).join(" · ");
  const actions = $("item-dialog-actions");
  actions.replaceChildren();
  if (state.mode)
    actions.append(
      h(
        "button",
        {
          type: "button",
          class: "primary",
          onclick: async (e) => {
            await markWatched(item.id, e.currentTarget);
            $("item-dialog").close();
          },
        },
        "Mark watched",
      ),
    );
  $("similar").replaceChildren(
    ...similar.items.map((it) =>
      h(
        "li",
        { "data-item": String(it.item) },
        h(
          "div",
          { class: "history-item" },
          h(
            "button",
            { type: "button", class: "link title", onclick: () => guarded(() => openItem(it.item)) },
            it.title || label(it.item),
          ),
          h(
            "span",
            { class: "meta" },
            typeof it.similarity === "number" ? `similarity ${fmt(it.similarity)}` : "",
          ),
        ),
        h("p", { class: "meta" }, genreLine(it)),
      ),
    ),
  );
  if (!similar.items.length) $("similar").append(h("li", { class: "meta" }, "No similar items."));
  const dialog = $("item-dialog");
  if (!dialog.open) dialog.showModal();
}

// ---------- model card ----------

const KEY_LABELS = {
  hr10: "HR@10",
  ndcg10: "NDCG@10",
  hr50: "HR@50",
  ndcg50: "NDCG@50",
  hr100: "HR@100",
  ndcg100: "NDCG@100",
  mrr: "MRR",
  auc: "AUC",
  loss: "training loss",
  trainLoss: "training loss",
  validLoss: "validation loss",
  logloss: "log loss",
  createdAt: "trained at",
  trainedAt: "trained at",
};

function humanize(key) {
  if (KEY_LABELS[key]) return KEY_LABELS[key];
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .toLowerCase();
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isScalar = (v) => v === null || ["string", "number", "boolean"].includes(typeof v);

function scalarText(key, v) {
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString() : fmt(v, 4);
  if (typeof v === "string" && /At$/.test(key) && !Number.isNaN(Date.parse(v)))
    return new Date(v).toLocaleString();
  if (v === null) return "–";
  return String(v);
}

function kvList(obj) {
  const rows = Object.entries(obj)
    .map(([k, v]) => [k, Array.isArray(v) && v.every(isScalar) ? v.join(", ") : v])
    .filter(([, v]) => isScalar(v));
  if (!rows.length) return null;
  return h(
    "dl",
    { class: "kv" },
    rows.map(([k, v]) => [h("dt", {}, humanize(k)), h("dd", {}, scalarText(k, v))]),
  );
}

/** A training summary is an object with a per-epoch `history` array (candidates and ranker alike). */
function isSummary(v) {
  return isObject(v) && Array.isArray(v.history) && v.history.every((r) => isObject(r) && "epoch" in r);
}

const METRIC_NAME = /@|^(hr|ndcg|recall|map|mrr|auc|loss|logloss|precision)/i;

/** Objects of metric values only (bestValid, valid, test…), told apart from numeric settings by their keys. */
function isMetrics(v) {
  const entries = isObject(v) ? Object.entries(v) : [];
  return entries.length > 0 && entries.every(([k, x]) => typeof x === "number" && METRIC_NAME.test(k));
}

/** Walks the card once, collecting summaries, metric groups and config blocks by their path. */
function collect(card) {
  const found = { summaries: [], metrics: [], config: [] };
  const walk = (v, path) => {
    if (!isObject(v)) return;
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path} › ${k}` : k;
      if (k === "config" && isObject(x)) found.config.push([p, x]);
      else if (isSummary(x)) {
        found.summaries.push([p, x]);
        walk({ ...x, history: undefined }, p);
      } else if (isMetrics(x)) found.metrics.push([p, x]);
      else if (isObject(x)) walk(x, p);
    }
  };
  walk(card, "");
  return found;
}

/** "summary › bestValid" reads as "validation (best epoch)"; other paths are humanized as they are. */
function metricsTitle(path) {
  return path
    .split(" › ")
    .filter((p) => p !== "summary")
    .map((p) => (p === "bestValid" ? "validation (best epoch)" : humanize(p)))
    .join(" › ");
}

function metricsTable(groups) {
  const cols = [...new Set(groups.flatMap(([, m]) => Object.keys(m)))];
  return h(
    "table",
    { class: "metrics" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, ""),
        cols.map((c) => h("th", { scope: "col" }, humanize(c))),
      ),
    ),
    h(
      "tbody",
      {},
      groups.map(([name, m]) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, metricsTitle(name)),
          cols.map((c) => h("td", {}, fmt(m[c], 4))),
        ),
      ),
    ),
  );
}

/** A line chart of one per-epoch series as inline SVG (no library): axes, grid, points, best epoch. */
function lineChart(title, rows, key) {
  const pts = rows.filter((r) => typeof r[key] === "number" && Number.isFinite(r[key]));
  const W = 320;
  const H = 180;
  const m = { l: 44, r: 12, t: 10, b: 28 };
  const xs = pts.map((r) => r.epoch);
  const ys = pts.map((r) => r[key]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y0 === y1) {
    y0 -= Math.abs(y0) * 0.1 || 1;
    y1 += Math.abs(y1) * 0.1 || 1;
  }
  const pad = (y1 - y0) * 0.08;
  y0 -= pad;
  y1 += pad;
  const X = (x) => m.l + (x1 === x0 ? (W - m.l - m.r) / 2 : ((x - x0) / (x1 - x0)) * (W - m.l - m.r));
  const Y = (y) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const lowerIsBetter = /loss/i.test(key);
  const bestY = lowerIsBetter ? Math.min(...ys) : Math.max(...ys);
  const grid = [];
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    grid.push(
      s("line", { class: "grid", x1: m.l, x2: W - m.r, y1: Y(y), y2: Y(y) }),
      s("text", { x: m.l - 4, y: Y(y) + 3, "text-anchor": "end" }, fmt(y, Math.abs(y1) < 1 ? 3 : 2)),
    );
  }
  const xticks = [...new Set(xs)].filter((_, i, a) => a.length <= 10 || i % Math.ceil(a.length / 10) === 0);
  const summary = `${title} per epoch: ${fmt(ys[0], 4)} at epoch ${xs[0]} to ${fmt(ys[ys.length - 1], 4)} at epoch ${
    xs[xs.length - 1]
  }; best ${fmt(bestY, 4)}`;
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary },
    s("title", {}, summary),
    grid,
    s("line", { class: "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }),
    s("line", { class: "axis", x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }),
    xticks.map((x) => s("text", { x: X(x), y: H - m.b + 14, "text-anchor": "middle" }, String(x))),
    s("text", { x: (m.l + W - m.r) / 2, y: H - 2, "text-anchor": "middle" }, "epoch"),
    s("polyline", { class: "line", points: pts.map((r) => `${X(r.epoch)},${Y(r[key])}`).join(" ") }),
    pts.map((r) =>
      s(
        "circle",
        {
          class: r[key] === bestY ? "dot best" : "dot",
          cx: X(r.epoch),
          cy: Y(r[key]),
          r: r[key] === bestY ? 4 : 2.5,
        },
        s("title", {}, `epoch ${r.epoch}: ${fmt(r[key], 4)}`),
      ),
    ),
  );
  return h("figure", { class: "chart", "data-metric": key }, h("figcaption", {}, title), svg);
}

/** "summary" is the candidate generator's (a stage-one manifest); nested ones are named by their path. */
function summaryTitle(path) {
  if (path === "summary") return "candidate generator";
  return humanize(path.replace(/ › summary$/, ""));
}

function summarySection(name, summary) {
  const series = [
    ...new Set(summary.history.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] === "number"))),
  ].filter((k) => k !== "epoch" && k !== "seconds" && summary.history.some((r) => typeof r[k] === "number"));
  // Validation metrics first, the losses last (the ranker's "trainLoss" / "validLoss" too).
  series.sort((a, b) => Number(/loss/i.test(a)) - Number(/loss/i.test(b)));
  return h(
    "section",
    { class: "panel summary" },
    h("h3", {}, `Training: ${summaryTitle(name)}`),
    kvList(summary),
    summary.history.length
      ? h(
          "div",
          { class: "charts" },
          series.map((k) =>
            lineChart(`${/loss/i.test(k) ? "" : "validation "}${humanize(k)}`, summary.history, k),
          ),
        )
      : h("p", { class: "note" }, "No per-epoch history recorded."),
  );
}

async function loadModelCard() {
  const model = await api("GET", "/v1/model");
  const card = model.card ?? model;
  const found = collect(card);
  const root = $("model-card");
  // The genre list feeds the filter; the card shows the rest.
  const { card: _card, genres: _genres, ...top } = model;
  root.replaceChildren();
  append(root, [
    h(
      "div",
      { class: "card-grid" },
      h("section", { class: "panel" }, h("h3", {}, "Model"), kvList(top)),
      h("section", { class: "panel" }, h("h3", {}, "Data and training"), kvList(card)),
    ),
    found.metrics.length
      ? h("section", { class: "panel" }, h("h3", {}, "Metrics"), metricsTable(found.metrics))
      : h("p", { class: "note" }, "No metrics recorded in the model."),
    found.summaries.map(([name, sm]) => summarySection(name, sm)),
    found.config.map(([name, c]) =>
      h(
        "details",
        { class: "panel" },
        h("summary", {}, `Configuration (${name})`),
        h("pre", { class: "config" }, JSON.stringify(c, null, 2)),
      ),
    ),
  ]);
  return model;
}

async function loadStatus() {
  const model = await api("GET", "/v1/model");
  const card = model.card ?? {};
  const trained = card.createdAt ?? card.trainedAt ?? model.createdAt;
  const parts = [
    model.hasRanker ? "Model: two-stage" : "Model: candidate generator only",
    card.dataset ? `on ${card.dataset}` : "",
    trained ? `trained ${new Date(trained).toLocaleString()}` : "",
    model.version ? `version ${model.version}` : "",
  ];
  $("model-status").textContent = parts.filter(Boolean).join(" · ");
  for (const g of model.genres ?? []) addGenre(g);
  if (model.hasRanker === false) {
    // Stage one alone: the two-stage choice would be refused by the server.
    const two = $("opt-stage").querySelector('option[value="two"]');
    two.disabled = true;
    two.textContent = "two-stage (no ranker)";
    $("opt-stage").value = "candidates";
  }
}

// ---------- wiring ----------

function showView(view) {
  for (const tab of document.querySelectorAll(".tab"))
    tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
  $("view-recs").hidden = view !== "recs";
  $("view-model").hidden = view !== "model";
  if (view === "model") guarded(loadModelCard);
}

function start() {
  $("user-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("user-id").value.trim();
    if (id) guarded(() => loadUser(id), e.submitter);
  });
  $("item-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("item-id").value.trim();
    if (id) guarded(() => openItem(id), e.submitter);
  });
  $("anon-start").addEventListener("click", (e) => {
    state.anonHistory = [];
    guarded(loadAnon, e.currentTarget);
  });
  for (const id of ["opt-stage", "opt-genre", "opt-k", "opt-explain"])
    $(id).addEventListener("change", () => guarded(reload));
  for (const tab of document.querySelectorAll(".tab"))
    tab.addEventListener("click", () => showView(tab.dataset.view));
  $("error-close").addEventListener("click", clearError);
  guarded(loadStatus);
}

start();
