// The page's side of the worker host: `dl.worker()` starts a Web Worker (a
// worker thread under Node) running worker.ts with its own wasm instance;
// DlTrainer and RemoteModel turn commands into promises and streamed
// progress into callbacks. terminate() ends the worker, which frees all of
// its memory, and rejects whatever was still pending.
import type { InputValue, Result } from './dlmath.js';
import { LIMITS } from './gen/ops.js';
import { describe, DlmathError } from './errors.js';
import { disposeSymbol } from './handles.js';
import { compileTraining, isNode } from './loader.js';
import {
  decodeEpochs,
  decodeStats,
  type FitHistory,
  type FitProgress,
  type ModelDescription,
  type ModelSpec,
  type ModelStats,
  type SavedModel,
  type StepResult,
} from './model.js';
import { DlTensor, flatten } from './tensor.js';
import {
  deserializeError,
  importNode,
  type Command,
  type FitReply,
  type Packed,
  type ProgressMessage,
  type Recycle,
  type Reply,
  type Snapshot,
  type SnapshotRequest,
  type WorkerFitOptions,
} from './worker-protocol.js';

export type { Snapshot, SnapshotRequest };

/** Where the worker's files are, for hosts that move them. */
export interface TrainerOptions {
  /** URL (or Node path URL) of the worker module, default: worker.js beside this module. */
  workerUrl?: string | URL;
  /** URL of dlmath_wasm.wasm (the full module), default: beside this module. It is compiled once per page and shared by every trainer. */
  wasmUrl?: string | URL;
}

/** What a worker fit streams: its progress, the latest step's diagnostics and the losses since the last call. */
export interface TrainProgress extends Omit<FitProgress, 'error'> {
  stats: ModelStats;
  /** Loss of every step since the previous call (every step: a worker chunk runs at most `logSteps` steps, default 16384). */
  losses: Float32Array;
  /** Learning rate of the same steps (losses and lrs are two halves of one buffer). */
  lrs: Float32Array;
}

/** Fit options of a worker fit: the core's, plus progress and cancelling. */
export interface RemoteFitOptions extends WorkerFitOptions {
  /** Called at most once per `progressMs`. */
  onProgress?: (progress: TrainProgress) => void;
  /** Minimum time between progress calls (default 16 ms: one per frame). */
  progressMs?: number;
  /** Aborting it cancels the fit; it then resolves with stop 'cancelled'. */
  signal?: AbortSignal;
  /** Stop after this many steps (stop 'cancelled'): a step button runs a fit of one step. */
  maxSteps?: number;
  /**
   * The reply's `epochs` keeps only the last this many (default: all). A page that charts the
   * epochs streamed by progress sets it, so that pausing a long fit does not clone its whole list.
   */
  replyEpochs?: number;
}

interface Endpoint {
  post(message: unknown, transfer: Transferable[]): void;
  terminate(): Promise<void>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  progress?: (m: ProgressMessage) => void;
}

// A variable, not a literal: bundlers must not copy worker.js as an asset
// for the Node path (browsers take the literal `new Worker(new URL(...))`).
const WORKER_FILE = './worker.js';

/**
 * Trains models off the main thread: each lives in the worker's own wasm
 * instance. Get one with `dl.worker()`; end it with `terminate()`.
 */
export class DlTrainer {
  readonly #endpoint: Promise<Endpoint>;
  /** The endpoint once started (progress arrives only then). */
  #started: Endpoint | null = null;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #closed: Error | null = null;

