// The GPT page: data, pretraining (L1), sampling, next-character
// probabilities, attention, fine-tuning with L2 and L3, checkpoints and
// export. The model lives in the page's worker (worker.ts); this module
// only draws and sends requests.
import { h } from '../ui/dom.js';
import { htmlLang, initialLang, LANG_NAMES, LANGS, saveLang, type Lang } from '../ui/i18n.js';
import { applyTheme, THEMES, type Theme } from '../ui/theme.js';
import '../ui/style.css';
import './gpt.css';
import { heatmap, lineChart, type Series } from './charts.js';
import type {
  ConfigName,
  FinetuneProgress,
  FinetuneResult,
  ModelInfo,
  PretrainProgress,
  Reply,
  Request,
  Results,
} from './protocol.js';
import { GPT_LABELS, verdict, type GptLabels } from './text.js';
import { formulaCards } from './formulas.js';
import { parseHash, toHash } from '../state/store.js';
import { splitText, type GptAttention, type GptHistory, type TokenProbability } from '../engine/index.js';

const THEME_KEY = 'dlmath.theme';
const DB = { name: 'dlmath-gpt', store: 'checkpoints', key: 'latest' };

// The link's keys, in the query or the hash (as the catalogue's links): embed=1 gives the compact
// layout for an <iframe> in documentation, lang and theme choose the language and colours of this
// visit (the menus' stored choices are left alone). Other keys are ignored.
const link = new Map([...new URLSearchParams(location.search), ...parseHash(location.hash).values]);
const embed = link.get('embed') === '1';
const linkedLang = (LANGS as readonly string[]).includes(link.get('lang') ?? '') ? (link.get('lang') as Lang) : null;
const linkedTheme = (THEMES as readonly string[]).includes(link.get('theme') ?? '')
  ? (link.get('theme') as Theme)
  : null;

// A panel's title "2 · Pretraining (L1)": the running number in its own span, so the embedded
// page, which shows only some panels, can hide the numbers.
function panelTitle(text: string): HTMLElement {
  const m = /^(\d+ · )(.*)$/.exec(text);
  return m ? h('h2', {}, h('span', { class: 'panel-number', text: m[1] }), m[2]) : h('h2', { text });
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

// ---- the worker ------------------------------------------------------------

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<
  number,
  { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (p: unknown) => void }
>();
worker.onmessage = (e: MessageEvent<Reply>) => {
  const r = e.data;
  const p = pending.get(r.id);
  if (!p) return;
  if ('progress' in r) p.progress?.(r.progress);
  else {
    pending.delete(r.id);
    if ('error' in r) p.reject(Object.assign(new Error(r.error.message), { code: r.error.code }));
    else p.resolve(r.result);
  }
};

function call<C extends Request['cmd']>(
  req: Extract<Request, { cmd: C }>,
  progress?: (p: unknown) => void,
): Promise<Results[C]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
    worker.postMessage({ id, req });
  });
}

// ---- state -----------------------------------------------------------------

interface State {
  lang: Lang;
  theme: Theme;
  source: 'names' | 'text';
  text: string;
  config: ConfigName;
  steps: number;
  info: ModelInfo | null;
  busy: '' | 'pretrain' | 'finetune';
  train: [number, number][];
  val: [number, number][];
  last: PretrainProgress | null;
  temperature: number;
  topK: number;
  samples: string[];
  prefix: string;
  next: TokenProbability[];
  name: string;
  attention: GptAttention | null;
  lambda: number;
  ftSteps: number;
  ft: [number, number][][];
  ftResult: Pick<FinetuneResult, 'majority' | 'accuracy' | 'lambda' | 'steps' | 'validation'> | null;
  message: string;
  error: string;
}

const state: State = {
  lang: linkedLang ?? initialLang(storage(), navigator.language),
  theme: linkedTheme ?? (storage()?.getItem(THEME_KEY) as Theme | null) ?? 'auto',
  source: 'names',
  text: '',
  config: 'S',
  steps: 1000,
  info: null,
  busy: '',
  train: [],
  val: [],
  last: null,
  temperature: 0.8,
  topK: 0,
  samples: [],
  prefix: 'mar',
  next: [],
  name: 'isabella',
  attention: null,
  lambda: 0.5,
  ftSteps: 300,
  ft: [[], [], []],
  ftResult: null,
  message: '',
  error: '',
};

