// The GPT page's figures as SVG: line charts (losses, accuracies) and
// attention heatmaps. Colours are CSS custom properties, so both themes
// apply without redrawing; the viewBox scales them to any width.
const NS = 'http://www.w3.org/2000/svg';

function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** One line: its points and a CSS colour (e.g. 'var(--s0)'). */
export interface Series {
  label: string;
  color: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

/**
 * A line chart with axes, ticks and a legend.
 * @param series - the lines
 * @param o - axis labels, fixed y range, a horizontal reference line, accessible title
 */
export function lineChart(
  series: readonly Series[],
  o: { x: string; y: string; title: string; yMin?: number; yMax?: number; xMax?: number },
): SVGSVGElement {
  const W = 600;
  const H = 260;
  const L = 48;
  const R = 20; // room for half of the last x tick's label ("1000")
  const T = 10;
  const B = 34;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': o.title });
  const all = series.flatMap((d) => d.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).filter(Number.isFinite);
  const x1 = Math.max(o.xMax ?? 0, ...xs, 1);
  let y0 = o.yMin ?? (ys.length ? Math.min(...ys) : 0);
  let y1 = o.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const px = (x: number) => L + ((W - L - R) * x) / x1;
  const py = (y: number) => T + ((H - T - B) * (y1 - y)) / (y1 - y0);
  for (let i = 0; i <= 4; ++i) {
    const y = y0 + ((y1 - y0) * i) / 4;
    svg.append(s('line', { x1: L, x2: W - R, y1: py(y), y2: py(y), style: 'stroke: var(--grid)' }));
    const t = s('text', { x: L - 6, y: py(y) + 4, 'text-anchor': 'end', class: 'tick' });
    t.textContent = Math.abs(y1 - y0) < 0.1 ? y.toFixed(3) : y.toFixed(2);
    svg.append(t);
  }
  for (let i = 0; i <= 4; ++i) {
    const x = Math.round((x1 * i) / 4);
    const t = s('text', { x: px(x), y: H - B + 16, 'text-anchor': 'middle', class: 'tick' });
    t.textContent = String(x);
    svg.append(t);
  }
  const xl = s('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle', class: 'tick' });
  xl.textContent = o.x;
  svg.append(xl);
  series.forEach((d) => {
    const pts = d.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length === 0) return;
    const path = pts.map((p, i) => `${i ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join('');
    svg.append(
      s('path', {
        d: pts.length === 1 ? `${path}h1` : path,
        style: `fill: none; stroke: ${d.color}; stroke-width: 2;${d.dashed ? ' stroke-dasharray: 6 4;' : ''}`,
      }),
    );
  });
  return svg;
}

/**
 * An attention matrix: row i (query) over columns j ≤ i (keys), shaded by weight.
 * @param w - [n, n] weights, row-major
 * @param tokens - the n positions' symbols
 * @param title - accessible name
 */
export function heatmap(w: Float32Array, tokens: readonly string[], title: string): SVGSVGElement {
  const n = tokens.length;
  const c = 14;
  const pad = 14;
  const size = pad + n * c;
  const svg = s('svg', { viewBox: `0 0 ${size} ${size}`, class: 'heat', role: 'img', 'aria-label': title });
  tokens.forEach((t, i) => {
    const top = s('text', { x: pad + i * c + c / 2, y: pad - 3, 'text-anchor': 'middle', class: 'heat-tok' });
    top.textContent = t;
    const left = s('text', { x: pad - 3, y: pad + i * c + c - 3, 'text-anchor': 'end', class: 'heat-tok' });
    left.textContent = t;
    svg.append(top, left);
  });
  for (let i = 0; i < n; ++i)
    for (let j = 0; j < n; ++j) {
      const v = w[i * n + j]!;
      const r = s('rect', {
        x: pad + j * c,
        y: pad + i * c,
        width: c - 1,
        height: c - 1,
        style: `fill: var(--accent); fill-opacity: ${Math.max(0.04, v).toFixed(3)}`,
      });
      const tip = s('title', {});
      tip.textContent = `${tokens[i]} → ${tokens[j]}: ${v.toFixed(3)}`;
      r.append(tip);
      svg.append(r);
    }
  return svg;
}
