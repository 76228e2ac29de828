// The worker host: the entry module of a Web Worker or a Node worker thread
// started by `dl.worker()` (worker-client.ts). It loads its own wasm
// instance and keeps the models built in it; the page sends commands and
// gets promise replies. A fit runs in chunks of about CHUNK_MS of training,
// yielding between them so that 'cancel', 'predict' or 'stats' get through,
// and streams its progress at most once per `progressMs` (one animation
// frame by default), never once per step.
import type { Dlmath } from './dlmath.js';
import { DlmathError } from './errors.js';
import { isNode, loadDlmath } from './loader.js';
import { fitStop, type DlModel, type ModelDescription, type StepResult } from './model.js';
import {
  importNode,
  serializeError,
  type FitReply,
  type Port,
  type ProgressMessage,
  type Reply,
  type Recycle,
  type Packed,
  type Request,
  type Snapshot,
  type SnapshotRequest,
  type WorkerFitOptions,
} from './worker-protocol.js';

/**
 * Training time between two yields to the worker's event loop: one animation
 * frame. Each chunk pays a yield (0.2-1 ms in a loaded browser, where the
 * worker thread may lose its core meanwhile), a read of its logged losses and
 * learning rates, and usually a progress message; with chunks of a frame
 * each streams in one message as read, without merging copies. A cancel or a
 * snapshot waits at most a frame. (Headless Chromium on a loaded 2-vCPU
 * machine: with 8 ms chunks a worker fit spent 86-93 % of its time inside
 * fitRun, with frame-long ones 92-94 %.)
 */
const CHUNK_MS = 1000 / 60;
/** The worker's default `logSteps`: a frame of the fastest small model (~800k steps/s) is ~13,000 steps. */
const WORKER_LOG_STEPS = 16384;
/** The log's fields every step streams, read in one pass per chunk (ProgressMessage.columns). */
const STREAMED = ['loss', 'lr'] as const satisfies readonly (keyof StepResult)[];
/**
 * Column buffers the page sent back ('recycle') kept for the next chunks, at most this many. Each chunk
 * fills one and transfers it: a new one each time cost a fast model's worker ~2.5 % of its time, in
 * the page faults of its fresh pages (Chromium, 2-8-8-1: 0.42 ms to fill 128 KB of new array).
 */
const SPARE_BUFFERS = 4;

interface Hosted {
  model: DlModel;
  cancel: boolean;
  /** The running fit, if any (dispose waits for it). */
  fitting: Promise<unknown> | null;
  /** Data sets sent once with 'stash', named for snapshots. */
  sets: Map<string, { x: Packed; y?: Packed }>;
}

interface WorkerScope {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

// Browsers deliver messages that arrive before a listener is set to nobody:
// listen now, keep them until the host is ready.
const early: unknown[] = [];
let deliver: ((data: unknown) => void) | null = null;
if (!isNode) (globalThis as unknown as WorkerScope).onmessage = (e) => (deliver ? deliver(e.data) : early.push(e.data));

async function connect(): Promise<Port> {
  if (isNode) {
    const { parentPort } = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
    if (!parentPort) throw new Error('dlmath worker host: not running in a worker thread');
    return {
      post: (m, t) => parentPort.postMessage(m, (t ?? []) as never),
      listen: (fn) => parentPort.on('message', fn),
    };
  }
  const scope = globalThis as unknown as WorkerScope;
  return {
    post: (m, t) => scope.postMessage(m, t ?? []),
    listen: (fn) => {
      deliver = fn;
      early.splice(0).forEach(fn);
    },
  };
}

// Lets queued messages in. setImmediate in Node; a MessageChannel in
// browsers, where nested timers are clamped to 4 ms.
function yielder(): () => Promise<void> {
  if (typeof setImmediate === 'function') return () => new Promise((resolve) => setImmediate(resolve));
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(0);
    });
}

const DESCRIPTION_KEYS = [
  'inputs',
  'outputs',
  'classTargets',
  'hasAccuracy',
  'numParameters',
  'layers',
  'parameterTable',
  'diagnosticsLayout',
  'sequence',
] as const satisfies readonly (keyof ModelDescription)[];

class Host {
  readonly #port: Port;
  readonly #models = new Map<number, Hosted>();
  readonly #yield = yielder();
  /** Column buffers back from the page, the largest last. */
  readonly #spare: ArrayBuffer[] = [];
  #dl: Promise<Dlmath> | null = null;
  #next = 1;

  constructor(port: Port) {
    this.#port = port;
    port.listen((data) => {
      const req = data as Request | Recycle;
      if (req.cmd === 'recycle') this.#keep(req.buffers);
      else void this.#handle(req);
    });
  }

