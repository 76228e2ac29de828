// The GPT page's words, in English and Simplified Chinese.
import type { Lang } from '../ui/i18n.js';

const en = {
  title: 'A tiny GPT',
  tagline: 'Pretrain a character-level GPT on first names, sample it, look at its attention, then fine-tune it.',
  back: 'Formula catalogue',
  language: 'Language',
  theme: 'Theme',
  themes: { auto: 'Auto', light: 'Light', dark: 'Dark' } as Record<string, string>,
  loading: 'Loading the engine…',
  ready: 'Ready. The model trains in a Web Worker, in WebAssembly.',
  dataTitle: '1 · Data',
  dataNames: 'First names (English lists, female and male)',
  dataText: 'My own text (one sequence per line)',
  dataHint:
    'Each name is one sequence: a start token, its letters, an end token, padded to 16 positions. Names found in both lists are used for pretraining only.',
  pasteLabel: 'Text to learn from',
  configLabel: 'Size',
  configS: 'S: 2 layers, 4 heads, d = 64',
  configM: 'M: 4 layers, 4 heads, d = 128',
  stepsLabel: 'Pretraining steps',
  pretrainTitle: '2 · Pretraining (L1)',
  pretrainExplain:
    'The language model reads each sequence left to right and is scored on every next character: L1 is the mean negative log-probability it gives to the true next character. Its exponential is the perplexity: roughly how many characters the model still hesitates between.',
  start: 'Pretrain',
  continue: 'Continue',
  stop: 'Stop',
  reset: 'New model',
  step: 'step',
  trainLoss: 'training loss',
  valLoss: 'validation loss',
  perplexity: 'perplexity',
  speed: 'steps/s',
  params: 'parameters',
  samplesTitle: 'Sampled names',
  temperature: 'Temperature',
  topK: 'Top-k (0: all)',
  sample: 'Sample',
  nextTitle: 'Next character',
  prefix: 'Prefix',
  attentionTitle: 'Attention',
  attentionExplain:
    'Each square is one head: row i shows how position i spreads its attention over positions 0…i (darker: more weight). The causal mask hides the future, so the upper triangle stays empty.',
  name: 'Name',
  layer: 'layer',
  head: 'head',
  finetuneTitle: '3 · Fine-tuning: L2 and L3 = L2 + λ·L1',
  finetuneExplain:
    'A linear layer and a softmax on the last real position classify a name as female or male (L2, cross-entropy of the class). Three runs train side by side: from scratch, from the pretrained weights with L2, and from the pretrained weights with L3, which keeps the language-model loss as an auxiliary task.',
  lambda: 'λ (weight of L1 in L3)',
  ftSteps: 'Fine-tuning steps',
  finetune: 'Fine-tune three runs',
  runs: ['from scratch (L2)', 'pretrained + L2', 'pretrained + L3'],
  majority: 'majority class',
  accuracy: 'validation accuracy',
  claimTitle: 'What the GPT-1 paper claims',
  claim:
    'Radford et al. (2018) report that adding the language-model objective during fine-tuning helps in two ways: the supervised model generalises better, and it converges faster. They also observe that the benefit grows with the size of the labelled data set and can vanish on small ones.',
  showsTitle: 'What the runs show here',
  noRun: 'Run the fine-tuning to compare.',
  saveTitle: '4 · Save, load, export',
  download: 'Download checkpoint',
  upload: 'Load checkpoint file',
  saveDb: 'Save in this browser',
  loadDb: 'Load from this browser',
  pytorch: 'Export to PyTorch',
  saved: 'Saved in this browser (IndexedDB).',
  loaded: 'Checkpoint loaded: step',
  noSaved: 'Nothing saved in this browser yet.',
  formulasTitle: '5 · The model’s formulas',
  formulasIntro:
    'Every piece the network and its training use, written as this page applies it. The links open the catalogue entries, where each formula’s value and gradient can be explored.',
  openFull: 'Open in dlmath ↗',
  noModel: 'Pretrain a model first.',
};
export type GptLabels = typeof en;

