// The training page's data, without the DOM: TensorFlow Playground's six
// toy sets (written anew from their descriptions), multi-class blobs and
// spirals, points added by hand, and CSV files. Everything is seeded: the
// same seed gives the same points, so a link reproduces a data set.

/** The plane every toy set lives on: x₁ and x₂ in [-DOMAIN, DOMAIN]. */
export const DOMAIN = 6;

/** Toy set ids (the URL's `v.data`), in the order the page lists them. */
export const TOY_SETS = ['circle', 'xor', 'gauss', 'spiral', 'blobs', 'plane', 'mgauss'] as const;
export type ToySet = (typeof TOY_SETS)[number];
/** Every data source: a toy set, an uploaded CSV file or the MNIST digits. */
export const DATA_SOURCES = [...TOY_SETS, 'csv', 'mnist'] as const;
export type DataSource = (typeof DATA_SOURCES)[number];

/** Regression sets (one float target per point); the others are classification. */
export const REGRESSION_SETS: readonly ToySet[] = ['plane', 'mgauss'];
/** Sets whose number of classes the page lets the user choose (2–5). */
export const MULTICLASS_SETS: readonly ToySet[] = ['spiral', 'blobs'];

/** Points on the plane and their labels. */
export interface PlaneData {
  /** [n, 2] row-major: x₁, x₂. */
  points: Float32Array;
  /** Class index (classification) or target value (regression), one per point. */
  labels: Float32Array;
  /** Number of classes; 0 for regression. */
  classes: number;
}

/** Deterministic numbers in [0, 1) from a seed (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A standard normal sample (Box–Muller) from uniform draws. */
function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const uniformIn = (rand: () => number, a: number, b: number) => a + (b - a) * rand();

/** Toy set options. */
export interface ToyOptions {
  /** Points in total (train and test together). */
  n: number;
  /** Noise in [0, 1] (TF Playground's slider / 100). */
  noise: number;
  /** Classes of the multi-class sets (2–5). */
  classes: number;
  seed: number;
}

/**
 * Generates a toy set.
 * @param set - which one
 * @param o - size, noise, classes and seed
 */
