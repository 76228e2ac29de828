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
import type { DlModel, FitHistory, ModelDescription } from './model.js';
import {
  importNode,
  serializeError,
  type FitReply,
  type Port,
  type ProgressMessage,
  type Reply,
  type Request,
  type WorkerFitOptions,
} from './worker-protocol.js';

/** Training time between two yields to the worker's event loop. */
const CHUNK_MS = 4;

interface Hosted {
  model: DlModel;
  cancel: boolean;
  /** The running fit, if any (dispose waits for it). */
  fitting: Promise<unknown> | null;
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

class Host {
  readonly #port: Port;
  readonly #models = new Map<number, Hosted>();
  readonly #yield = yielder();
  #dl: Promise<Dlmath> | null = null;
  #next = 1;

  constructor(port: Port) {
    this.#port = port;
    port.listen((data) => void this.#handle(data as Request));
  }

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
      this.#dl = loadDlmath(req.wasmUrl ? { wasmUrl: req.wasmUrl } : {});
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
        const run = this.#fit(h, req.id, req.x, req.y, req.options, req.progressMs);
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
    this.#models.set(id, { model, cancel: false, fitting: null });
    const { inputs, outputs, classTargets, hasAccuracy, numParameters, layers, parameterTable, diagnosticsLayout } =
      model;
    return {
      model: id,
      info: { inputs, outputs, classTargets, hasAccuracy, numParameters, layers, parameterTable, diagnosticsLayout },
    };
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
  ): Promise<FitReply> {
    const m = h.model;
    h.cancel = false;
    let p = m.fitBegin(x, y, options);
    let steps = 0;
    let chunk = 1;
    let losses: Float32Array[] = [];
    let posted = performance.now();
    while (p.state === 'running' && !h.cancel) {
      const t0 = performance.now();
      p = m.fitRun(chunk);
      const ms = performance.now() - t0;
      steps += p.stepsRun;
      // Towards CHUNK_MS per chunk, growing at most 4x at a time.
      chunk = Math.max(1, Math.min(chunk * 4, Math.round((chunk * CHUNK_MS) / Math.max(ms, 0.01))));
      losses.push(m.diagnosticsColumn('loss'));
      if (performance.now() - posted >= progressMs || p.state !== 'running') {
        this.#progress(id, m, p, losses);
        losses = [];
        posted = performance.now();
      }
      await this.#yield();
    }
    const history: FitHistory = m.fitEnd(p, steps);
    return { ...history, error: history.error && serializeError(history.error) };
  }

  #progress(id: number, m: DlModel, p: ProgressMessage['progress'] & { error?: unknown }, parts: Float32Array[]): void {
    const losses = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of parts) {
      losses.set(a, at);
      at += a.length;
    }
    const { error: _, ...progress } = p;
    const diagnostics = m.diagnostics();
    this.#post({ id, progress: { progress, diagnostics, losses } }, [diagnostics.buffer, losses.buffer]);
  }
}

void connect().then((port) => new Host(port));
