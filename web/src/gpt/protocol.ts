// Messages between the GPT page and its worker. The page sends a request
// with an id; the worker answers with progress messages, then a result or
// an error, all carrying that id. `stop` ends a running pretrain or
// fine-tune at its next chunk.
import type { GptAttention, GptHistory, TokenProbability } from '../engine/index.js';

/** Network sizes of the page: the configs S and M. */
export const CONFIGS = {
  S: { layers: 2, heads: 4, dim: 64, lr: 3e-3 },
  M: { layers: 4, heads: 4, dim: 128, lr: 1e-3 },
} as const;
export type ConfigName = keyof typeof CONFIGS;

export type Request =
  | { cmd: 'init'; source: 'names' | 'text'; text?: string; config: ConfigName; steps: number }
  | { cmd: 'pretrain'; steps: number }
  | { cmd: 'sample'; count: number; temperature: number; topK: number; seed: number }
  | { cmd: 'next'; prefix: string }
  | { cmd: 'attention'; text: string }
  | { cmd: 'finetune'; steps: number; lambda: number }
  | { cmd: 'checkpoint'; history: GptHistory }
  | { cmd: 'load'; json: string }
  | { cmd: 'pytorch' }
  | { cmd: 'stop' };

/** What the model holds after init or load. */
export interface ModelInfo {
  vocab: number;
  characters: string;
  parameters: number;
  texts: number;
  validation: number;
  step: number;
  names: boolean;
  config: ConfigName;
}

/** Pretraining progress: the mean training loss of the chunk, held-out loss now and then. */
export interface PretrainProgress {
  step: number;
  loss: number;
  val?: { loss: number; perplexity: number };
  stepsPerSecond: number;
}

/** The three fine-tuning runs: validation accuracy of each at `step`. */
export interface FinetuneProgress {
  step: number;
  accuracy: [number, number, number];
  stepsPerSecond: number;
}

export interface FinetuneResult {
  majority: number;
  accuracy: [number, number, number];
  lambda: number;
  steps: number;
  train: number;
  validation: number;
  ambiguous: number;
}

export type Results = {
  init: ModelInfo;
  pretrain: { step: number; stopped: boolean; val: { loss: number; perplexity: number } };
  sample: string[];
  next: TokenProbability[];
  attention: GptAttention;
  finetune: FinetuneResult & { stopped: boolean };
  checkpoint: string;
  load: ModelInfo & { history: GptHistory | null };
  pytorch: string;
  stop: null;
};

export type Reply =
  | { id: number; progress: PretrainProgress | FinetuneProgress }
  | { id: number; result: unknown }
  | { id: number; error: { code: string; message: string } };
