// The model's formulas on the GPT page: each piece the network and its
// training use, in the page's notation (the catalogue's entries state the
// general op; these show how the GPT applies it), with a line of text in
// both languages and links to the catalogue entries. Typeset by the
// catalogue's lazy KaTeX loader (ui/math.ts): a formula that is too wide
// breaks after a relation sign or scrolls inside its own `.math` box.
import { h } from '../ui/dom.js';
import type { Lang } from '../ui/i18n.js';
import { renderMath } from '../ui/math.js';

/** One formula of the model. */
export interface GptFormula {
  /** Stable id (data-testid `formula-<key>`). */
  key: string;
  title: { en: string; zh: string };
  latex: string;
  text: { en: string; zh: string };
  /** Catalogue entries it applies (index.html#e=<id>). */
  entries: readonly string[];
}

export const GPT_FORMULAS: readonly GptFormula[] = [
  {
    key: 'embedding',
    title: { en: 'Token + position embedding', zh: '词元嵌入 + 位置嵌入' },
    latex: String.raw`h^{0}_{t} = W_e[x_t] + W_p[t],\quad t = 0, \dots, T - 1`,
    text: {
      en: 'Row x_t of the token table plus row t of the position table: a gather, whose gradient is added back into the rows that were read. With sinusoidal positions, W_p is the fixed table instead of a learned one.',
      zh: '取词元表的第 x_t 行，加上位置表的第 t 行：这是一次按索引取行，反向传播时梯度累加回被取过的那些行。选择正弦位置编码时，W_p 换成固定的表，不再学习。',
    },
    entries: ['sinusoidal'],
  },
  {
    key: 'attention',
    title: { en: 'Causal multi-head attention', zh: '因果多头注意力' },
    latex: String.raw`O_h = \operatorname{softmax}\Bigl(\frac{Q_h K_h^{\top}}{\sqrt{d/H}} + M\Bigr) V_h,\quad M_{ij} = \begin{cases} 0, & j \le i \\ -\infty, & j > i \end{cases},\quad \operatorname{Attn}(h) = [\,O_1 \mid \dots \mid O_H\,]\, W_o^{\top}`,
    text: {
      en: 'Each of the H heads compares the query of position i with the keys of positions 0…i only: the mask M sends the scores of later positions to −∞, so their weight is exactly zero and no position sees the characters it must predict.',
      zh: 'H 个头各自用位置 i 的查询去比较位置 0…i 的键：掩码 M 把后面位置的分数设为 −∞，它们的权重恰好为零，因此任何位置都看不到它要预测的字符。',
    },
    entries: ['multi_head_attention', 'scaled_dot_product_attention'],
  },
  {
    key: 'norm',
    title: { en: 'Pre-norm block: layer norm or RMS norm', zh: '前置归一化的块：层归一化或 RMS 归一化' },
    latex: String.raw`h' = h + \operatorname{Attn}(N(h)),\quad h'' = h' + \operatorname{MLP}(N(h')),\quad \operatorname{LN}(h) = \gamma \odot \frac{h - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,\quad \operatorname{RMS}(h) = \gamma \odot \frac{h}{\sqrt{\overline{h^2} + \epsilon}}`,
    text: {
      en: 'Each block normalizes its input before attention and before the MLP, then adds the result to the residual stream; one more norm comes before the head. RMS norm skips the mean and the shift β.',
      zh: '每个块在注意力和 MLP 之前先对输入做归一化，再把结果加回残差流；输出头之前还有一次归一化。RMS 归一化不减均值，也没有平移 β。',
    },
    entries: ['layer_norm', 'rms_norm'],
  },
  {
    key: 'mlp',
    title: { en: 'MLP: GELU (tanh) or SwiGLU', zh: 'MLP：GELU（tanh 形式）或 SwiGLU' },
    latex: String.raw`\operatorname{MLP}(u) = \operatorname{GELU}(u W_1^{\top})\, W_2^{\top},\quad \operatorname{GELU}(z) = \tfrac{z}{2}\Bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,(z + 0.044715\, z^3)\bigr)\Bigr),\quad \operatorname{SwiGLU}(u) = \bigl(\operatorname{SiLU}(u W_1^{\top}) \odot u W_3^{\top}\bigr) W_2^{\top}`,
    text: {
      en: 'The hidden layer is 4·d wide. GPT uses the tanh form of GELU; SwiGLU (LLaMA) multiplies a SiLU gate with a second projection.',
      zh: '隐藏层宽 4·d。GPT 使用 tanh 形式的 GELU；SwiGLU（LLaMA 使用）把 SiLU 门与另一路投影逐元素相乘。',
    },
    entries: ['gelu_tanh', 'swiglu'],
  },
  {
    key: 'l1',
    title: { en: 'L1: cross-entropy over the next tokens', zh: 'L1：对下一个词元的交叉熵' },
    latex: String.raw`L_1 = -\frac{1}{N} \sum_{(b,t):\ y_{b,t} \ne \text{pad}} \log \operatorname{softmax}\bigl(N(h^{L}_{b,t})\, W_e^{\top}\bigr)_{y_{b,t}}`,
    text: {
      en: 'Every real position b, t is scored on the true next character y; padding is left out of the sum and out of the count N. With weight tying the head reuses the token table W_e.',
      zh: '每个真实位置 b, t 都按真实的下一个字符 y 计分；补齐位置既不计入求和，也不计入个数 N。权重共享时，输出头直接复用词元表 W_e。',
    },
    entries: ['cross_entropy'],
  },
  {
    key: 'l2',
    title: { en: 'L2: the classifier head', zh: 'L2：分类头' },
    latex: String.raw`L_2 = -\frac{1}{B} \sum_{b} \log \operatorname{softmax}\bigl(N(h^{L}_{b,\ell_b})\, W_c^{\top} + b_c\bigr)_{c_b}`,
    text: {
      en: 'A linear layer and a softmax read the last real position ℓ_b of each name and predict its class c_b (female or male).',
      zh: '一个线性层加 softmax 读取每个名字最后一个真实位置 ℓ_b，预测它的类别 c_b（女性或男性）。',
    },
    entries: ['cross_entropy'],
  },
  {
    key: 'l3',
    title: { en: 'L3: the combined objective', zh: 'L3：组合目标' },
    latex: String.raw`L_3 = L_2 + \lambda\, L_1`,
    text: {
      en: 'Fine-tuning keeps the language-model loss as an auxiliary task, weighted by λ (the slider; λ = 0 is plain L2).',
      zh: '微调时保留语言模型损失作为辅助任务，由 λ 加权（即滑块；λ = 0 就是单独的 L2）。',
    },
    entries: ['cross_entropy'],
  },
  {
    key: 'adamw',
    title: { en: 'AdamW with clipping', zh: '带梯度裁剪的 AdamW' },
    latex: String.raw`g \leftarrow g \cdot \min\Bigl(1, \frac{c}{\lVert g \rVert_2}\Bigr),\quad m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g,\quad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g^2,\quad \theta_t = \theta_{t-1} - \eta_t \Bigl(\frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} + w\, \theta_{t-1}\Bigr)`,
    text: {
      en: 'The gradient is first scaled so its total norm is at most c = 1. Weight decay w = 0.01 applies to matrices and embeddings only, not to biases and norm gains.',
      zh: '先缩放梯度，使其总范数不超过 c = 1。权重衰减 w = 0.01 只作用于矩阵和嵌入表，不作用于偏置和归一化的增益。',
    },
    entries: ['adamw', 'clip_grad_norm'],
  },
  {
    key: 'schedule',
    title: { en: 'Warmup, then cosine', zh: '预热，然后余弦衰减' },
    latex: String.raw`\eta_t = \begin{cases} \eta\, t / W, & t < W \\ \eta_f + \tfrac{1}{2}(\eta - \eta_f)\Bigl(1 + \cos \frac{\pi (t - W)}{S - W}\Bigr), & t \ge W \end{cases}`,
    text: {
      en: 'The learning rate climbs linearly for W steps (100 here), then follows half a cosine down to η_f = 0.1·η at the last step S.',
      zh: '学习率在前 W 步（这里是 100 步）线性上升，然后沿半个余弦周期下降，在最后一步 S 降到 η_f = 0.1·η。',
    },
    entries: ['warmup_cosine'],
  },
  {
    key: 'perplexity',
    title: { en: 'Perplexity', zh: '困惑度' },
    latex: String.raw`\operatorname{PPL} = e^{L_1^{\text{val}}}`,
    text: {
      en: 'The exponential of the validation loss: the number of equally likely characters the model is, on average, as unsure as.',
      zh: '验证损失的指数：模型平均而言的不确定程度，相当于在这么多个等可能的字符中做选择。',
    },
    entries: ['perplexity'],
  },
];