export function toySet(set: ToySet, o: ToyOptions): PlaneData {
  const rand = rng(o.seed);
  const pts: number[] = [];
  const labels: number[] = [];
  const add = (x: number, y: number, label: number) => {
    pts.push(x, y);
    labels.push(label);
  };
  const n = o.n;
  const k = MULTICLASS_SETS.includes(set) ? o.classes : 2;
  switch (set) {
    case 'circle': {
      // A disc of one class inside a ring of the other; the noise moves points, the label follows the true radius.
      const r = 5;
      for (let i = 0; i < n; ++i) {
        const inner = i < n / 2;
        const rad = inner ? uniformIn(rand, 0, r * 0.5) : uniformIn(rand, r * 0.7, r);
        const a = uniformIn(rand, 0, 2 * Math.PI);
        const x = rad * Math.sin(a) + uniformIn(rand, -r, r) * o.noise * 0.5;
        const y = rad * Math.cos(a) + uniformIn(rand, -r, r) * o.noise * 0.5;
        add(x, y, Math.hypot(x, y) < r * 0.6 ? 1 : 0);
      }
      break;
    }
    case 'xor': {
      // Quadrants: the class is whether x₁ and x₂ share a sign; points keep clear of the axes.
      const pad = 0.3;
      for (let i = 0; i < n; ++i) {
        let x = uniformIn(rand, -5, 5);
        x += x > 0 ? pad : -pad;
        let y = uniformIn(rand, -5, 5);
        y += y > 0 ? pad : -pad;
        const nx = x + uniformIn(rand, -5, 5) * o.noise * 0.5;
        const ny = y + uniformIn(rand, -5, 5) * o.noise * 0.5;
        add(nx, ny, x * y >= 0 ? 1 : 0);
      }
      break;
    }
    case 'gauss': {
      // Two normal clouds at (2, 2) and (-2, -2); the noise widens them.
      const sd = 0.5 + 3.5 * o.noise;
      for (let i = 0; i < n; ++i) {
        const c = i < n / 2 ? 1 : 0;
        const m = c ? 2 : -2;
        add(m + normal(rand) * sd * 0.5, m + normal(rand) * sd * 0.5, c);
      }
      break;
    }
    case 'spiral': {
      // k interleaved arms turning 1.75 times around the origin.
      const per = Math.floor(n / k);
      for (let c = 0; c < k; ++c)
        for (let i = 0; i < per; ++i) {
          const r = (i / per) * 5;
          const t = ((1.75 * i) / per) * 2 * Math.PI + (2 * Math.PI * c) / k;
          add(
            r * Math.sin(t) + uniformIn(rand, -1, 1) * o.noise,
            r * Math.cos(t) + uniformIn(rand, -1, 1) * o.noise,
            c,
          );
        }
      break;
    }
    case 'blobs': {
      // k normal clouds evenly spaced on a circle of radius 3.5.
      const sd = 0.4 + 1.6 * o.noise;
      for (let i = 0; i < n; ++i) {
        const c = i % k;
        const a = (2 * Math.PI * c) / k + Math.PI / 4;
        add(3.5 * Math.cos(a) + normal(rand) * sd, 3.5 * Math.sin(a) + normal(rand) * sd, c);
      }
      break;
    }
    case 'plane': {
      // A tilted plane: target (x₁ + x₂) / 10 in [-1, 1], plus noise on the target.
      for (let i = 0; i < n; ++i) {
        const x = uniformIn(rand, -5, 5);
        const y = uniformIn(rand, -5, 5);
        add(x, y, (x + y) / 10 + uniformIn(rand, -1, 1) * o.noise * 0.5);
      }
      break;
    }
    case 'mgauss': {
      // A sum of signed bumps: six Gaussians of alternating sign on the plane.
      const bumps = [
        [-4, 2.5, 1],
        [0, 2.5, -1],
        [4, 2.5, 1],
        [-4, -2.5, -1],
        [0, -2.5, 1],
        [4, -2.5, -1],
      ] as const;
      for (let i = 0; i < n; ++i) {
        const x = uniformIn(rand, -5, 5);
        const y = uniformIn(rand, -5, 5);
        let v = 0;
        for (const [cx, cy, s] of bumps) v += s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 2);
        add(x, y, v + uniformIn(rand, -1, 1) * o.noise * 0.5);
      }
      break;
    }
  }
  return {
    points: Float32Array.from(pts),
    labels: Float32Array.from(labels),
    classes: REGRESSION_SETS.includes(set) ? 0 : k,
  };
}

/** A data set split in two. */
export interface Split {
  train: PlaneData;
  test: PlaneData;
}

/** The rows of `d` at `idx`. */
export function pickRows(d: PlaneData, idx: readonly number[]): PlaneData {
  const points = new Float32Array(idx.length * 2);
  const labels = new Float32Array(idx.length);
  idx.forEach((r, i) => {
    points[2 * i] = d.points[2 * r]!;
    points[2 * i + 1] = d.points[2 * r + 1]!;
    labels[i] = d.labels[r]!;
  });
  return { points, labels, classes: d.classes };
}

/**
 * A seeded shuffle of the rows into train and test.
 * @param d - the data
 * @param trainFraction - in (0, 1)
 * @param seed - of the shuffle
 */
export function split(d: PlaneData, trainFraction: number, seed: number): Split {
  const n = d.labels.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = rng(seed ^ 0x9e3779b9);
  for (let i = n - 1; i > 0; --i) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const cut = Math.max(1, Math.min(n - 1, Math.round(n * trainFraction)));
  return { train: pickRows(d, order.slice(0, cut)), test: pickRows(d, order.slice(cut)) };
}

/** Appends one point. */
export function addPoint(d: PlaneData, x: number, y: number, label: number): PlaneData {
  const points = new Float32Array(d.points.length + 2);
  points.set(d.points);
  points[d.points.length] = x;
  points[d.points.length + 1] = y;
  const labels = new Float32Array(d.labels.length + 1);
  labels.set(d.labels);
  labels[d.labels.length] = label;
  return { points, labels, classes: d.classes };
}

/**
 * The index of the point nearest to (x, y) within `radius`, or -1.
 * @param d - the data
 */
