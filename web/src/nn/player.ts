// The Player: play, pause, step and reset for a model that lives in a Web
// Worker (dl.worker()). Training advances through one entry point, a fit in
// the worker, stopped by a cancel token (an AbortController): pause cancels
// it and waits until the worker has stopped, so nothing else runs on the
// model meanwhile. No DOM here; the page listens to progress and draws.
import type {
  DlTrainer,
  FitHistory,
  InputValue,
  ModelSpec,
  RemoteModel,
  SavedModel,
  TrainProgress,
} from '../engine/index.js';
import type { WorkerFitOptions } from '../engine/worker-protocol.js';
import { HISTORY_POINTS } from './history.js';

/** A data set sent to the worker once and named for snapshots. */
export interface NamedSet {
  name: string;
  x: InputValue;
  y?: InputValue;
}

/** Plays a remote model's training. */
export class Player {
  readonly #trainer: DlTrainer;
  #model: RemoteModel | null = null;
  #abort: AbortController | null = null;
  #running: Promise<FitHistory | null> | null = null;
  #train: { x: InputValue; y: InputValue } | null = null;
  #options: WorkerFitOptions = {};
  #generation = 0;

  /** @param trainer - the worker host the model lives in (the Player terminates it in dispose()). */
  constructor(trainer: DlTrainer) {
    this.#trainer = trainer;
  }

  /** The model, once built. */
  get model(): RemoteModel | null {
    return this.#model;
  }

  /** Whether a fit is running. */
  get playing(): boolean {
    return this.#running !== null;
  }

  /**
   * Builds (or rebuilds) the model; a running fit is stopped first.
   * @param spec - the model spec
   * @param weights - a saved model whose parameters carry over when their names and shapes fit the new spec
   * @returns whether the weights carried over
   */
  async build(spec: ModelSpec, weights?: SavedModel | null): Promise<boolean> {
    await this.pause();
    const gen = ++this.#generation;
    const old = this.#model;
    this.#model = null;
    await old?.dispose().catch(() => undefined);
    let model: RemoteModel | null = null;
    let carried = false;
    if (weights)
      try {
        model = await this.#trainer.loadModel({ ...weights, spec });
        carried = true;
      } catch {
        model = null; // the shapes changed: a fresh model
      }
    model ??= await this.#trainer.model(spec);
    if (gen !== this.#generation) {
      await model.dispose().catch(() => undefined);
      throw new Error('superseded');
    }
    this.#model = model;
    return carried;
  }

  /**
   * The training data and fit options of later play() and step() calls, and named sets for snapshots.
   * @param train - inputs and targets trained on
   * @param options - epochs, batch size, validation split, early stopping
   * @param sets - sets the page's snapshots read (test points, the grid)
   */
  async setData(
    train: { x: InputValue; y: InputValue },
    options: WorkerFitOptions,
    sets: readonly NamedSet[],
  ): Promise<void> {
    this.#train = train;
    this.#options = options;
    const m = this.#need();
    for (const s of sets) await m.stash(s.name, s.x, s.y);
  }

  /**
   * Trains until paused, the epochs limit or early stopping.
   * @param onProgress - streamed at most once per frame
   * @param maxSteps - stop after this many steps (a step button: 1)
   * @returns the fit's history, or null when the model was rebuilt meanwhile
   */
  play(onProgress: (p: TrainProgress) => void, maxSteps?: number): Promise<FitHistory | null> {
    if (this.#running) return this.#running;
    const m = this.#need();
    const train = this.#train;
    if (!train) throw new Error('Player: setData() first');
    const abort = new AbortController();
    this.#abort = abort;
    const run = m
      .fit(train.x, train.y, {
        ...this.#options,
        onProgress,
        signal: abort.signal,
        progressMs: 16,
        maxSteps,
        // The page keeps at most HISTORY_POINTS epochs: a long fit's whole list is not cloned back.
        replyEpochs: HISTORY_POINTS,
      })
      .finally(() => {
        if (this.#running === run) {
          this.#running = null;
          this.#abort = null;
        }
      });
    this.#running = run;
    return run;
  }

  /** Stops a running fit and waits until the worker has stopped it. */
  async pause(): Promise<void> {
    const run = this.#running;
    if (!run) return;
    this.#abort?.abort();
    await run.catch(() => undefined);
  }

  /** Bytes in use on the worker's wasm heap (a model rebuilt many times must not grow it). */
  heapUsed(): Promise<number> {
    return this.#trainer.heapUsed();
  }

  /** Ends the worker: the model and everything it held are freed. */
  async dispose(): Promise<void> {
    ++this.#generation;
    this.#abort?.abort();
    this.#model = null;
    await this.#trainer.terminate();
  }

  #need(): RemoteModel {
    if (!this.#model) throw new Error('Player: no model built');
    return this.#model;
  }
}