  #keep(buffers: ArrayBuffer[]): void {
    this.#spare.push(...buffers.filter((b) => b instanceof ArrayBuffer && b.byteLength > 0));
    this.#spare.sort((a, b) => a.byteLength - b.byteLength);
    this.#spare.splice(0, Math.max(0, this.#spare.length - SPARE_BUFFERS));
  }

  // A float array of at least n floats for a chunk's columns: the largest spare buffer if it holds them,
  // else a new one rounded up to a power of two (a fit's first chunks grow 4x at a time: each size
  // is made once, then comes back).
  #columns = (n: number): Float32Array => {
    const last = this.#spare[this.#spare.length - 1];
    if (last && last.byteLength >= 4 * n) return new Float32Array(this.#spare.pop()!);
    return new Float32Array(Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(n, 1)))));
  };

  async #handle(req: Request): Promise<void> {
    try {
      const transfer: Transferable[] = [];
      const result = await this.#run(req, transfer);
      this.#post({ id: req.id, result }, transfer);
    } catch (e) {
      this.#post({ id: req.id, error: serializeError(e) });
    }
  }

  #post(reply: Reply, transfer?: Transferable[]): void {
    this.#port.post(reply, transfer);
  }

  async #run(req: Request, transfer: Transferable[]): Promise<unknown> {
    if (req.cmd === 'init') {
      // The module the page compiled once for all its trainers (worker-client.ts).
      this.#dl = loadDlmath({ wasmModule: req.wasmModule });
      return { target: (await this.#dl).target };
    }
    // Commands that arrive while the wasm loads wait for it, in order.
    if (!this.#dl) throw new Error(`dlmath worker host: '${req.cmd}' before 'init'`);
    const dl = await this.#dl;
    switch (req.cmd) {
      case 'create':
        return this.#host(dl.model(req.spec as never));
      case 'load':
        return this.#host(dl.loadModel(req.saved as never));
      case 'heapUsed':
        return dl.heapUsed();
      default:
        break;
    }
    const h = this.#models.get(req.model);
    if (!h) throw new DlmathError('disposed', 'this model was disposed in its worker', 'model');
    const m = h.model;
    switch (req.cmd) {
      case 'step':
        return m.step(req.x, req.y);
      case 'fit': {
        const run = this.#fit(h, req.id, req.x, req.y, req.options, req.progressMs, transfer, {
          stream: req.stream ?? true,
          maxSteps: req.maxSteps ?? Infinity,
          replyEpochs: req.replyEpochs ?? Infinity,
        });
        h.fitting = run.catch(() => undefined);
        try {
          return await run;
        } finally {
          h.fitting = null;
        }
      }
      case 'cancel':
        h.cancel = true;
        return null;
      case 'predict': {
        const r = m.predict(req.x);
        transfer.push(r.data.buffer);
        return r;
      }
      case 'evaluate':
        return m.evaluate(req.x, req.y);
      case 'stats':
        return m.stats();
      case 'setLr':
        m.setLr(req.lr);
        return null;
      case 'setParameterValue':
        m.setParameterValue(req.name, req.index, req.value);
        return null;
      case 'stash':
        h.sets.set(req.name, req.y ? { x: req.x, y: req.y } : { x: req.x });
        return null;
      case 'snapshot': {
        const snap = snapshot(m, h, req.request);
        transfer.push(...buffersOf(snap));
        return snap;
      }
      case 'export':
        return req.format === 'json' ? m.toJSON() : m.toPyTorch();
      case 'dispose':
        h.cancel = true;
        await h.fitting;
        this.#models.delete(req.model);
        m.dispose();
        return null;
    }
  }

  #host(model: DlModel): { model: number; info: ModelDescription } {
    const id = this.#next++;
    this.#models.set(id, { model, cancel: false, fitting: null, sets: new Map() });
    // The description's fields, copied (structured clone sends data, not a DlModel).
    const info = Object.fromEntries(DESCRIPTION_KEYS.map((k) => [k, model[k]])) as unknown as ModelDescription;
    return { model: id, info };
  }

  // The fit loop: chunks of about CHUNK_MS, a yield after each, progress at
  // most every progressMs (and once at the end).
  async #fit(
    h: Hosted,
    id: number,
    x: Parameters<DlModel['fitBegin']>[0],
    y: Parameters<DlModel['fitBegin']>[1],
    options: WorkerFitOptions,
    progressMs: number,
    transfer: Transferable[],
    { stream, maxSteps, replyEpochs }: { stream: boolean; maxSteps: number; replyEpochs: number },
  ): Promise<FitReply> {
    const m = h.model;
    h.cancel = false;
    // A chunk never runs more steps than the log keeps, so every step's loss streams.
    const logSteps = options.logSteps ?? WORKER_LOG_STEPS;
    let p = m.fitBegin(x, y, { ...options, logSteps });
    let steps = 0;
    let chunk = 1;
    // Each chunk's streamed columns, until a message sends them.
    let parts: Float32Array[] = [];
    let posted = performance.now();
    while (p.state === 'running' && !h.cancel && steps < maxSteps) {
      const t0 = performance.now();
      p = m.fitRun(Math.min(chunk, maxSteps - steps));
      const ms = performance.now() - t0;
      steps += p.stepsRun;
      // Towards CHUNK_MS per chunk, growing at most 4x at a time.
      chunk = Math.max(1, Math.min(chunk * 4, logSteps, Math.round((chunk * CHUNK_MS) / Math.max(ms, 0.01))));
      // (Nothing streams to a page that does not listen.)
      if (stream) {
        parts.push(m.diagnosticsColumns(STREAMED, this.#columns));
        if (performance.now() - posted >= progressMs || p.state !== 'running') {
          this.#progress(id, m, p, parts);
          parts = [];
          posted = performance.now();
        }
      }
      await this.#yield();
    }
    // Stopped by maxSteps or a cancel between two messages: the steps since the last one still stream.
    if (parts.length) this.#progress(id, m, p, parts);
    // The epochs as rows of numbers: the page decodes them (an object per epoch cost ~4 us each here
    // and as much again to clone, 100 ms at the end of a 2 s fit of a small model).
    const epochs = m.epochRows(replyEpochs);
    transfer.push(epochs.buffer);
    const { error, ...end } = fitStop(p, steps);
    return { epochs, ...end, error: error && serializeError(error) };
  }

  #progress(
    id: number,
    m: DlModel,
    p: ProgressMessage['progress'] & { error?: unknown },
    columns: Float32Array[],
  ): void {
    // Each chunk's columns as read, all transferred: the page joins them when there are several (a
    // chunk that ended just before progressMs left its columns to the next message). Joined here they
    // cost ~1 % of a small model's fit: a new array per message, its fresh pages faulted in. Each
    // buffer is the whole of a reused one (transferred whole, whatever the columns' length): the page
    // copies the columns out and sends it back.
    const { error: _, ...progress } = p;
    const diagnostics = m.diagnostics();
    this.#post({ id, progress: { progress, diagnostics, columns } }, [
      diagnostics.buffer,
      ...columns.map((c) => c.buffer),
    ]);
  }
}