export function nearestPoint(d: PlaneData, x: number, y: number, radius: number): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < d.labels.length; ++i) {
    const dd = (d.points[2 * i]! - x) ** 2 + (d.points[2 * i + 1]! - y) ** 2;
    if (dd <= bestD) {
      bestD = dd;
      best = i;
    }
  }
  return best;
}

/** Removes the point at `index`. */
export function removePoint(d: PlaneData, index: number): PlaneData {
  const keep = Array.from({ length: d.labels.length }, (_, i) => i).filter((i) => i !== index);
  return pickRows(d, keep);
}

// ---- clicked points, as the URL keeps them ----------------------------------------

/** A click on the plane: a point added with its class (or value), or (no label) the nearest point removed. */
export interface PointEdit {
  x: number;
  y: number;
  label?: number;
}

/** Most clicked points a link keeps (about 10 characters each). */
export const MAX_EDITS = 150;
/** How far from a click a removed point may be. */
export const REMOVE_RADIUS = 0.5;

/**
 * A click as an edit, its coordinates rounded as the URL writes them (so a link replays it exactly).
 * @param label - the class or value of an added point; undefined removes the nearest one
 */
export function pointEdit(x: number, y: number, label?: number): PointEdit {
  const r = (v: number) => Math.round(v * 100) / 100;
  return label === undefined ? { x: r(x), y: r(y) } : { x: r(x), y: r(y), label };
}

/**
 * Applies edits in order: an addition goes to the training points; a removal takes the nearest
 * training point within REMOVE_RADIUS, else the nearest test point.
 * @returns the sets and how many edits changed something
 */
export function applyEdits(s: Split, edits: readonly PointEdit[]): Split & { applied: number } {
  let { train, test } = s;
  let applied = 0;
  for (const e of edits) {
    if (e.label !== undefined) {
      train = addPoint(train, e.x, e.y, e.label);
      ++applied;
      continue;
    }
    const i = nearestPoint(train, e.x, e.y, REMOVE_RADIUS);
    const j = i < 0 ? nearestPoint(test, e.x, e.y, REMOVE_RADIUS) : -1;
    if (i >= 0) train = removePoint(train, i);
    else if (j >= 0) test = removePoint(test, j);
    else continue;
    ++applied;
  }
  return { train, test, applied };
}

/**
 * Edits as URL text, short and left as is by URL encoding: coordinates in hundredths, `x_y_label`
 * for an addition, `x_y` for a removal, separated by `*` (e.g. `125_-40_1*300_12`).
 */
export function editsToText(edits: readonly PointEdit[]): string {
  const h = (v: number) => Math.round(v * 100);
  return edits.map((e) => [h(e.x), h(e.y), ...(e.label === undefined ? [] : [e.label])].join('_')).join('*');
}

/** Edits from URL text; entries that are not 2 or 3 finite numbers are skipped. */
export function editsFromText(text: string): PointEdit[] {
  const out: PointEdit[] = [];
  for (const part of text.split('*')) {
    const v = part.split('_').map(Number);
    if ((v.length === 2 || v.length === 3) && v.every(Number.isFinite))
      out.push(pointEdit(v[0]! / 100, v[1]! / 100, v[2]));
  }
  return out.slice(0, MAX_EDITS);
}

// ---- CSV ----------------------------------------------------------------------

/** Most rows a CSV file may have (the page trains on all of them in the browser). */
export const CSV_MAX_ROWS = 5000;
/** Most distinct integer labels read as classes; more (or any fraction) make it regression. */
export const CSV_MAX_CLASSES = 10;

/** Why a CSV file was refused, with where. */
export class CsvError extends Error {
  /** 'empty' | 'columns' | 'ragged' | 'not_number' | 'too_many_rows' | 'too_few_rows' | 'choice' */
  readonly kind: string;
  /** 1-based line of the file, 0 when the problem is not one line. */
  readonly line: number;
  constructor(kind: string, message: string, line = 0) {
    super(message);
    this.name = 'CsvError';
    this.kind = kind;
    this.line = line;
  }
}

/** A parsed CSV table: its header (or generated names) and numeric rows. */
export interface CsvTable {
  columns: string[];
  /** [rows, columns] row-major. */
  values: Float64Array;
  rows: number;
}