  /** @internal Use `dl.worker()`. */
  constructor(options: TrainerOptions = {}) {
    const spawned = this.#spawn(options.workerUrl);
    // The worker starts while the page fetches and compiles the full module, once for all its trainers
    // (a WebAssembly.Module is structured-cloneable); no command goes out before 'init'. Its reply (id 0)
    // is not awaited: a failed load is reported to every later call.
    this.#endpoint = Promise.all([spawned, compileTraining(options.wasmUrl)]).then(([endpoint, wasmModule]) => {
      endpoint.post({ cmd: 'init', id: 0, wasmModule }, []);
      this.#started = endpoint;
      return endpoint;
    });
    this.#endpoint.catch((e: unknown) => {
      this.#fail(e instanceof Error ? e : new Error(String(e)));
      void spawned.then((w) => w.terminate()).catch(() => undefined);
    });
  }

  /**
   * Builds a model in the worker.
   * @param spec - as for `dl.model`
   */
  async model(spec: ModelSpec): Promise<RemoteModel> {
    const r = (await this.call({ cmd: 'create', spec })) as { model: number; info: ModelDescription };
    return new RemoteModel(this, r.model, r.info);
  }

  /**
   * Restores a saved model in the worker.
   * @param saved - `model.toJSON()`'s object or its text
   */
  async loadModel(saved: SavedModel | string): Promise<RemoteModel> {
    const r = (await this.call({ cmd: 'load', saved })) as { model: number; info: ModelDescription };
    return new RemoteModel(this, r.model, r.info);
  }

  /** Bytes in use on the worker's wasm heap. */
  async heapUsed(): Promise<number> {
    return (await this.call({ cmd: 'heapUsed' })) as number;
  }

  /** Whether terminate() has run (or the worker died). */
  get terminated(): boolean {
    return this.#closed !== null;
  }

  /** Ends the worker and frees everything in it; pending calls reject with 'disposed'. */
  async terminate(): Promise<void> {
    if (this.#closed) return;
    this.#fail(new DlmathError('disposed', 'the trainer was terminated (dl.worker().terminate())'));
    const endpoint = await this.#endpoint.catch(() => null);
    await endpoint?.terminate();
  }

  [disposeSymbol](): void {
    void this.terminate();
  }

  /**
   * @internal Sends a command; resolves with its result.
   * @param command - the command
   * @param transfer - buffers to move to the worker
   * @param progress - receives streamed progress messages
   */
  async call(command: Command, transfer: Transferable[] = [], progress?: Pending['progress']): Promise<unknown> {
    if (this.#closed) throw this.#closed;
    const id = this.#next++;
    const done = new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject, progress }));
    // A worker that failed to start or was terminated meanwhile has rejected `done`.
    const endpoint = await this.#endpoint.catch(() => null);
    if (endpoint && !this.#closed)
      try {
        endpoint.post({ ...command, id }, transfer);
      } catch (e) {
        // Not structured-clonable (a function in a spec, ...).
        this.#pending.delete(id);
        throw new DlmathError(
          'bad_type',
          `worker: the '${command.cmd}' command cannot be sent: ${(e as Error).message}`,
        );
      }
    return done;
  }

  /**
   * @internal Hands progress buffers back to the worker, which refills them (no reply).
   * @param buffers - ProgressMessage.columns' buffers, copied out of
   */
  recycle(buffers: ArrayBuffer[]): void {
    if (this.#closed || !this.#started) return;
    const message: Recycle = { cmd: 'recycle', buffers };
    this.#started.post(message, buffers);
  }

  #receive(reply: Reply): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    if ('progress' in reply) {
      p.progress?.(reply.progress);
      return;
    }
    this.#pending.delete(reply.id);
    if ('error' in reply) p.reject(deserializeError(reply.error));
    else p.resolve(reply.result);
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const p of this.#pending.values()) p.reject(this.#closed);
    this.#pending.clear();
  }

  async #spawn(url: string | URL | undefined): Promise<Endpoint> {
    const died = (why: string) => this.#fail(new DlmathError('disposed', `the trainer's worker stopped: ${why}`));
    if (isNode) {
      const { Worker } = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
      const w = new Worker(url ?? new URL(WORKER_FILE, import.meta.url));
      w.on('message', (m: Reply) => this.#receive(m));
      w.on('error', (e: Error) => died(e.message));
      w.on('exit', (code: number) => died(`exit code ${code}`));
      return {
        post: (m, t) => w.postMessage(m, t as never),
        terminate: async () => void (await w.terminate()),
      };
    }
    const w = url
      ? new Worker(url, { type: 'module' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<Reply>) => this.#receive(e.data);
    w.onerror = (e: ErrorEvent) => died(e.message || 'the worker script failed to load');
    return {
      post: (m, t) => w.postMessage(m, t),
      terminate: async () => w.terminate(),
    };
  }
}

