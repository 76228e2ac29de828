// Regression losses: the loss and its gradient as the prediction x moves for
// a chosen target y. MSE, L1, Huber and smooth L1 are drawn together and fit a
// constant (or a line) to a small data set with a draggable outlier: MSE
// follows it, L1 and Huber resist. Poisson's x is log λ or λ; Gaussian NLL
// adds the predicted variance as a second axis.
import { formatF32 } from '../../ui/format.js';
import { Figure } from '../../ui/plots/figure.js';
import { type LineSeries, type Mark } from '../../ui/plots/line.js';
import { PlanePlot, type Path } from '../../ui/plots/plane.js';
import { grid as linspace } from '../../ui/sampler.js';
import { readout, select, textField, toggle } from '../../ui/widgets.js';
import { entryParams, gradOf, guard, record } from '../common.js';
import { forTable } from '../dispatch.js';
import type { FamilyView, Shown } from '../view.js';
import {
  argmin,
  CURVE_POINTS,
  ev,
  filled,
  fmt,
  lineFigure,
  parseList,
  reductionName,
  storeSlider,
  tensor,
  texts,
  withEnv,
  type Env,
  type Inputs,
  type Params,
} from './shared.js';

const L = {
  en: {
    compare: 'overlay MSE, L1 and Huber',
    variance: 'predicted variance var',
    gradNote:
      'The gradient is what training follows: it grows with the error for MSE, stays at ±1 for L1, and is the error clipped at δ for Huber.',
    fit: 'Fitting one constant c to the data: drag the points',
    fitNote:
      'Each line is the constant that minimises the mean loss over the points. Drag the outlier (top right) up and down: the MSE line (the mean) follows it, the L1 line (the median) and Huber barely move.',
    risk: 'Mean loss over the data as a function of the constant c',
    riskNote: 'Found by the engine over a grid of candidate constants (log scale); the dots are the minimisers.',
    data: 'data values',
    overData: (m: number, red: string) => `x predicted for all ${m} data points, reduction ${red}: ℓ =`,
    fitMode: 'fit to the data',
    fitLineTitle: 'Fitting a line a·i + b to the data: drag the points',
    fitLineNote:
      'Each line minimises the mean loss over the points. Drag the outlier at i = 7: the MSE line tilts towards it, the L1 line keeps following the other six points, and Huber, whose pull is capped at δ, stays close to L1.',
    fitConst: 'a constant c',
    fitLine: 'a line a·i + b',
    riskLine: 'Best mean loss for each slope a (minimised over b)',
    riskLineNote: 'From the engine’s mean losses over a grid of lines; the dots are the best lines’ slopes.',
    outlier: 'outlier',
    meanLoss: 'mean loss',
    best: 'best constant',
    bestLine: 'best line',
    varFig: 'Loss as the predicted variance changes, error fixed at the probe',
    varNote:
      'Too small a variance makes the squared error expensive, too large a variance costs log var: the optimum is var = (x − y)², where ∂ℓ/∂var = 0.',
    varOverlay: (k: string) => `var × ${k}`,
    poissonNote:
      'With log_input on, x is log λ and the loss e^x − y·x is smallest at x = log y; with it off, x is λ itself and the minimum sits at x = y.',
  },
  zh: {
    compare: '叠加 MSE、L1 与 Huber',
    variance: '预测方差 var',
    gradNote: '训练沿梯度进行:MSE 的梯度随误差增大,L1 的梯度恒为 ±1,Huber 的梯度是截断到 δ 的误差。',
    fit: '用一个常数 c 拟合数据:可拖动各点',
    fitNote:
      '每条水平线是使各点平均损失最小的常数。上下拖动右上角的离群点:MSE 的线(均值)跟着它走,L1 的线(中位数)和 Huber 的线几乎不动。',
    risk: '数据上的平均损失随常数 c 的变化',
    riskNote: '由引擎在一组候选常数上计算(对数坐标);圆点是各自的最小值点。',
    data: '数据值',
    overData: (m: number, red: string) => `对全部 ${m} 个数据点都预测 x,reduction 为 ${red}:ℓ =`,
    fitMode: '用什么拟合数据',
    fitLineTitle: '用直线 a·i + b 拟合数据:可拖动各点',
    fitLineNote:
      '每条直线使各点的平均损失最小。拖动 i = 7 处的离群点:MSE 的直线向它倾斜,L1 的直线仍然贴着其余六个点,Huber 的拉力被限制在 δ 以内,因此离 L1 不远。',
    fitConst: '常数 c',
    fitLine: '直线 a·i + b',
    riskLine: '每个斜率 a 下的最小平均损失(对 b 取最小)',
    riskLineNote: '由引擎对一组候选直线计算平均损失;圆点是各自最优直线的斜率。',
    outlier: '离群点',
    meanLoss: '平均损失',
    best: '最优常数',
    bestLine: '最优直线',
    varFig: '误差固定在探针处时,损失随预测方差的变化',
    varNote: '方差太小时平方误差代价高,方差太大时 log var 一项代价高:最优点是 var = (x − y)²,此处 ∂ℓ/∂var = 0。',
    varOverlay: (k: string) => `var × ${k}`,
    poissonNote: 'log_input 打开时 x 是 log λ,损失 e^x − y·x 在 x = log y 处最小;关闭时 x 就是 λ,最小值在 x = y 处。',
  },
};

