// SVG export of the page's figures: a small writer that draws axes, ticks and
// series in the geometry the figure has on screen. (uPlot draws to canvas
// only; this is the vector copy for papers and slides.)

/** Nice tick values covering [min, max] (about `count` of them). */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max)) || max <= min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Escapes text for SVG/XML. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One drawn series of an SVG chart. */
export interface SvgSeries {
  label: string;
  color: string;
  /** Points in data coordinates; null breaks the line. */
  points: ([number, number] | null)[];
  kind?: 'line' | 'points' | 'bars';
  width?: number;
  dash?: number[];
}

/** An axis-aligned chart to write as SVG. */
export interface SvgChart {
  width: number;
  height: number;
  title: string;
  x: { min: number; max: number; label?: string };
  y: { min: number; max: number; label?: string };
  series: SvgSeries[];
  colors: { fg: string; grid: string; bg: string };
  /** Extra content in plot-area pixels (heatmap cells), drawn under the series. */
  under?: string;
}

const PAD = { left: 56, right: 16, top: 28, bottom: 36 };

/** Writes a chart as a standalone SVG document. */
export function chartToSvg(c: SvgChart): string {
  const w = c.width - PAD.left - PAD.right;
  const hgt = c.height - PAD.top - PAD.bottom;
  const sx = (v: number) => PAD.left + ((v - c.x.min) / (c.x.max - c.x.min || 1)) * w;
  const sy = (v: number) => PAD.top + hgt - ((v - c.y.min) / (c.y.max - c.y.min || 1)) * hgt;
  const fmt = (v: number) => String(Number(v.toPrecision(4)));
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${c.width}" height="${c.height}" viewBox="0 0 ${c.width} ${c.height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="${esc(c.colors.bg)}"/>`,
    `<text x="${PAD.left}" y="16" fill="${esc(c.colors.fg)}" font-size="13">${esc(c.title)}</text>`,
  );
  if (c.under) parts.push(`<g transform="translate(${PAD.left},${PAD.top})">${c.under}</g>`);
  for (const t of niceTicks(c.x.min, c.x.max)) {
    const x = sx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${PAD.top}" x2="${x}" y2="${PAD.top + hgt}" stroke="${esc(c.colors.grid)}"/>`,
      `<text x="${x}" y="${PAD.top + hgt + 14}" text-anchor="middle" fill="${esc(c.colors.fg)}">${fmt(t)}</text>`,
    );
  }
  for (const t of niceTicks(c.y.min, c.y.max)) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line x1="${PAD.left}" y1="${y}" x2="${PAD.left + w}" y2="${y}" stroke="${esc(c.colors.grid)}"/>`,
      `<text x="${PAD.left - 6}" y="${y}" dy="4" text-anchor="end" fill="${esc(c.colors.fg)}">${fmt(t)}</text>`,
    );
  }
  if (c.x.label)
    parts.push(
      `<text x="${PAD.left + w / 2}" y="${c.height - 4}" text-anchor="middle" fill="${esc(c.colors.fg)}">${esc(c.x.label)}</text>`,
    );
  parts.push(
    `<defs><clipPath id="plot"><rect x="${PAD.left}" y="${PAD.top}" width="${w}" height="${hgt}"/></clipPath></defs>`,
    `<g clip-path="url(#plot)">`,
  );
  let legendX = PAD.left + w;
  const legend: string[] = [];
  for (const s of c.series) {
    const color = esc(s.color);
    const width = s.width ?? 2;
    const dash = s.dash?.length ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    if (s.kind === 'points') {
      for (const p of s.points)
        if (p) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${color}"/>`);
    } else if (s.kind === 'bars') {
      const n = s.points.length;
      const bw = n > 1 ? Math.max(1, (w / n) * 0.9) : 4;
      const base = sy(Math.max(c.y.min, Math.min(c.y.max, 0)));
      for (const p of s.points) {
        if (!p) continue;
        const y = sy(p[1]);
        parts.push(
          `<rect x="${(sx(p[0]) - bw / 2).toFixed(1)}" y="${Math.min(y, base).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.abs(base - y).toFixed(1)}" fill="${color}"/>`,
        );
      }
    } else {
      let d = '';
      let pen = false;
      for (const p of s.points) {
        if (!p || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${sx(p[0]).toFixed(2)} ${sy(p[1]).toFixed(2)}`;
        pen = true;
      }
      if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"${dash}/>`);
    }
    const label = esc(s.label);
    legendX -= 8 + label.length * 6.2 + 18;
    legend.push(
      `<rect x="${legendX.toFixed(0)}" y="8" width="12" height="3" fill="${color}"/><text x="${(legendX + 16).toFixed(0)}" y="14" fill="${esc(c.colors.fg)}">${label}</text>`,
    );
  }
  parts.push(
    '</g>',
    ...legend,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${w}" height="${hgt}" fill="none" stroke="${esc(c.colors.grid)}"/>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** Saves a blob under a file name (a temporary link; no navigation). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