declare global {
  interface Window {
    /** Test hook: the page's state. */
    dlmathGpt?: { state(): State };
  }
}
window.dlmathGpt = { state: () => state };

// ---- the page --------------------------------------------------------------

const root = document.getElementById('gpt-root')!;
const t = (): GptLabels => GPT_LABELS[state.lang];

function fail(e: unknown): void {
  state.error = e instanceof Error ? e.message : String(e);
  state.message = '';
  render();
}

function say(msg: string): void {
  state.message = msg;
  state.error = '';
  render();
}

function number(id: string, value: number, min: number, max: number, step: number, set: (v: number) => void) {
  const el = h('input', { id, type: 'number', value, min, max, step, 'data-testid': id });
  el.addEventListener('change', () => {
    const v = Number(el.value);
    if (Number.isFinite(v)) set(Math.min(max, Math.max(min, v)));
    render();
  });
  return el;
}

function button(id: string, text: string, onClick: () => void, disabled = false): HTMLButtonElement {
  const b = h('button', { id, type: 'button', 'data-testid': id, text, disabled });
  b.addEventListener('click', onClick);
  return b;
}

function textInput(id: string, value: string, set: (v: string) => void, after: () => void): HTMLInputElement {
  const el = h('input', { id, type: 'text', value, 'data-testid': id, autocomplete: 'off', spellcheck: 'false' });
  el.addEventListener('change', () => {
    set(el.value);
    after();
  });
  return el;
}

async function pretrain(): Promise<void> {
  state.busy = 'pretrain';
  say('');
  try {
    if (!state.info) {
      state.train = [];
      state.val = [];
      state.info = await call({
        cmd: 'init',
        source: state.source,
        text: state.text,
        config: state.config,
        steps: state.steps,
      });
      render();
    }
    const r = await call({ cmd: 'pretrain', steps: state.steps }, (p) => {
      const g = p as PretrainProgress;
      state.last = g;
      state.train.push([g.step, g.loss]);
      if (g.val) state.val.push([g.step, g.val.loss]);
      refreshTraining();
    });
    if (Number.isFinite(r.val.loss)) state.val.push([r.step, r.val.loss]);
    state.info = { ...state.info, step: r.step };
    // Busy until the samples and probes of the trained model are shown, so that
    // "not busy" means the page shows this model (a test, or a fast click, reads them).
    await afterTraining();
    state.busy = '';
    render();
  } catch (e) {
    state.busy = '';
    fail(e);
  }
}

async function afterTraining(): Promise<void> {
  state.samples = await call({ cmd: 'sample', count: 12, temperature: state.temperature, topK: state.topK, seed: 1 });
  await refreshProbe();
  render();
}

async function refreshProbe(): Promise<void> {
  if (!state.info) return;
  try {
    state.next = await call({ cmd: 'next', prefix: state.prefix });
    state.attention = await call({ cmd: 'attention', text: state.name });
    state.error = '';
  } catch (e) {
    state.error = (e as Error).message;
  }
}

async function finetune(): Promise<void> {
  try {
    state.busy = 'finetune';
    state.ft = [[], [], []];
    state.ftResult = null;
    say('');
    const r = await call({ cmd: 'finetune', steps: state.ftSteps, lambda: state.lambda }, (p) => {
      const g = p as FinetuneProgress;
      g.accuracy.forEach((a, i) => state.ft[i]!.push([g.step, a]));
      state.last = state.last ? { ...state.last, stepsPerSecond: g.stepsPerSecond } : null;
      refreshTraining();
    });
    state.ftResult = r;
    state.busy = '';
    render();
  } catch (e) {
    state.busy = '';
    fail(e);
  }
}

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function idb<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB.name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(DB.store);
    open.onerror = () => reject(open.error ?? new Error('IndexedDB unavailable'));
    open.onsuccess = () => {
      const tx = open.result.transaction(DB.store, mode);
      const req = fn(tx.objectStore(DB.store));
      tx.oncomplete = () => {
        open.result.close();
        resolve(req.result as T);
      };
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB failed'));
    };
  });
}

// The curves kept in a checkpoint (GptHistory): pretraining's and the last fine-tuning's.
function history(): GptHistory {
  const f = state.ftResult;
  return {
    train: state.train,
    validation: state.val,
    finetune: f
      ? { runs: state.ft, lambda: f.lambda, steps: f.steps, majority: f.majority, validation: f.validation }
      : null,
  };
}

