// The messages between the page (worker-client.ts) and the worker host
// (worker.ts), and the one message port both sides talk through, in
// browsers (Worker / DedicatedWorkerGlobalScope) and Node (worker_threads).
import { DlmathError, type ErrorCode } from './errors.js';
import type { Result } from './dlmath.js';
import type { FitOptions, FitProgress, StopReason } from './model.js';

/** An array on its way to the worker: float32 values and their shape (the buffer is transferred). */
export interface Packed {
  shape: number[];
  data: Float32Array;
}

/** Fit options that cross to the worker (no callbacks). */
export type WorkerFitOptions = Omit<FitOptions, 'onProgress' | 'progressSteps'>;

/** What the page asks; `id` pairs the reply. */
export type Command =
  | { cmd: 'init'; wasmModule: WebAssembly.Module }
  | { cmd: 'create'; spec: unknown }
  | { cmd: 'load'; saved: unknown }
  | { cmd: 'step'; model: number; x: Packed; y: Packed }
  | {
      cmd: 'fit';
      model: number;
      x: Packed;
      y: Packed;
      options: WorkerFitOptions;
      progressMs: number;
      /** Whether the page listens to progress (default true): else the host sends none. */
      stream?: boolean;
      /** Stop ('cancelled') after this many steps. */
      maxSteps?: number;
      /** The reply keeps only the last this many epochs. */
      replyEpochs?: number;
    }
  | { cmd: 'stash'; model: number; name: string; x: Packed; y?: Packed }
  | { cmd: 'snapshot'; model: number; request: SnapshotRequest }
  | { cmd: 'setParameterValue'; model: number; name: string; index: number; value: number }
  | { cmd: 'cancel'; model: number }
  | { cmd: 'predict'; model: number; x: Packed }
  | { cmd: 'evaluate'; model: number; x: Packed; y: Packed }
  | { cmd: 'stats'; model: number }
  | { cmd: 'setLr'; model: number; lr: number }
  | { cmd: 'export'; model: number; format: 'json' | 'pytorch' }
  | { cmd: 'dispose'; model: number }
  | { cmd: 'heapUsed' };
export type Request = Command & { id: number };
/** Progress buffers (ProgressMessage.columns) the page has copied out of, back for reuse: no id, no reply. */
export interface Recycle {
  cmd: 'recycle';
  buffers: ArrayBuffer[];
}

/**
 * What one snapshot holds, computed between two chunks of a running fit (or
 * at rest). Data sets are named: the page sends them once with 'stash'.
 */
export interface SnapshotRequest {
  /** Forward passes in eval mode: each set's outputs and the outputs of the listed layers. */
  forward?: { set: string; layers?: number[] }[];
  /** ∂loss/∂input of every row of a set (its targets are needed). */
  inputGradient?: string;
  /** d(loss + penalties)/d parameters on a set, without an update (running statistics move as in training). */
  gradients?: string;
  /** Loss and accuracy on sets, in eval mode. */
  evaluate?: string[];
  /** Trainable parameters' values: every one (true) or the named ones. */
  parameters?: boolean | string[];
}

/** A snapshot's numbers (every array in its own transferred buffer). */
export interface Snapshot {
  /** The model's optimizer steps so far. */
  step: number;
  /** Milliseconds the worker spent computing this snapshot (training waited meanwhile). */
  ms: number;
  /** The last step's diagnostics row (decode with the model's layout). */
  diagnostics: Float32Array;
  forward?: { outputs: Result; layers: Result[] }[];
  inputGradient?: Result;
  gradients?: Record<string, Result>;
  evaluate?: Record<string, { loss: number; accuracy: number }>;
  parameters?: Record<string, Result>;
}

/** A fit's streamed progress: at most one message per `progressMs`. */
export interface ProgressMessage {
  progress: Omit<FitProgress, 'error'>;
  /** The latest step's diagnostics row (decode with the model's layout). */
  diagnostics: Float32Array;
  /**
   * Every chunk's columns since the previous message, in order, each in its own buffer: the loss of
   * its steps (every step: a worker chunk runs at most `logSteps` steps, default 16384), then their
   * learning rates, two equal halves. Each is a view of a buffer the host reuses: the page copies the
   * columns out and sends the buffers back ('recycle').
   */
  columns: Float32Array[];
}

/** A fit's result as it crosses back. */
export interface FitReply {
  /** Rows of numbers per epoch (DlModel.epochRows; decodeEpochs). */
  epochs: Float64Array;
  stop: StopReason;
  steps: number;
  bestEpoch: number;
  error?: SerializedError;
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  op?: string;
  arg?: string;
  column?: number;
  length?: number;
}

export type Reply =
  { id: number; result: unknown } | { id: number; error: SerializedError } | { id: number; progress: ProgressMessage };

/** An error as a structured-clonable object (a DlmathError keeps its fields). */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof DlmathError)
    return {
      name: e.name,
      message: e.message,
      code: e.code,
      op: e.op,
      arg: e.arg,
      column: e.column,
      length: e.length,
    };
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

/** The error again: a DlmathError when it was one. */
export function deserializeError(e: SerializedError): Error {
  if (e.code !== undefined)
    return new DlmathError(e.code as ErrorCode, e.message, e.op ?? '', e.arg ?? '', e.column ?? 0, e.length ?? 0);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** One side's message port. */
export interface Port {
  post(message: unknown, transfer?: Transferable[]): void;
  /** @param fn - called with every message's data */
  listen(fn: (data: unknown) => void): void;
}

/**
 * Imports a Node built-in by a name bundlers do not follow (browsers never reach it).
 * @param name - e.g. 'node:worker_threads'
 */
export function importNode<T>(name: string): Promise<T> {
  return import(/* @vite-ignore */ name) as Promise<T>;
}