// The description's fields, set by the constructor (Object.assign).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface RemoteModel extends ModelDescription {}

/** A model living in a trainer's worker: the methods of DlModel, as promises. */
export class RemoteModel {
  readonly #trainer: DlTrainer;
  readonly #id: number;

  /** @internal Use `trainer.model(spec)`. */
  constructor(trainer: DlTrainer, id: number, info: ModelDescription) {
    this.#trainer = trainer;
    this.#id = id;
    Object.assign(this, info);
  }

  /**
   * One training step in the worker.
   * @param x - inputs (any input form of `dl.eval`)
   * @param y - targets
   */
  async step(x: InputValue, y: InputValue): Promise<StepResult> {
    const xs = pack(x, 'model.step', 'x');
    const ys = pack(y, 'model.step', 'y');
    return (await this.#call({ cmd: 'step', model: this.#id, x: xs, y: ys }, [
      xs.data.buffer,
      ys.data.buffer,
    ])) as StepResult;
  }

  /**
   * Trains in the worker, streaming progress; cancel with `options.signal` or {@link RemoteModel.cancel}.
   * @param x - every example's inputs
   * @param y - every example's targets
   * @param options - the fit options of `model.fit`, onProgress, progressMs, signal
   */
  async fit(x: InputValue, y: InputValue, options: RemoteFitOptions = {}): Promise<FitHistory> {
    if (typeof options !== 'object' || options === null)
      throw new DlmathError('bad_type', `model.fit: options must be an object, got ${describe(options)}`, 'model');
    const { onProgress, progressMs = 16, signal, maxSteps, replyEpochs, ...core } = options;
    if (replyEpochs !== undefined && !(Number.isInteger(replyEpochs) && replyEpochs >= 0))
      throw new DlmathError(
        'bad_value',
        `model.fit: replyEpochs must be a whole number >= 0, got ${describe(replyEpochs)}`,
        'model',
        'replyEpochs',
      );
    const xs = pack(x, 'model.fit', 'x');
    const ys = pack(y, 'model.fit', 'y');
    const progress = onProgress
      ? ({ progress, diagnostics, columns }: ProgressMessage) => {
          const { losses, lrs } = copyColumns(columns);
          this.#trainer.recycle(columns.map((c) => c.buffer as ArrayBuffer));
          onProgress({
            ...progress,
            stats: decodeStats(diagnostics, 0, this.diagnosticsLayout, this.layers),
            losses,
            lrs,
          });
        }
      : undefined;
    const abort = () => void this.cancel().catch(() => undefined);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const run = this.#call(
        {
          cmd: 'fit',
          model: this.#id,
          x: xs,
          y: ys,
          options: core,
          progressMs,
          stream: progress !== undefined,
          ...(maxSteps ? { maxSteps } : {}),
          ...(replyEpochs !== undefined ? { replyEpochs } : {}),
        },
        [xs.data.buffer, ys.data.buffer],
        progress,
      );
      if (signal?.aborted) abort();
      const { epochs, error, ...end } = (await run) as FitReply;
      const h = { epochs: decodeEpochs(epochs), ...end };
      return error ? { ...h, error: deserializeError(error) as DlmathError } : h;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Stops this model's running fit after its current chunk (it resolves with stop 'cancelled'). */
  async cancel(): Promise<void> {
    await this.#call({ cmd: 'cancel', model: this.#id });
  }

  /**
   * Outputs in eval mode.
   * @param x - inputs
   */
  async predict(x: InputValue): Promise<Result> {
    const xs = pack(x, 'model.predict', 'x');
    return (await this.#call({ cmd: 'predict', model: this.#id, x: xs }, [xs.data.buffer])) as Result;
  }

  /**
   * Loss and accuracy in eval mode.
   * @param x - inputs
   * @param y - targets
   */
  async evaluate(x: InputValue, y: InputValue): Promise<{ loss: number; accuracy: number }> {
    const xs = pack(x, 'model.evaluate', 'x');
    const ys = pack(y, 'model.evaluate', 'y');
    return (await this.#call({ cmd: 'evaluate', model: this.#id, x: xs, y: ys }, [xs.data.buffer, ys.data.buffer])) as {
      loss: number;
      accuracy: number;
    };
  }

  /** The last step's diagnostics. */
  async stats(): Promise<ModelStats> {
    return (await this.#call({ cmd: 'stats', model: this.#id })) as ModelStats;
  }

  /**
   * Changes the base learning rate from the next step on.
   * @param lr - a finite number >= 0
   */
  async setLr(lr: number): Promise<void> {
    await this.#call({ cmd: 'setLr', model: this.#id, lr });
  }

  /**
   * Sets one value of a parameter (e.g. a weight clicked in a diagram).
   * @param name - e.g. 'layers.0.weight'
   * @param index - row-major index
   * @param value - the new value
   */
  async setParameterValue(name: string, index: number, value: number): Promise<void> {
    await this.#call({ cmd: 'setParameterValue', model: this.#id, name, index, value });
  }

  /**
   * Keeps a data set in the worker under a name, for snapshots (sent once, used at every snapshot).
   * @param name - e.g. 'test' or 'grid'; a set of the same name is replaced
   * @param x - inputs
   * @param y - targets (needed by evaluate, gradients and inputGradient)
   */
  async stash(name: string, x: InputValue, y?: InputValue): Promise<void> {
    const xs = pack(x, 'model.stash', 'x');
    const ys = y === undefined ? undefined : pack(y, 'model.stash', 'y');
    await this.#call(
      { cmd: 'stash', model: this.#id, name, x: xs, ...(ys ? { y: ys } : {}) },
      ys ? [xs.data.buffer, ys.data.buffer] : [xs.data.buffer],
    );
  }

  /**
   * Several numbers of the model at once, computed in the worker between two
   * chunks of a running fit: forward passes with chosen layers' outputs,
   * input and parameter gradients, evaluations and the parameters, on sets
   * stashed before. Everything comes back in transferred buffers.
   * @param request - what to compute
   */
  async snapshot(request: SnapshotRequest): Promise<Snapshot> {
    return (await this.#call({ cmd: 'snapshot', model: this.#id, request })) as Snapshot;
  }

  /** The saved model (see `model.toJSON()`). */
  async toJSON(): Promise<SavedModel> {
    return (await this.#call({ cmd: 'export', model: this.#id, format: 'json' })) as SavedModel;
  }

  /** PyTorch source that rebuilds the model (see `model.toPyTorch()`). */
  async toPyTorch(): Promise<string> {
    return (await this.#call({ cmd: 'export', model: this.#id, format: 'pytorch' })) as string;
  }

  /** Frees the model in the worker (after cancelling its fit, if one runs). */
  async dispose(): Promise<void> {
    await this.#call({ cmd: 'dispose', model: this.#id });
  }

  #call(command: Command, transfer?: Transferable[], progress?: (m: ProgressMessage) => void): Promise<unknown> {
    return this.#trainer.call(command, transfer, progress);
  }
}

// The chunks' columns (each its losses, then its lrs) copied into one new buffer, all the losses then
// all the lrs: the chunks' buffers go back to the worker.
function copyColumns(chunks: Float32Array[]): { losses: Float32Array; lrs: Float32Array } {
  const n = chunks.reduce((sum, c) => sum + c.length / 2, 0);
  const out = new Float32Array(2 * n);
  let at = 0;
  for (const c of chunks) {
    const rows = c.length / 2;
    out.set(c.subarray(0, rows), at);
    out.set(c.subarray(rows), n + at);
    at += rows;
  }
  return { losses: out.subarray(0, n), lrs: out.subarray(n) };
}

// An input as float32 values and a shape, in a fresh buffer to transfer.
function pack(value: InputValue, call: string, arg: string): Packed {
  if (value instanceof DlTensor) return { shape: value.shape, data: value.data() };
  const { shape, data } = flatten(LIMITS, value, call, arg);
  return { shape, data: new Float32Array(data) };
}