// A set stashed under `name`, or an error naming it.
function stashed(h: Hosted, name: string, needY: boolean): { x: Packed; y?: Packed } {
  const set = h.sets.get(name);
  if (!set || (needY && !set.y))
    throw new DlmathError(
      'bad_value',
      `snapshot: no data set '${name}'${set ? ' with targets' : ''} was stashed for this model`,
      'model',
      name,
    );
  return set;
}

// The numbers of a snapshot. Evaluations and gradients first: a forward pass
// after them leaves its layer outputs readable.
function snapshot(m: DlModel, h: Hosted, r: SnapshotRequest): Snapshot {
  const t0 = performance.now();
  const snap: Snapshot = { step: m.stepCount, ms: 0, diagnostics: m.diagnostics() };
  if (r.evaluate) {
    snap.evaluate = {};
    for (const name of r.evaluate) {
      const set = stashed(h, name, true);
      snap.evaluate[name] = m.evaluate(set.x, set.y!);
    }
  }
  if (r.gradients) {
    const set = stashed(h, r.gradients, true);
    snap.gradients = m.gradients(set.x, set.y!);
  }
  if (r.inputGradient) {
    const set = stashed(h, r.inputGradient, true);
    snap.inputGradient = m.inputGradient(set.x, set.y!);
  }
  if (r.parameters === true) {
    const all = m.stateDict();
    snap.parameters = {};
    for (const p of m.parameterTable) if (p.kind === 'parameter') snap.parameters[p.name] = all[p.name]!;
  } else if (r.parameters) snap.parameters = Object.fromEntries(r.parameters.map((n) => [n, m.getParameter(n)]));
  if (r.forward)
    snap.forward = r.forward.map(({ set, layers = [] }) => ({
      outputs: m.predict(stashed(h, set, false).x),
      layers: layers.map((i) => m.layerOutput(i)),
    }));
  snap.ms = performance.now() - t0;
  return snap;
}

// Every array buffer of a snapshot, to transfer rather than copy.
function buffersOf(s: Snapshot): ArrayBuffer[] {
  const out: ArrayBuffer[] = [s.diagnostics.buffer as ArrayBuffer];
  const add = (r: { data: Float32Array } | undefined) => r && out.push(r.data.buffer as ArrayBuffer);
  add(s.inputGradient);
  for (const r of Object.values(s.gradients ?? {})) add(r);
  for (const r of Object.values(s.parameters ?? {})) add(r);
  for (const f of s.forward ?? []) {
    add(f.outputs);
    f.layers.forEach(add);
  }
  return out;
}

void connect().then((port) => new Host(port));
