// What the catalogue, the search and a page's head say about the pages that
// are not registry entries: their titles and texts, known without loading
// their code (each page's module loads when it is opened, see index.ts).
import { TRAIN_LABELS } from '../train/labels.js';
import type { LessonMeta } from './view.js';

/** The formula evaluator. */
export const FORMULA_LESSON: LessonMeta = {
  id: 'formula',
  title: { en: 'Formula evaluator', zh: '公式求值器' },
  latex: '',
  doc: {
    en: 'Type any expression in x using + − × ÷ ^, parentheses, the usual functions (exp, log, sqrt, sin, tanh, min, max, …) and every element-wise entry of the catalogue by its id, such as sigmoid(x) or elu(x, 0.5), where extra arguments set that entry’s params. Other names become parameters with their own sliders. The WebAssembly core parses the text, evaluates it over the whole range in one call and computes the derivative exactly by forward-mode automatic differentiation, so f′ is not a finite-difference estimate. Nothing you type is ever run as JavaScript.',
    zh: '在这里输入关于 x 的任意表达式:可以用 + − × ÷ ^、括号、常见函数(exp、log、sqrt、sin、tanh、min、max 等),也可以直接用目录中任何逐元素条目的 id,例如 sigmoid(x) 或 elu(x, 0.5),多出的参数依次设定该条目的参数。其他名字会被当作参数,并各自得到一个滑块。WebAssembly 内核解析文本,一次调用就在整个区间上求值,并用前向模式自动微分精确地算出导数,因此 f′ 不是有限差分的近似。你输入的内容永远不会被当作 JavaScript 执行。',
  },
};

/** The chain rule on one neuron. */
export const CHAIN_RULE_LESSON: LessonMeta = {
  id: 'chain_rule',
  title: { en: 'The chain rule on one neuron', zh: '链式法则:单个神经元' },
  latex: String.raw`\frac{\partial L}{\partial w_i} = \frac{\partial L}{\partial y}\cdot\frac{\partial y}{\partial z}\cdot\frac{\partial z}{\partial w_i},\qquad z = w_1x_1 + w_2x_2 + b,\quad y = \sigma(z)`,
  doc: {
    en: 'Backpropagation is the chain rule applied from the loss backwards: each stage of the forward pass contributes one local derivative, and the gradient of a weight is their product. For a single sigmoid neuron the last factor, $\\partial z/\\partial w_i$, is just the input $x_i$, so the gradient of a weight is proportional to its input. One consequence: when every input is positive (as after a sigmoid or ReLU layer), all weights of the neuron receive gradients of the same sign, and gradient descent can only move them all up or all down together. Reaching weights of opposite signs then takes a zig-zag, which is one reason zero-centred inputs and activations train faster.',
    zh: '反向传播就是从损失出发、逐级向后应用链式法则:前向计算的每一级贡献一个局部导数,权重的梯度就是这些局部导数的乘积。对单个 sigmoid 神经元来说,最后一个因子 $\\partial z/\\partial w_i$ 恰好是输入 $x_i$,所以权重的梯度与对应的输入成正比。由此可知:当所有输入都为正(例如上一层是 sigmoid 或 ReLU)时,该神经元的所有权重得到的梯度符号相同,梯度下降只能让它们同时增大或同时减小。要到达符号相反的权重,就只能走之字形路线,这也是以零为中心的输入和激活函数训练更快的原因之一。',
  },
};

/** The training playground (web/src/train/page.ts). */
export const TRAIN_LESSON: LessonMeta = {
  id: 'train',
  title: { en: 'Train a network', zh: '训练神经网络' },
  latex: '',
  doc: { en: TRAIN_LABELS.en.docTrain, zh: TRAIN_LABELS.zh.docTrain },
};
