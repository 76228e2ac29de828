// The formula evaluator: the user types f(x) (with named params); the C++
// core parses it, evaluates it over the plotted range in one call and
// differentiates it exactly (forward-mode AD). f and f′ are plotted, an error
// points at its column, and a registry activation can be overlaid to check
// the result (x*sigmoid(x) against silu, log(1+exp(x)) against softplus).
import { DlmathError, type DlFormula } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { renderMath } from '../ui/math.js';
import { LinePlot } from '../ui/plots/line.js';
import { grid } from '../ui/sampler.js';
import { controlGroup, readout, select, slider } from '../ui/widgets.js';
import { guard, storedRangeProbe } from './common.js';
import type { FamilyView, Shown, ViewContext } from './view.js';

const DEFAULT_TEXT = 'x*sigmoid(1.702*x)';
const MAX_TEXT = 1000;
const POINTS = 2001;

const EXAMPLES = [
  'x*sigmoid(1.702*x)',
  'x*sigmoid(x)',
  'log(1+exp(x))',
  '0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3)))',
  'x*tanh(log1p(exp(x)))',
  'a*x^2 - tanh(b*x)',
  'max(x, alpha*x)',
  'sin(x)/x',
  'exp(-x^2/2)/sqrt(2*pi)',
];

const L = {
  en: {
    input: 'Your formula f(x)',
    examples: 'Examples',
    pick: 'pick one…',
    range: 'Range',
    xmin: 'x min',
    xmax: 'x max',
    probe: 'probe x',
    params: 'Parameters of the formula',
    compare: 'Overlay a catalogue entry',
    none: 'none',
    f: 'f(x)',
    df: 'f′(x), exact (automatic differentiation)',
    parsed: 'As parsed',
    maxDiff: 'largest difference from',
    errorAt: (column: number) => `The formula cannot be read at column ${column}.`,
    error: 'The formula cannot be evaluated.',
    stale: (last: string) => `The plots are greyed: they still show the last formula that worked, ${last}.`,
    noteDf:
      'The derivative comes from the core’s automatic differentiation of the parsed expression, evaluated on the same float32 grid as f.',
  },
  zh: {
    input: '你的公式 f(x)',
    examples: '示例',
    pick: '选择一个…',
    range: '范围',
    xmin: 'x 最小值',
    xmax: 'x 最大值',
    probe: '探针 x',
    params: '公式中的参数',
    compare: '叠加一个目录条目',
    none: '无',
    f: 'f(x)',
    df: 'f′(x),精确值(自动微分)',
    parsed: '解析结果',
    maxDiff: '与下列条目的最大差值',
    errorAt: (column: number) => `公式在第 ${column} 列无法解析。`,
    error: '公式无法求值。',
    stale: (last: string) => `图已变灰:显示的仍是上一个有效的公式 ${last}。`,
    noteDf: '导数由内核对解析后的表达式做自动微分得到,与 f 在同一个 float32 网格上求值。',
  },
};