/** How a regression loss is drawn. */
interface RegressionEntry {
  /** Its colour (the compared losses keep theirs on every figure of the page). */
  color: number;
  /** Drawn with MSE, L1 and Huber, and fitted to data with a draggable outlier. */
  robust: boolean;
  /** The defaults: target y (and the lower end of its slider), probe x and x range. */
  y: number;
  yMin: number;
  x: number;
  range: [number, number];
  /** 'poisson': x is log λ or λ (log_input), its minimum marked; 'gaussian': a predicted variance too. */
  kind?: 'poisson' | 'gaussian';
}

const PLAIN = { y: 0, yMin: -10, x: 1.5, range: [-4, 4] as [number, number] };
const ENTRIES: Record<string, RegressionEntry> = {
  mse: { color: 1, robust: true, ...PLAIN },
  l1: { color: 2, robust: true, ...PLAIN },
  huber: { color: 3, robust: true, ...PLAIN },
  smooth_l1: { color: 0, robust: true, ...PLAIN },
  poisson_nll: { color: 0, robust: false, y: 3, yMin: 0, x: 0.5, range: [-2, 3], kind: 'poisson' },
  gaussian_nll: { color: 0, robust: false, ...PLAIN, kind: 'gaussian' },
};

/** The regression losses' sub-view. */
export const regression = forTable(ENTRIES, (host, op, ctx, conf) =>
  withEnv(host, op, ctx, (env) => regressionView(env, conf)),
);

/** The default data for the outlier fit: six points near 1 and one far away. */
const FIT_DATA = [1, 1.4, 0.7, 1.2, 0.9, 1.1, 7];
const FIT_RANGE: [number, number] = [-2, 10];

/** The δ of the compared Huber loss: the entry's own when it has one. */
function huberDelta(p: Params): number {
  return 'delta' in p ? Number(p.delta) : 1;
}