async function load(json: string): Promise<void> {
  const { history, ...info } = await call({ cmd: 'load', json });
  state.info = info;
  state.config = info.config;
  state.source = info.names ? 'names' : 'text';
  state.last = null;
  state.train = history?.train ?? [];
  state.val = history?.validation ?? [];
  const f = history?.finetune;
  state.ft = f?.runs ?? [[], [], []];
  // Each run's accuracy is its curve's last point.
  const accuracy = f?.runs.map((r) => r.at(-1)?.[1] ?? NaN) as [number, number, number];
  state.ftResult = f
    ? { majority: f.majority, accuracy, lambda: f.lambda, steps: f.steps, validation: f.validation }
    : null;
  if (f) {
    state.ftSteps = f.steps;
    state.lambda = f.lambda;
  }
  await afterTraining();
  say(`${t().loaded} ${info.step}`);
}

// The parts that change while training, updated in place, and the pasted
// text's box, kept across renders (a large text is costly to lay out again).
const live = {
  stats: h('p'),
  chart: h('div'),
  ftChart: h('div'),
  area: h('textarea', { id: 'gpt-text', rows: 5, 'data-testid': 'gpt-text', spellcheck: 'false' }),
};
live.area.addEventListener('change', () => {
  state.text = live.area.value;
  state.info = null;
  // Oversized text is refused at once (the engine's own check), and the box emptied: laying out
  // megabytes of text at every redraw would freeze the page.
  try {
    if (state.text.trim()) splitText(state.text, 16);
    state.error = '';
  } catch (e) {
    state.text = '';
    live.area.value = '';
    state.error = (e as Error).message;
  }
  render();
});

// The formulas panel's content and the language it was typeset in.
const formulaBox: { lang: Lang | null; el: HTMLElement } = { lang: null, el: h('div') };

// The same view on the full page: the link's keys without embed, in the language shown.
function openHref(): string {
  const keys = new Map(link);
  keys.delete('embed');
  keys.set('lang', state.lang);
  return `${location.pathname}#${toHash(keys)}`;
}

function refreshTraining(): void {
  const l = t();
  const last = state.last;
  const train = state.train.at(-1);
  const val = state.val.at(-1);
  live.stats.replaceChildren(
    `${l.step} ${last?.step ?? state.info?.step ?? 0}`,
    train ? ` · ${l.trainLoss} ${train[1].toFixed(3)}` : '',
    val ? ` · ${l.valLoss} ${val[1].toFixed(3)} · ${l.perplexity} ${Math.exp(val[1]).toFixed(2)}` : '',
    last ? ` · ${last.stepsPerSecond.toFixed(1)} ${l.speed}` : '',
  );
  live.chart.replaceChildren(
    lineChart(
      [
        { label: l.trainLoss, color: 'var(--s0)', points: state.train },
        { label: l.valLoss, color: 'var(--s1)', points: state.val },
      ],
      { x: l.step, y: 'nats', title: `${l.trainLoss}, ${l.valLoss}`, xMax: state.steps },
    ),
  );
  const maj = state.ftResult?.majority;
  const series: Series[] = state.ft.map((pts, i) => ({
    label: l.runs[i]!,
    color: `var(--s${i + 2})`,
    points: pts,
  }));
  if (maj !== undefined)
    series.push({
      label: l.majority,
      color: 'var(--fg-muted)',
      points: [
        [0, maj],
        [state.ftSteps, maj],
      ],
      dashed: true,
    });
  live.ftChart.replaceChildren(
    lineChart(series, { x: l.step, y: l.accuracy, title: l.accuracy, yMin: 0.4, yMax: 1, xMax: state.ftSteps }),
  );
}

function legend(items: { label: string; color: string; dashed?: boolean }[]): HTMLElement {
  return h(
    'ul',
    { class: 'legend' },
    ...items.map((i) =>
      h(
        'li',
        {},
        h('span', {
          class: 'swatch',
          style: `border-color: ${i.color}; border-style: ${i.dashed ? 'dashed' : 'solid'}`,
        }),
        i.label,
      ),
    ),
  );
}