/** Builds the evaluator page. */
export function createLesson(host: HTMLElement, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const activations = dl.ops().filter((o) => o.form === 'elementwise' && o.kind === 'op' && o.inputs.length === 1);

  let text = store.text('f', DEFAULT_TEXT, MAX_TEXT);
  let cmp = store.choice('cmp', ['', ...activations.map((o) => o.id)], '');

  // The editor: the text, a caret line under an error, the parsed LaTeX.
  const editor = controlGroup(host, t.input);
  const input = h('input', {
    id: 'formula-text',
    type: 'text',
    class: 'formula-input wide',
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-label': 'f(x)',
    'aria-describedby': 'formula-error',
    'data-testid': 'formula-text',
    maxlength: MAX_TEXT,
  });
  input.value = text;
  const errorBox = h('div', {
    id: 'formula-error',
    class: 'formula-error',
    role: 'status',
    'data-testid': 'formula-error',
  });
  const caretLine = h('pre', { class: 'formula-caret', 'aria-hidden': 'true', 'data-testid': 'formula-caret' });
  const errorText = h('p', { class: 'formula-message', 'data-testid': 'formula-message' });
  const staleText = h('p', { class: 'formula-message muted', 'data-testid': 'formula-stale' });
  errorBox.append(caretLine, errorText, staleText);
  errorBox.hidden = true;
  const parsed = h('div', { class: 'math formula-parsed', 'data-testid': 'formula-latex' });
  editor.append(h('div', { class: 'formula-row' }, input), errorBox, parsed);
  select(
    editor,
    {
      id: 'formula-examples',
      label: t.examples,
      options: [{ value: '', label: t.pick }, ...EXAMPLES.map((e) => ({ value: e, label: e }))],
      value: '',
    },
    (v) => {
      if (!v) return;
      input.value = v;
      setText(v);
    },
  );
  select(
    editor,
    {
      id: 'formula-compare',
      label: t.compare,
      options: [
        { value: '', label: t.none },
        ...activations.map((o) => ({ value: o.id, label: `${o.id} · ${o.title[ctx.lang]}` })),
      ],
      value: cmp,
    },
    (v) => {
      cmp = v;
      store.set('cmp', v, '');
      rebuildPlots();
      update();
    },
  );
  const range = controlGroup(host, t.range);
  const xr = storedRangeProbe(range, store, 'formula', t, update);
  const probeOut = readout(range, 'formula-readout');
  const paramBox = controlGroup(host, t.params);
  paramBox.hidden = true;

  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const figF = new Figure(figures, t.f, ctx.lang, 'figure-f');
  const figDf = new Figure(figures, t.df, ctx.lang, 'figure-df');
  figDf.setNote(t.noteDf);
  const onPick = xr.pick;
  const opts = (label: string) => ({
    series: [{ label }, ...(cmp ? [{ label: cmp, color: 2, dash: [6, 4], width: 1.5 }] : [])],
    syncKey: 'dlmath-formula',
    onPick,
  });
  const plotF = new LinePlot(figF.body, opts('f'));
  const plotDf = new LinePlot(figDf.body, opts('f′'));
  figF.attach(plotF);
  figDf.attach(plotDf);
  function rebuildPlots(): void {
    plotF.setOptions(opts('f'));
    plotDf.setOptions(opts('f′'));
  }

  let formula: DlFormula | null = null;
  let paramValues: Record<string, number> = {};
  let shown: Shown[] = [];

  function showError(err: unknown): void {
    const e = err instanceof DlmathError ? err : null;
    const column = e?.column ?? 0;
    const length = Math.max(1, e?.length ?? 1);
    errorBox.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    caretLine.textContent = column > 0 ? `${input.value}\n${' '.repeat(column - 1)}${'^'.repeat(length)}` : '';
    caretLine.hidden = column <= 0;
    // The engine's message is English; the page says where in the user's language first, and the
    // message's own "column N:" is then left out rather than said twice.
    const detail = (err instanceof Error ? err.message : String(err)).replace(/^column \d+:\s*/, '');
    errorText.textContent = `${column > 0 ? t.errorAt(column) : t.error} ${detail}`;
    // The plots keep the last formula that worked: greyed, and said so.
    figures.classList.toggle('stale', formula !== null);
    staleText.textContent = formula ? t.stale(formula.text) : '';
    staleText.hidden = !formula;
    if (column > 0 && document.activeElement !== input) input.setSelectionRange(column - 1, column - 1 + length);
  }

  function clearError(): void {
    errorBox.hidden = true;
    figures.classList.remove('stale');
    input.removeAttribute('aria-invalid');
  }

  // Compiles the text; on error the previous formula stays plotted.
  function compile(): void {
    let next: DlFormula;
    try {
      next = dl.formula(text);
    } catch (err) {
      showError(err);
      return;
    }
    clearError();
    formula?.dispose();
    formula = next;
    // The core's LaTeX of what it parsed; should KaTeX not read it, the source shown is the message enough.
    renderMath(parsed, `f(x) = ${next.latex}`, () => {});
    buildParams(next.params);
  }

  function buildParams(names: readonly string[]): void {
    paramBox.replaceChildren(h('h3', { text: t.params }));
    paramBox.hidden = names.length === 0;
    const values: Record<string, number> = {};
    for (const name of names) {
      const key = `a.${name}`;
      values[name] = store.num(key, paramValues[name] ?? 1, -1e4, 1e4);
      slider(
        paramBox,
        { id: `formula-param-${name}`, label: name, min: -5, max: 5, step: 0.01, value: values[name]! },
        (v) => {
          paramValues[name] = v;
          store.set(key, v, 1);
          update();
        },
      );
    }
    paramValues = values;
  }

  function setText(next: string): void {
    text = next.slice(0, MAX_TEXT);
    store.set('f', text, DEFAULT_TEXT);
    compile();
    update();
  }
  input.addEventListener('input', () => setText(input.value));

  function render(): void {
    shown = [];
    if (!formula) return;
    if (!(xr.xmin < xr.xmax)) return ctx.report('range', new Error(`x: [${xr.xmin}, ${xr.xmax}]`));
    ctx.report('range', null);
    const fm = formula;
    guard(ctx, 'formula', () => {
      const xs = grid(xr.xmin, xr.xmax, POINTS);
      const r = fm.evalWithGrad(xs, paramValues);
      const p = fm.evalWithGrad(Float32Array.of(xr.probe), paramValues);
      const fs = [r.value];
      const dfs = [r.grad];
      let note = '';
      if (cmp) {
        const y = dl.eval(cmp as never, { x: { shape: [POINTS], data: xs } } as never).data;
        const g = (
          dl.grad(cmp as never, { x: { shape: [POINTS], data: xs } } as never) as Record<string, { data: Float32Array }>
        ).x!.data;
        fs.push(y);
        dfs.push(g);
        let worstF = 0;
        let worstDf = 0;
        for (let i = 0; i < POINTS; ++i) {
          worstF = Math.max(worstF, Math.abs(r.value[i]! - y[i]!));
          worstDf = Math.max(worstDf, Math.abs(r.grad[i]! - g[i]!));
        }
        note = `${t.maxDiff} ${cmp}: |Δf| ≤ ${worstF.toExponential(2)}, |Δf′| ≤ ${worstDf.toExponential(2)}`;
        const inputs = { x: { shape: [POINTS], data: Array.from(xs) } };
        shown.push(
          { label: `${cmp} overlay`, id: cmp, inputs, params: {}, what: 'value', values: Array.from(y) },
          { label: `${cmp}′ overlay`, id: cmp, inputs, params: {}, what: 'grad:x', values: Array.from(g) },
        );
      }
      figF.setNote(note);
      plotF.update(xs, fs);
      plotDf.update(xs, dfs);
      plotF.setMarks([{ x: xr.probe, y: p.value[0]!, color: 1 }]);
      plotDf.setMarks([{ x: xr.probe, y: p.grad[0]!, color: 1 }]);
      probeOut.textContent = `x = ${formatF32(Math.fround(xr.probe))}   f(x) = ${formatF32(p.value[0]!)}   f′(x) = ${formatF32(p.grad[0]!)}`;
      const inputs = { x: { shape: [POINTS], data: Array.from(xs) } };
      shown.push(
        {
          label: 'f',
          id: fm.text,
          inputs,
          params: { ...paramValues },
          what: 'formula',
          values: Array.from(r.value),
        },
        {
          label: 'f′',
          id: fm.text,
          inputs,
          params: { ...paramValues },
          what: 'formula-grad',
          values: Array.from(r.grad),
        },
      );
    });
  }

  function update(): void {
    ctx.changed();
    render();
  }

  compile();
  return {
    render,
    shown: () => shown,
    destroy() {
      formula?.dispose();
      formula = null;
      plotF.destroy();
      plotDf.destroy();
    },
  };
}