/**
 * The formulas panel's content in one language: for each formula a title linked to its catalogue
 * entries, the typeset formula and its text.
 * @param lang - the language of titles and texts
 * @param onError - receives KaTeX's errors (the LaTeX source is shown instead)
 */
export function formulaCards(lang: Lang, onError: (err: unknown) => void): HTMLElement {
  return h(
    'div',
    { class: 'gpt-formulas' },
    ...GPT_FORMULAS.map((f) => {
      const math = h('div', { class: 'math', 'data-testid': `formula-${f.key}` });
      // Each part between ',\quad' becomes a group, and a break is allowed after each: KaTeX then
      // breaks lines between the parts, never inside one (a part wider than the card scrolls).
      const parts = f.latex.split(String.raw`,\quad `).map((part) => `{${part}}`);
      renderMath(math, parts.join(String.raw`,\quad\allowbreak `), onError);
      return h(
        'article',
        { class: 'gpt-formula' },
        h('h3', { text: f.title[lang] }),
        math,
        h('p', { class: 'small', lang: lang === 'zh' ? 'zh-Hans' : 'en', text: f.text[lang] }),
        h(
          'p',
          { class: 'formula-links small' },
          ...f.entries.flatMap((id, i) => [i ? ' · ' : '', h('a', { href: `./#e=${id}`, text: id })]),
        ),
      );
    }),
  );
}