// A change event fired by the blur of an input that a redraw is removing
// would redraw inside that redraw: it waits for the outer one instead.
let rendering = false;
function render(): void {
  if (rendering) {
    queueMicrotask(render);
    return;
  }
  rendering = true;
  try {
    draw();
  } finally {
    rendering = false;
  }
}

function draw(): void {
  const l = t();
  document.documentElement.lang = htmlLang(state.lang);
  document.title = `dlmath · ${l.title}`;
  const busy = state.busy !== '';
  const noModel = !state.info;

  const langSel = h('select', { id: 'gpt-lang', 'data-testid': 'lang-select' });
  langSel.append(...LANGS.map((x) => h('option', { value: x, text: LANG_NAMES[x], selected: x === state.lang })));
  langSel.addEventListener('change', () => {
    state.lang = langSel.value as Lang;
    saveLang(storage(), state.lang);
    render();
  });
  const themeSel = h('select', { id: 'gpt-theme', 'data-testid': 'theme-select' });
  themeSel.append(...THEMES.map((x) => h('option', { value: x, text: l.themes[x] ?? x, selected: x === state.theme })));
  themeSel.addEventListener('change', () => {
    state.theme = themeSel.value as Theme;
    try {
      storage()?.setItem(THEME_KEY, state.theme);
    } catch {
      // the choice still applies
    }
    applyTheme(state.theme);
  });

  const header = embed
    ? h(
        'header',
        { class: 'top gpt-embed-top' },
        h('h1', {}, h('span', { class: 'logo', text: 'dlmath' }), ' ', h('span', { text: l.title })),
        h('a', {
          class: 'gpt-open',
          href: openHref(),
          target: '_blank',
          rel: 'noopener',
          'data-testid': 'open-full',
          text: l.openFull,
        }),
      )
    : h(
        'header',
        { class: 'top' },
        h(
          'div',
          { class: 'brand' },
          h('h1', {}, h('a', { class: 'logo', href: './' }, 'dlmath'), ' ', h('span', { text: l.title })),
          h('p', { class: 'muted', text: l.tagline }),
        ),
        h(
          'div',
          { class: 'prefs' },
          h('a', { href: './', text: l.back }),
          h('label', { for: 'gpt-lang', text: l.language }),
          langSel,
          h('label', { for: 'gpt-theme', text: l.theme }),
          themeSel,
        ),
      );

  // 1 · data
  const radio = (value: 'names' | 'text', label: string) => {
    const r = h('input', {
      type: 'radio',
      name: 'source',
      value,
      checked: state.source === value,
      'data-testid': `source-${value}`,
    });
    r.addEventListener('change', () => {
      state.source = value;
      state.info = null;
      render();
    });
    return h('label', { class: 'inline' }, r, ' ', label);
  };
  const config = h('select', { id: 'gpt-config', 'data-testid': 'gpt-config' });
  config.append(
    h('option', { value: 'S', text: l.configS, selected: state.config === 'S' }),
    h('option', { value: 'M', text: l.configM, selected: state.config === 'M' }),
  );
  config.addEventListener('change', () => {
    state.config = config.value as ConfigName;
    state.info = null;
    render();
  });
  const data = h(
    'section',
    { class: 'panel' },
    panelTitle(l.dataTitle),
    radio('names', l.dataNames),
    radio('text', l.dataText),
    state.source === 'text' ? h('div', {}, h('label', { for: 'gpt-text', text: l.pasteLabel }), live.area) : null,
    h('p', { class: 'muted small', text: l.dataHint }),
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'whole' }, h('label', { for: 'gpt-config', text: l.configLabel }), config),
      h(
        'div',
        {},
        h('label', { for: 'gpt-steps', text: l.stepsLabel }),
        number('gpt-steps', state.steps, 1, 20000, 100, (v) => {
          state.steps = Math.round(v);
          state.info = null;
        }),
      ),
    ),
    state.info
      ? h('p', {
          class: 'muted small',
          'data-testid': 'model-info',
          text: `${state.info.parameters.toLocaleString()} ${l.params} · V = ${state.info.vocab} · ${state.info.texts} + ${state.info.validation}`,
        })
      : null,
  );

  // 2 · pretraining
  const started = state.info !== null && state.info.step > 0;
  const controls = h(
    'div',
    { class: 'buttons' },
    button('pretrain', started ? l.continue : l.start, () => void pretrain(), busy),
    button('stop', l.stop, () => void call({ cmd: 'stop' }), !busy),
    button(
      'reset',
      l.reset,
      () => {
        state.info = null;
        state.train = [];
        state.val = [];
        state.last = null;
        state.samples = [];
        state.next = [];
        state.attention = null;
        render();
      },
      busy,
    ),
  );
  const pre = h(
    'section',
    { class: 'panel span2' },
    panelTitle(l.pretrainTitle),
    embed ? null : h('p', { class: 'small', text: l.pretrainExplain }),
    controls,
    live.stats,
    live.chart,
    legend([
      { label: l.trainLoss, color: 'var(--s0)' },
      { label: l.valLoss, color: 'var(--s1)' },
    ]),
  );
  live.stats.setAttribute('data-testid', 'pretrain-stats');
  live.stats.setAttribute('aria-live', 'polite');

  // samples
  const samples = h(
    'section',
    { class: 'panel' },
    h('h3', { text: l.samplesTitle }),
    h(
      'div',
      { class: 'row' },
      h(
        'div',
        {},
        h('label', { for: 'gpt-temp', text: `${l.temperature}: ${state.temperature.toFixed(2)}` }),
        (() => {
          const r = h('input', {
            id: 'gpt-temp',
            type: 'range',
            min: 0.1,
            max: 2,
            step: 0.05,
            value: state.temperature,
          });
          r.addEventListener('change', () => {
            state.temperature = Number(r.value);
            void afterTraining();
          });
          return r;
        })(),
      ),
      h(
        'div',
        {},
        h('label', { for: 'gpt-topk', text: l.topK }),
        number('gpt-topk', state.topK, 0, 512, 1, (v) => (state.topK = Math.round(v))),
      ),
    ),
    button(
      'sample',
      l.sample,
      () =>
        void call({
          cmd: 'sample',
          count: 12,
          temperature: state.temperature,
          topK: state.topK,
          seed: Math.floor(Math.random() * 2 ** 31),
        })
          .then((s) => {
            state.samples = s;
            render();
          })
          .catch(fail),
      noModel || busy,
    ),
    h('ul', { class: 'samples', 'data-testid': 'samples' }, ...state.samples.map((n) => h('li', { text: n || '∅' }))),
  );

  // next character
  const next = h(
    'section',
    { class: 'panel span2' },
    h('h3', { text: l.nextTitle }),
    h('label', { for: 'gpt-prefix', text: l.prefix }),
    textInput(
      'gpt-prefix',
      state.prefix,
      (v) => (state.prefix = v.toLowerCase()),
      () => void refreshProbe().then(render),
    ),
    h(
      'ol',
      { class: 'bars', 'data-testid': 'next-probs' },
      ...state.next
        .slice(0, 10)
        .map((p) =>
          h(
            'li',
            {},
            h('span', { class: 'sym', text: p.symbol }),
            h('span', { class: 'bar' }, h('span', { style: `width: ${(100 * p.p).toFixed(1)}%` })),
            h('span', { class: 'num', text: `${(100 * p.p).toFixed(1)} %` }),
          ),
        ),
    ),
  );

  // attention
  const att = h(
    'section',
    { class: 'panel wide' },
    h('h3', { text: l.attentionTitle }),
    h('p', { class: 'small muted', text: l.attentionExplain }),
    h('label', { for: 'gpt-name', text: l.name }),
    textInput(
      'gpt-name',
      state.name,
      (v) => (state.name = v.toLowerCase()),
      () => void refreshProbe().then(render),
    ),
    h(
      'div',
      { class: 'heads', 'data-testid': 'attention' },
      ...(state.attention?.layers ?? []).flatMap((ly, li) =>
        ly.heads.map((w, hi) =>
          h(
            'figure',
            {},
            heatmap(w, state.attention!.tokens, `${l.layer} ${li + 1}, ${l.head} ${hi + 1}`),
            h('figcaption', { text: `${l.layer} ${li + 1} · ${l.head} ${hi + 1}` }),
          ),
        ),
      ),
    ),
  );

  // 3 · fine-tuning
  const lam = h('input', { id: 'gpt-lambda', type: 'range', min: 0, max: 2, step: 0.05, value: state.lambda });
  lam.addEventListener('input', () => {
    state.lambda = Number(lam.value);
    lamLabel.textContent = `${l.lambda}: ${state.lambda.toFixed(2)}`;
  });
  const lamLabel = h('label', { for: 'gpt-lambda', text: `${l.lambda}: ${state.lambda.toFixed(2)}` });
  const fr = state.ftResult;
  const ft = h(
    'section',
    { class: 'panel wide' },
    panelTitle(l.finetuneTitle),
    h('p', { class: 'small', text: l.finetuneExplain }),
    h(
      'div',
      { class: 'row' },
      h('div', {}, lamLabel, lam),
      h(
        'div',
        {},
        h('label', { for: 'gpt-ftsteps', text: l.ftSteps }),
        number('gpt-ftsteps', state.ftSteps, 10, 5000, 50, (v) => (state.ftSteps = Math.round(v))),
      ),
    ),
    h(
      'div',
      { class: 'buttons' },
      button('finetune', l.finetune, () => void finetune(), noModel || busy || state.source !== 'names'),
    ),
    live.ftChart,
    legend([
      ...l.runs.map((r, i) => ({ label: r, color: `var(--s${i + 2})` })),
      { label: l.majority, color: 'var(--fg-muted)', dashed: true },
    ]),
    h(
      'div',
      { class: 'claims' },
      h('div', {}, h('h3', { text: l.claimTitle }), h('p', { class: 'small', text: l.claim })),
      h(
        'div',
        {},
        h('h3', { text: l.showsTitle }),
        h('p', {
          class: 'small',
          'data-testid': 'verdict',
          text: fr ? verdict(state.lang, fr.accuracy, fr.majority, fr.validation) : l.noRun,
        }),
      ),
    ),
  );

  // 4 · save / load / export
  const file = h('input', { type: 'file', accept: '.json,application/json', id: 'gpt-file', hidden: true });
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f) void f.text().then(load).catch(fail);
  });
  const save = h(
    'section',
    { class: 'panel wide' },
    panelTitle(l.saveTitle),
    h(
      'div',
      { class: 'buttons' },
      button(
        'download',
        l.download,
        () =>
          void call({ cmd: 'checkpoint', history: history() })
            .then((j) => download('gpt-checkpoint.json', j, 'application/json'))
            .catch(fail),
        noModel || busy,
      ),
      button('upload', l.upload, () => file.click(), busy),
      file,
      button(
        'save-db',
        l.saveDb,
        () =>
          void call({ cmd: 'checkpoint', history: history() })
            .then((j) => idb('readwrite', (s) => s.put(j, DB.key)))
            .then(() => say(l.saved))
            .catch(fail),
        noModel || busy,
      ),
      button(
        'load-db',
        l.loadDb,
        () =>
          void idb<string | undefined>('readonly', (s) => s.get(DB.key))
            .then((j) => (j ? load(j) : say(l.noSaved)))
            .catch(fail),
        busy,
      ),
      button(
        'pytorch',
        l.pytorch,
        () =>
          void call({ cmd: 'pytorch' })
            .then((src) => download('gpt_model.py', src, 'text/x-python'))
            .catch(fail),
        noModel || busy,
      ),
    ),
  );

  // 5 · the model's formulas, typeset once per language (KaTeX is costly to run at every redraw)
  if (formulaBox.lang !== state.lang) {
    formulaBox.el.replaceChildren(formulaCards(state.lang, fail));
    formulaBox.lang = state.lang;
  }
  const formulas = h(
    'section',
    { class: 'panel wide', 'data-testid': 'formulas' },
    panelTitle(l.formulasTitle),
    h('p', { class: 'small muted', text: l.formulasIntro }),
    formulaBox.el,
  );

  const notice = h('div', {
    class: 'notice',
    role: 'alert',
    'data-testid': 'notice',
    hidden: !state.error,
    text: state.error,
  });
  const status = h('p', {
    class: 'status',
    role: 'status',
    'data-testid': 'status',
    text: state.message || l.ready,
  });
  root.replaceChildren(
    header,
    notice,
    status,
    // An embedded page (embed=1) starts with the chart: no data choice (the names), no files.
    h(
      'main',
      { class: 'gpt-grid', id: 'main-content' },
      ...(embed ? [pre, samples, next, att, ft, formulas] : [data, pre, samples, next, att, ft, save, formulas]),
    ),
  );
  refreshTraining();
}

document.body.classList.toggle('gpt-embed', embed);
applyTheme(state.theme);
render();