function regressionView(env: Env, conf: RegressionEntry): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
  const { dl } = ctx;
  const id = op.id;
  const isPoisson = conf.kind === 'poisson';
  const isGauss = conf.kind === 'gaussian';
  const { robust } = conf;

  const xr0 = conf.range;
  const s = {
    y: storeSlider(env, 'y', t.target, conf.y, conf.yMin, 10, 0.01, (v) => (s.y.value = v)),
    x: storeSlider(env, 'x', t.probe, conf.x, -20, 20, 0.01, (v) => (s.x.value = v)),
    xmin: storeSlider(env, 'xmin', t.xmin, xr0[0], -20, 19, 0.1, (v) => (s.xmin.value = v)),
    xmax: storeSlider(env, 'xmax', t.xmax, xr0[1], -19, 20, 0.1, (v) => (s.xmax.value = v)),
    v: isGauss ? storeSlider(env, 'var', t.variance, 1, 0.01, 10, 0.01, (v) => (s.v!.value = v)) : null,
  };
  let compare = ctx.store.bool('cmp', true);
  if (robust)
    toggle(env.controls, { id: 'view-cmp', label: t.compare, checked: compare }, (c) => {
      compare = c;
      env.save('cmp', c, true);
    });
  let data = ctx.store.list('data', FIT_DATA, {
    min: FIT_RANGE[0],
    max: FIT_RANGE[1],
    minLen: FIT_DATA.length,
    maxLen: FIT_DATA.length,
  });
  let dataField: HTMLInputElement | null = null;
  if (robust)
    dataField = textField(
      env.controls,
      { id: 'view-data', label: t.data, value: data.join(', '), wide: true },
      (text) => {
        const v = parseList(text);
        if (!v || v.length !== FIT_DATA.length || v.some((x) => x < FIT_RANGE[0] || x > FIT_RANGE[1]))
          return ctx.report('data', new Error(`${t.data}: ${FIT_DATA.length} × [${FIT_RANGE.join(', ')}]`));
        ctx.report('data', null);
        data = v;
        env.save('data', v, FIT_DATA);
      },
    );
  let fitMode = ctx.store.choice('fit', ['const', 'line'] as const, 'const');
  if (robust)
    select(
      env.controls,
      {
        id: 'view-fit',
        label: t.fitMode,
        options: [
          { value: 'const', label: t.fitConst },
          { value: 'line', label: t.fitLine },
        ],
        value: fitMode,
      },
      (v) => {
        fitMode = v;
        env.save('fit', v, 'const');
      },
    );
  const out = readout(env.controls, 'loss-readout');

  // Which curves: the entry, then overlays.
  type Curve = { label: string; id: string; params: Params; dash?: number[]; color: number };
  // One colour per loss on every figure of the page.
  const myColor = conf.color;
  const curvesOf = (p: Params): Curve[] => {
    const me: Curve = { label: id, id, params: { ...p, reduction: 'none' }, color: myColor };
    if (!robust || !compare) return [me];
    const delta = huberDelta(p);
    const all: Curve[] = [
      { label: 'mse', id: 'mse', params: { reduction: 'none' }, color: 1 },
      { label: 'l1', id: 'l1', params: { reduction: 'none' }, color: 2 },
      { label: `huber δ=${fmt(delta)}`, id: 'huber', params: { reduction: 'none', delta }, color: 3 },
    ];
    return [me, ...all.filter((c) => c.id !== id).map((c) => ({ ...c, dash: [6, 4] }))];
  };
  const gaussK = [1, 0.25, 4];

  const seriesFor = (cs: Curve[]): LineSeries[] =>
    isGauss
      ? gaussK.map((k, i) => ({
          label: i === 0 ? id : t.varOverlay(String(k)),
          color: i,
          dash: i ? [6, 4] : undefined,
          width: i ? 1.5 : 2,
        }))
      : cs.map((c) => ({ label: c.label, color: c.color, dash: c.dash, width: c.dash ? 1.5 : 2 }));
  const onPick = (x: number) => {
    s.x.value = x;
    s.x.field.set(x);
    env.save('x', x, conf.x);
  };
  const fl = lineFigure(env, t.loss, 'figure-loss', seriesFor(curvesOf(entryParams(op, ctx.params))), {
    syncKey: 'dlmath-loss-x',
    onPick,
    xLabel: 'x',
  });
  const fg = lineFigure(
    env,
    t.grad,
    'figure-grad',
    seriesFor(curvesOf(entryParams(op, ctx.params))).map((q) => ({ ...q, label: `∂/∂x ${q.label}` })),
    {
      syncKey: 'dlmath-loss-x',
      onPick,
      xLabel: 'x',
    },
  );
  fl.fig.setNote(isPoisson ? t.poissonNote : t.lossNote);
  if (robust) fg.fig.setNote(t.gradNote);
  let seriesKey = '';

  // Gaussian: loss against the variance.
  const fv = isGauss ? lineFigure(env, t.varFig, 'figure-var', [{ label: 'ℓ(var)' }], { xLabel: 'log₁₀ var' }) : null;
  fv?.fig.setNote(t.varNote);

  // Robust fit: the plane of data points and the mean-loss curves.
  let plane: PlanePlot | null = null;
  let figFit: Figure | null = null;
  let fr: ReturnType<typeof lineFigure> | null = null;
  const fitLosses = (p: Params) => {
    const list = [
      { label: 'mse', id: 'mse', params: {} as Params, color: 1 },
      { label: 'l1', id: 'l1', params: {} as Params, color: 2 },
      { label: 'huber', id: 'huber', params: { delta: huberDelta(p) } as Params, color: 3 },
    ];
    // An entry other than these three is fitted too, with its own params.
    if (!list.some((f) => f.id === id)) {
      const { reduction: _, ...own } = p;
      list.push({ label: id, id, params: own, color: myColor });
    }
    return list;
  };
  if (robust) {
    const figP = new Figure(env.figures, t.fit, ctx.lang, 'figure-fit');
    figFit = figP;
    figP.root.classList.add('wide-figure');
    plane = new PlanePlot(figP.body, {
      x: [0, FIT_DATA.length + 1],
      y: FIT_RANGE,
      xLabel: 'i',
      yLabel: 'y',
      onDrag: (i, _x, y) => {
        data = data.slice();
        data[i] = Number(y.toFixed(2));
        if (dataField) dataField.value = data.join(', ');
        env.save('data', data, FIT_DATA);
      },
    });
    figP.attach(plane);
    figP.setNote(t.fitNote);
    fr = lineFigure(
      env,
      t.risk,
      'figure-risk',
      fitLosses(entryParams(op, ctx.params)).map((f) => ({ label: f.label, color: f.color })),
      { xLabel: 'c', logY: true },
    );
    fr.fig.setNote(t.riskNote);
  }

  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const y = s.y.value;
    const xmin = s.xmin.value;
    const xmax = s.xmax.value;
    if (!(xmin < xmax)) return ctx.report('range', new Error(`x: [${xmin}, ${xmax}]`));
    ctx.report('range', null);
    const rec2: Shown[] = [];
    guard(ctx, 'engine', () => {
      const n = CURVE_POINTS;
      // Poisson with log_input off reads x as the rate itself: keep the grid positive.
      const lo = isPoisson && Number(p.log_input) === 0 ? Math.max(xmin, 0.01) : xmin;
      const xs = linspace(lo, Math.max(xmax, lo + 0.1), n);
      const cs = curvesOf(p);
      const key = `${cs.map((c) => c.label).join()}|${isGauss}`;
      if (key !== seriesKey) {
        seriesKey = key;
        const ser = seriesFor(cs);
        fl.plot.setOptions({ series: ser });
        fg.plot.setOptions({ series: ser.map((q) => ({ ...q, label: `∂/∂x ${q.label}` })) });
      }
      const fs: Float32Array[] = [];
      const dfs: Float32Array[] = [];
      if (isGauss) {
        // One call: three rows of the grid, each with its own variance.
        const v = s.v!.value;
        const k = gaussK.length;
        const inX = new Float32Array(k * n);
        const inV = new Float32Array(k * n);
        gaussK.forEach((m, r) => {
          inX.set(xs, r * n);
          inV.fill(v * m, r * n, (r + 1) * n);
        });
        const inputs = {
          input: tensor(inX, [k, n]),
          target: tensor(filled(k * n, y), [k, n]),
          var: tensor(inV, [k, n]),
        };
        const params = { ...p, reduction: 'none' };
        const f = ev(dl, id, inputs, params);
        const df = gradOf(dl, id, inputs, params, 'input');
        for (let r = 0; r < k; ++r) {
          fs.push(f.subarray(r * n, (r + 1) * n));
          dfs.push(df.subarray(r * n, (r + 1) * n));
        }
        const pick = Array.from({ length: n }, (_, i) => i);
        rec2.push(record('loss curve (var × 1)', id, inputs, params, 'value', f.subarray(0, n), { pick }));
        rec2.push(record('gradient curve (var × 1)', id, inputs, params, 'grad:input', df.subarray(0, n), { pick }));
      } else {
        for (const c of cs) {
          const inputs = { input: tensor(xs), target: tensor(filled(n, y)) };
          const f = ev(dl, c.id, inputs, c.params);
          const df = gradOf(dl, c.id, inputs, c.params, 'input');
          fs.push(f);
          dfs.push(df);
          if (c.id === id) {
            rec2.push(record('loss curve', id, inputs, c.params, 'value', f));
            rec2.push(record('gradient curve', id, inputs, c.params, 'grad:input', df));
          }
        }
      }
      fl.plot.update(xs, fs);
      fg.plot.update(xs, dfs);

      // The probe: one element with the entry's own params (its reduction too).
      const px = s.x.value;
      const pin: Inputs = { input: tensor([px]), target: tensor([y]) };
      if (isGauss) pin.var = tensor([s.v!.value]);
      const pv = ev(dl, id, pin, p);
      const pg = gradOf(dl, id, pin, p, 'input');
      rec2.push(record('probe loss', id, pin, p, 'value', pv));
      rec2.push(record('probe gradient', id, pin, p, 'grad:input', pg));
      const xf = pin.input!.data[0]!;
      const best = isPoisson ? argmin(fs[0]!) : -1;
      fl.plot.setMarks([
        { x: xf, y: pv[0]!, color: myColor },
        ...(best > 0 && best < n - 1
          ? [{ x: xs[best]!, y: fs[0]![best]!, color: 1, label: `min ≈ ${fmt(xs[best]!)}` }]
          : []),
      ]);
      fg.plot.setMarks([{ x: xf, y: pg[0]!, color: myColor }]);
      let text = `x = ${fmt(xf)}   y = ${fmt(pin.target!.data[0]!)}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x = ${formatF32(pg[0]!)}`;

      if (isGauss && fv) {
        // var on a log grid; the x axis shows log10 var (the layout's own coordinate).
        const us = linspace(-2, 1.5, n);
        const vg = Float32Array.from(us, (u) => 10 ** u);
        const vin = { input: tensor(filled(n, px)), target: tensor(filled(n, y)), var: tensor(vg) };
        const params = { ...p, reduction: 'none' };
        const lv = ev(dl, id, vin, params);
        fv.plot.update(us, [lv]);
        rec2.push(record('loss against var', id, vin, params, 'value', lv));
        const pgv = gradOf(dl, id, pin, p, 'var');
        rec2.push(record('probe ∂ℓ/∂var', id, pin, p, 'grad:var', pgv));
        const best = argmin(lv);
        fv.plot.setMarks([
          { x: Math.log10(pin.var!.data[0]!), y: pv[0]!, color: 0 },
          ...(best >= 0 ? [{ x: us[best]!, y: lv[best]!, color: 1, label: `var ≈ ${fmt(vg[best]!)}` }] : []),
        ]);
        text += `   ∂ℓ/∂var = ${formatF32(pgv[0]!)}`;
      }
      if (robust) {
        // The entry's reduction at work: the probe x predicted for every data point.
        const din = { input: tensor(filled(data.length, px)), target: tensor(data) };
        const dv = ev(dl, id, din, p);
        rec2.push(record('loss of the data set with the entry reduction', id, din, p, 'value', dv));
        const red = reductionName(op, p);
        text += `\n${t.overData(data.length, red)} ${Array.from(dv, formatF32).join(', ')}`;
      }
      out.textContent = text;

      if (robust && plane && fr) {
        // The fit depends only on the data, the mode and the losses' params: redo it only when they change.
        const key = JSON.stringify([data, fitMode, fitLosses(p).map((f) => f.params)]);
        if (key !== fitCache.key) {
          const fitRecs: Shown[] = [];
          renderFit(p, fitRecs);
          fitCache = { key, recs: fitRecs };
        }
        rec2.push(...fitCache.recs);
      }
      shown = rec2;
    });
  }

  // The constant fit: the mean loss of every candidate c over the data, one
  // call per loss on a [K, m] batch (row k = c_k against every point), then a
  // finer grid around the best candidate.
  // Titles and axis of the fit figures follow the mode (a rebuild only when it changes).
  let fitCache: { key: string; recs: Shown[] } = { key: '', recs: [] };
  let shownMode = '';
  function setFitMode(mode: 'const' | 'line'): void {
    if (mode === shownMode) return;
    shownMode = mode;
    figFit?.setTitle(mode === 'line' ? t.fitLineTitle : t.fit);
    figFit?.setNote(mode === 'line' ? t.fitLineNote : t.fitNote);
    fr!.fig.setTitle(mode === 'line' ? t.riskLine : t.risk);
    fr!.plot.setOptions({ xLabel: mode === 'line' ? 'a' : 'c' });
  }

  /** The data points (the last one is the outlier) under the fitted lines, and the fits in the risk figure's note. */
  function showFits(lines: Path[], note: string): void {
    const m = data.length;
    plane!.update(
      lines,
      data.map((v, i) => ({
        x: i + 1,
        y: v,
        color: i === m - 1 ? 4 : 5,
        label: i === m - 1 ? t.outlier : undefined,
      })),
    );
    fr!.fig.setNote(note);
  }

  function renderFit(p: Params, rec2: Shown[]): void {
    if (fitMode === 'line') return renderLineFit(p, rec2);
    setFitMode('const');
    const m = data.length;
    const K = 201;
    const cs = linspace(FIT_RANGE[0], FIT_RANGE[1], K);
    const losses = fitLosses(p);
    const tgt = new Float32Array(K * m);
    for (let k = 0; k < K; ++k) tgt.set(data, k * m);
    const inX = new Float32Array(K * m);
    for (let k = 0; k < K; ++k) inX.fill(cs[k]!, k * m, (k + 1) * m);
    const risks: Float32Array[] = [];
    const marks: Mark[] = [];
    const lines: Path[] = [];
    const fits: string[] = [];
    for (const f of losses) {
      const params = { ...f.params, reduction: 'none' };
      const inputs = { input: tensor(inX, [K, m]), target: tensor(tgt, [K, m]) };
      const all = ev(dl, f.id, inputs, params);
      const risk = rowMeans(all, K, m);
      risks.push(risk);
      if (f.id === op.id)
        rec2.push(record('per-point losses over candidate constants', f.id, inputs, params, 'value', all));
      // Refine: 101 candidates across the two grid steps around the best one.
      const b = argmin(risk);
      if (b < 0) continue;
      const step = cs[1]! - cs[0]!;
      const K2 = 101;
      const cs2 = linspace(cs[b]! - step, cs[b]! + step, K2);
      const in2 = new Float32Array(K2 * m);
      const tg2 = new Float32Array(K2 * m);
      for (let k = 0; k < K2; ++k) {
        in2.fill(cs2[k]!, k * m, (k + 1) * m);
        tg2.set(data, k * m);
      }
      const risk2 = rowMeans(
        ev(dl, f.id, { input: tensor(in2, [K2, m]), target: tensor(tg2, [K2, m]) }, params),
        K2,
        m,
      );
      const c = cs2[argmin(risk2)]!;
      // The printed risk at the best constant: one call with reduction mean.
      const at = { input: tensor(filled(m, c)), target: tensor(data) };
      const pm = { ...f.params, reduction: 'mean' };
      const r = ev(dl, f.id, at, pm);
      rec2.push(record(`mean ${f.label} loss at its best constant`, f.id, at, pm, 'value', r));
      marks.push({ x: at.input.data[0]!, y: r[0]!, color: f.color });
      lines.push({
        label: f.label,
        xs: [0, m + 1],
        ys: [c, c],
        color: f.color,
        width: f.id === op.id ? 3 : 2,
        dash: f.id === op.id ? undefined : [6, 4],
      });
      fits.push(`${f.label}: c ≈ ${c.toFixed(3)}, ${t.meanLoss} ${formatF32(r[0]!)}`);
    }
    fr!.plot.update(cs, risks);
    fr!.plot.setMarks(marks);
    showFits(lines, `${t.riskNote}  ${t.best}: ${fits.join(' · ')}`);
  }

  // The line fit y = a·i + b: every (a, b) of a coarse grid in one call per
  // loss ([A·B, m] predictions against the data), then a finer grid around the
  // best pair. The mean-loss plot shows each loss's profile: the best mean
  // loss for each slope a (minimum over b).
  function renderLineFit(p: Params, rec2: Shown[]): void {
    const m = data.length;
    const xs = Float32Array.from({ length: m }, (_, i) => i + 1);
    const A = 41;
    const B = 61;
    const search = (
      f: ReturnType<typeof fitLosses>[number],
      a0: number,
      a1: number,
      b0: number,
      b1: number,
      A: number,
      B: number,
    ) => {
      const as = linspace(a0, a1, A);
      const bs = linspace(b0, b1, B);
      const pred = new Float32Array(A * B * m);
      const tgt = new Float32Array(A * B * m);
      for (let ia = 0; ia < A; ++ia)
        for (let ib = 0; ib < B; ++ib) {
          const row = (ia * B + ib) * m;
          for (let i = 0; i < m; ++i) pred[row + i] = as[ia]! * xs[i]! + bs[ib]!;
          tgt.set(data, row);
        }
      const all = ev(
        dl,
        f.id,
        { input: tensor(pred, [A * B, m]), target: tensor(tgt, [A * B, m]) },
        { ...f.params, reduction: 'none' },
      );
      const risk = rowMeans(all, A * B, m);
      const k = argmin(risk);
      return { as, bs, risk, a: as[Math.floor(k / B)]!, b: bs[k % B]! };
    };
    const losses = fitLosses(p);
    const profiles: Float32Array[] = [];
    const marks: Mark[] = [];
    const lines: Path[] = [];
    const fits: string[] = [];
    let grid: Float32Array | null = null;
    for (const f of losses) {
      const c1 = search(f, -2, 2, -6, 10, A, B);
      const da = c1.as[1]! - c1.as[0]!;
      const db = c1.bs[1]! - c1.bs[0]!;
      const c2 = search(f, c1.a - da, c1.a + da, c1.b - db, c1.b + db, 21, 21);
      const c3 = search(f, c2.a - da / 10, c2.a + da / 10, c2.b - db / 10, c2.b + db / 10, 21, 21);
      grid = c1.as;
      const prof = new Float32Array(A);
      for (let ia = 0; ia < A; ++ia) {
        let best = Infinity;
        for (let ib = 0; ib < B; ++ib) best = Math.min(best, c1.risk[ia * B + ib]!);
        prof[ia] = best;
      }
      profiles.push(prof);
      // The printed mean loss of the best line: one call with reduction mean.
      const at = { input: tensor(Float32Array.from(xs, (x) => c3.a * x + c3.b)), target: tensor(data) };
      const pm = { ...f.params, reduction: 'mean' };
      const r = ev(dl, f.id, at, pm);
      rec2.push(record(`mean ${f.label} loss of its best line`, f.id, at, pm, 'value', r));
      marks.push({ x: c3.a, y: r[0]!, color: f.color });
      lines.push({
        label: f.label,
        xs: [0, m + 1],
        ys: [c3.b, c3.a * (m + 1) + c3.b],
        color: f.color,
        width: f.id === op.id ? 3 : 2,
        dash: f.id === op.id ? undefined : [6, 4],
      });
      fits.push(`${f.label}: a ≈ ${c3.a.toFixed(3)}, b ≈ ${c3.b.toFixed(3)}, ${t.meanLoss} ${formatF32(r[0]!)}`);
    }
    setFitMode('line');
    if (grid) fr!.plot.update(grid, profiles);
    fr!.plot.setMarks(marks);
    showFits(lines, `${t.riskLineNote}  ${t.bestLine}: ${fits.join(' · ')}`);
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      fl.plot.destroy();
      fg.plot.destroy();
      fv?.plot.destroy();
      fr?.plot.destroy();
      plane?.destroy();
    },
  };
}

/** Mean of each row of a [rows, cols] result (a display transform of engine values). */
function rowMeans(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; ++r) {
    let s = 0;
    for (let c = 0; c < cols; ++c) s += a[r * cols + c]!;
    out[r] = s / cols;
  }
  return out;
}