const zh: GptLabels = {
  title: '微型 GPT',
  tagline: '在英文名字上预训练一个字符级 GPT，从中采样、查看注意力，再对它做微调。',
  back: '公式目录',
  language: '语言',
  theme: '主题',
  themes: { auto: '自动', light: '浅色', dark: '深色' },
  loading: '正在加载计算引擎…',
  ready: '就绪。模型在 Web Worker 中以 WebAssembly 训练。',
  dataTitle: '1 · 数据',
  dataNames: '英文名字（女性与男性名单）',
  dataText: '我自己的文本（每行一个序列）',
  dataHint: '每个名字是一个序列：起始符、各个字母、结束符，补齐到 16 个位置。同时出现在两份名单中的名字只用于预训练。',
  pasteLabel: '用于学习的文本',
  configLabel: '规模',
  configS: 'S：2 层，4 个头，d = 64',
  configM: 'M：4 层，4 个头，d = 128',
  stepsLabel: '预训练步数',
  pretrainTitle: '2 · 预训练（L1）',
  pretrainExplain:
    '语言模型从左到右读取每个序列，并在每个位置上预测下一个字符：L1 是它给真实下一个字符的概率取负对数后的平均值。L1 的指数就是困惑度，大致表示模型还在多少个字符之间犹豫。',
  start: '预训练',
  continue: '继续',
  stop: '停止',
  reset: '新模型',
  step: '步',
  trainLoss: '训练损失',
  valLoss: '验证损失',
  perplexity: '困惑度',
  speed: '步/秒',
  params: '参数',
  samplesTitle: '采样出的名字',
  temperature: '温度',
  topK: 'Top-k（0 表示全部）',
  sample: '采样',
  nextTitle: '下一个字符',
  prefix: '前缀',
  attentionTitle: '注意力',
  attentionExplain:
    '每个方块是一个注意力头：第 i 行表示位置 i 如何把注意力分配到位置 0…i（颜色越深，权重越大）。因果掩码遮住了未来的位置，所以右上三角保持空白。',
  name: '名字',
  layer: '层',
  head: '头',
  finetuneTitle: '3 · 微调：L2 与 L3 = L2 + λ·L1',
  finetuneExplain:
    '在最后一个真实位置上接一个线性层和 softmax，判断名字是女性还是男性（L2，类别的交叉熵）。三组训练并排进行：从零开始；从预训练权重出发只用 L2；从预训练权重出发用 L3，即把语言模型损失作为辅助任务保留下来。',
  lambda: 'λ（L1 在 L3 中的权重）',
  ftSteps: '微调步数',
  finetune: '同时微调三组',
  runs: ['从零开始（L2）', '预训练 + L2', '预训练 + L3'],
  majority: '多数类',
  accuracy: '验证准确率',
  claimTitle: 'GPT-1 论文的说法',
  claim:
    'Radford 等人（2018）报告说，在微调时加入语言模型目标有两点好处：监督模型的泛化更好，收敛也更快。他们也观察到，这种好处随标注数据集变大而增加，在小数据集上可能消失。',
  showsTitle: '这里的实验结果',
  noRun: '运行微调后即可比较。',
  saveTitle: '4 · 保存、加载、导出',
  download: '下载检查点',
  upload: '从文件加载检查点',
  saveDb: '保存在本浏览器',
  loadDb: '从本浏览器加载',
  pytorch: '导出为 PyTorch',
  saved: '已保存在本浏览器（IndexedDB）。',
  loaded: '检查点已加载：第',
  noSaved: '本浏览器中还没有保存的模型。',
  formulasTitle: '5 · 模型的公式',
  formulasIntro:
    '网络及其训练用到的每一部分，按本页的用法写出。链接指向公式目录中的条目，可以在那里查看每个公式的值和梯度。',
  openFull: '在 dlmath 中打开 ↗',
  noModel: '请先预训练一个模型。',
};

export const GPT_LABELS: Record<Lang, GptLabels> = { en, zh };

/**
 * What the three runs show, in words (honest whichever way it goes).
 * @param lang - the language
 * @param acc - validation accuracy of scratch, pretrained + L2, pretrained + L3
 * @param majority - the majority class's share
 * @param n - validation names
 */
export function verdict(lang: Lang, acc: readonly number[], majority: number, n: number): string {
  const pct = (v: number) => (100 * v).toFixed(1);
  const [s, l2, l3] = acc as [number, number, number];
  // One standard error of an accuracy near these values, in points: differences below ~2 of them are noise.
  const se = 100 * Math.sqrt((l2 * (1 - l2)) / Math.max(n, 1));
  const d3 = 100 * (l3 - l2);
  const dp = 100 * (l2 - s);
  const near = (d: number) => Math.abs(d) < 2 * se;
  if (lang === 'zh') {
    const a = `多数类基线 ${pct(majority)}%；从零开始 ${pct(s)}%，预训练 + L2 ${pct(l2)}%，预训练 + L3 ${pct(l3)}%（${n} 个验证名字，一个标准误约 ${se.toFixed(1)} 个百分点）。`;
    const b = near(dp)
      ? '预训练与从零开始的差别在噪声范围内。'
      : dp > 0
        ? `预训练带来了 ${dp.toFixed(1)} 个百分点的提升。`
        : `预训练反而低了 ${(-dp).toFixed(1)} 个百分点。`;
    const c = near(d3)
      ? '辅助目标 L1 在这里没有带来可分辨的差别：数据集很小，这与论文关于小数据集的观察一致。'
      : d3 > 0
        ? `辅助目标 L1 让准确率高了 ${d3.toFixed(1)} 个百分点，与论文的说法一致。`
        : `辅助目标 L1 让准确率低了 ${(-d3).toFixed(1)} 个百分点，与论文的主要说法相反。`;
    return a + b + c;
  }
  const a = `Majority class ${pct(majority)} %; from scratch ${pct(s)} %, pretrained + L2 ${pct(l2)} %, pretrained + L3 ${pct(l3)} % (${n} validation names; one standard error is about ${se.toFixed(1)} points). `;
  const b = near(dp)
    ? 'Pretraining and training from scratch are within noise of each other. '
    : dp > 0
      ? `Pretraining adds ${dp.toFixed(1)} points. `
      : `Pretraining loses ${(-dp).toFixed(1)} points. `;
  const c = near(d3)
    ? 'The auxiliary L1 makes no difference we can tell apart from noise here: the labelled set is small, which matches the paper’s remark about small data sets.'
    : d3 > 0
      ? `The auxiliary L1 adds ${d3.toFixed(1)} points, as the paper claims.`
      : `The auxiliary L1 costs ${(-d3).toFixed(1)} points, against the paper’s main claim.`;
  return a + b + c;
}
