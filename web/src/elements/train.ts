// <dlmath-train v.data="xor">: the training playground (the full page's
// `#e=train`), its state in the `v.*` attributes. Each element trains in a
// worker of its own, started when it comes near the screen and ended when it
// is removed, so two elements on a page never wait for each other.
import { LESSONS } from '../views/index.js';
import { DlmathElement, type ElementTarget } from './base.js';

/** A small network trained live: data, architecture and optimizer from the `v.*` attributes. */
export class DlmathTrain extends DlmathElement {
  // The data, the network, the optimizer and learning rate, the buttons, the plane and the loss and
  // accuracy curves; the rest (elements.css) behind the "more" button.
  protected override get compact(): boolean {
    return true;
  }

  protected async target(): Promise<ElementTarget> {
    const { meta, load } = LESSONS.train!;
    return { target: { lesson: meta, load }, params: {}, page: 'train' };
  }
}