function splitLine(line: string, sep: string): string[] {
  return line.split(sep).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

/**
 * Reads CSV text: comma, semicolon or tab separated; a first line with a
 * non-number is a header. Every cell must be a finite number.
 * @param text - the file's text
 * @throws CsvError naming the line and column at fault
 */
export function parseCsv(text: string): CsvTable {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), no: i + 1 }));
  const body = lines.filter((x) => x.l !== '' && !x.l.startsWith('#'));
  if (!body.length) throw new CsvError('empty', 'the file has no rows');
  const first = body[0]!.l;
  const sep = [',', ';', '\t'].find((s) => first.includes(s)) ?? ',';
  const head = splitLine(first, sep);
  if (head.length < 2)
    throw new CsvError('columns', `need at least 2 columns (a feature and a label), found 1`, body[0]!.no);
  const hasHeader = head.some((c) => c === '' || !Number.isFinite(Number(c)));
  const rowsText = hasHeader ? body.slice(1) : body;
  if (rowsText.length > CSV_MAX_ROWS)
    throw new CsvError('too_many_rows', `the file has ${rowsText.length} rows; at most ${CSV_MAX_ROWS} are allowed`);
  if (rowsText.length < 4) throw new CsvError('too_few_rows', `need at least 4 rows of data, found ${rowsText.length}`);
  const cols = head.length;
  const values = new Float64Array(rowsText.length * cols);
  rowsText.forEach(({ l, no }, r) => {
    const cells = splitLine(l, sep);
    if (cells.length !== cols)
      throw new CsvError('ragged', `line ${no} has ${cells.length} cells, the first line has ${cols}`, no);
    cells.forEach((c, j) => {
      const v = c === '' ? NaN : Number(c);
      if (!Number.isFinite(v))
        throw new CsvError(
          'not_number',
          `line ${no}, column ${j + 1}${hasHeader ? ` (${head[j]})` : ''}: '${c.slice(0, 20)}' is not a number`,
          no,
        );
      values[r * cols + j] = v;
    });
  });
  return {
    columns: hasHeader ? head.map((c, j) => c || `column ${j + 1}`) : head.map((_, j) => `column ${j + 1}`),
    values,
    rows: rowsText.length,
  };
}

/**
 * Plane data from a CSV table: two feature columns rescaled to [-5, 5] (the
 * plane the page draws) and a label column, read as classes when it holds at
 * most CSV_MAX_CLASSES distinct integers, else as a regression target.
 * @param t - the table
 * @param fx - column of x₁
 * @param fy - column of x₂ (may equal fx for one feature)
 * @param label - column of the label
 * @returns the data, and the classes' original values (empty for regression)
 */
export function csvToPlane(
  t: CsvTable,
  fx: number,
  fy: number,
  label: number,
): { data: PlaneData; classValues: number[] } {
  const cols = t.columns.length;
  for (const [what, c] of [
    ['x₁', fx],
    ['x₂', fy],
    ['label', label],
  ] as const)
    if (!Number.isInteger(c) || c < 0 || c >= cols)
      throw new CsvError('choice', `the ${what} column must be one of the file's ${cols} columns`);
  if (label === fx || label === fy) throw new CsvError('choice', 'the label column cannot also be a feature');
  const col = (j: number) => Array.from({ length: t.rows }, (_, r) => t.values[r * cols + j]!);
  const scale = (v: number[]) => {
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return v.map((x) => (hi > lo ? -5 + (10 * (x - lo)) / (hi - lo) : 0));
  };
  const xs = scale(col(fx));
  const ys = scale(col(fy));
  const raw = col(label);
  const distinct = [...new Set(raw)].sort((a, b) => a - b);
  const isClass = distinct.length <= CSV_MAX_CLASSES && distinct.length >= 2 && distinct.every(Number.isInteger);
  const points = new Float32Array(t.rows * 2);
  xs.forEach((x, i) => {
    points[2 * i] = x;
    points[2 * i + 1] = ys[i]!;
  });
  const labels = Float32Array.from(isClass ? raw.map((v) => distinct.indexOf(v)) : raw);
  return { data: { points, labels, classes: isClass ? distinct.length : 0 }, classValues: isClass ? distinct : [] };
}
