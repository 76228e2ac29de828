// Types of 'dlmath/elements', written by hand like the engine's Embind types
// (Emscripten cannot emit them, STYLE §6); the implementation is
// src/elements/. Importing the module defines the three elements.

/** One engine call behind the numbers an element shows. */
export interface ShownCall {
  /** What it is on screen, e.g. 'loss curve'. */
  label: string;
  /** The registry id (or the formula's text) called. */
  id: string;
  /** Which result the values come from: 'value', 'grad:<input>', 'aux:<name>', 'formula', ... */
  what: string;
  inputs: Record<string, { shape: number[]; data: number[] }>;
  params: Record<string, number | string | boolean>;
  /** The numbers shown, in the result's flat order. */
  values: number[];
}

declare abstract class DlmathElement extends HTMLElement {
  /** The engine calls behind the numbers on screen. */
  shown(): ShownCall[];
  /** How many times the element has built its view (0 until it first came near the screen). */
  readonly renders: number;
}

/**
 * `<dlmath-entry e="huber" p.delta="0.5">`: a catalogue entry with its formula, live view and params.
 * Attributes are the playground's URL keys: `e`, `p.<param>`, `v.<view value>`, `lang`, `theme`, and `href`
 * (the playground's address, for an "open in dlmath" link).
 */
export declare class DlmathEntry extends DlmathElement {}

/** `<dlmath-formula value="x*sigmoid(1.702*x)">`: the formula evaluator, f and its exact derivative. */
export declare class DlmathFormula extends DlmathElement {}

/**
 * `<dlmath-train v.data="xor">`: the training playground, a network trained live in a worker of its own.
 * Attributes are the training page's URL keys (`v.data`, `v.layers`, `v.act`, `v.lr`, ...), `lang`, `theme`, `href`.
 */
export declare class DlmathTrain extends DlmathElement {}

declare global {
  interface HTMLElementTagNameMap {
    'dlmath-entry': DlmathEntry;
    'dlmath-formula': DlmathFormula;
    'dlmath-train': DlmathTrain;
  }
}
