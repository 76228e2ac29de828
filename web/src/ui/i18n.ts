// UI labels in both languages. Op titles and explanations come from the
// registry (op.title, op.doc); only the page's own words live here.

export const LANGS = ['en', 'zh'] as const;
export type Lang = (typeof LANGS)[number];

/** Name of each language, in itself (the switch shows these). */
export const LANG_NAMES: Record<Lang, string> = { en: 'English', zh: '简体中文' };

const en = {
  pageTitle: 'dlmath · activation explorer',
  heading: 'Activation explorer',
  tagline: 'Every value and gradient on this page is computed by the SIMD C++ core in WebAssembly.',
  language: 'Language',
  loading: 'Loading the WebAssembly core…',
  search: 'Search',
  searchPlaceholder: 'id, English or 中文 title',
  activation: 'Activation',
  groupElementwise: 'Element-wise',
  groupRowwise: 'Row-wise (over the last dimension)',
  groupGeneral: 'With extra inputs',
  noMatch: 'No activation matches the search.',
  params: 'Parameters',
  noParams: 'This activation has no parameters.',
  extraInputs: 'Fixed inputs',
  extraInputsHelp:
    'Other inputs are filled with the constant below (shape from the registry sample, every dimension 1).',
  range: 'x range',
  xmin: 'min',
  xmax: 'max',
  probe: 'Probe',
  probeX: 'x',
  probeF: 'f(x)',
  probeDf: 'f′(x)',
  probeHelp: 'float32 values from the wasm core, shortest digits that round-trip. Click a chart to move the probe.',
  formula: 'Formula',
  derivative: 'Derivative',
  explanation: 'Explanation',
  properties: 'Properties',
  propRange: 'Output range',
  propMonotonic: 'Monotonic',
  propZeroCentred: 'Zero-centred',
  propSmooth: 'Smooth',
  yes: 'yes',
  no: 'no',
  plotF: 'f(x)',
  plotDf: 'f′(x)',
  rowTitle: 'How a row-wise op is plotted',
  rowHelp:
    'This op maps a whole row to a row. The plot feeds the row [x, r₁, r₂, …] with the fixed entries below, varies the first entry x, and shows output[0] and ∂output[0]/∂x (a gradient call with a one-hot upstream).',
  rowRest: 'Fixed row entries r₁, r₂, … (comma-separated)',
  rowOutput: 'output[0]',
  rowGrad: '∂ output[0] / ∂x',
  rowParseError: 'Row entries must be numbers separated by commas, got',
  rangeError: 'The x range needs min < max, got',
  noActivations: 'The engine lists no activations.',
  unknownOp: 'Unknown activation in the URL:',
  notPlotted: 'This op is not plotted: its inputs have no one-dimensional slice to vary.',
  errors: 'Error',
  dismiss: 'Dismiss',
  footer: 'SIMD target',
  ops: 'ops',
};

export type Labels = typeof en;

const zh: Labels = {
  pageTitle: 'dlmath · 激活函数浏览器',
  heading: '激活函数浏览器',
  tagline: '本页的每个函数值和梯度都由 WebAssembly 中的 SIMD C++ 内核计算。',
  language: '语言',
  loading: '正在加载 WebAssembly 内核…',
  search: '搜索',
  searchPlaceholder: 'id、英文或中文名称',
  activation: '激活函数',
  groupElementwise: '逐元素',
  groupRowwise: '按行(沿最后一维)',
  groupGeneral: '带额外输入',
  noMatch: '没有匹配搜索的激活函数。',
  params: '参数',
  noParams: '这个激活函数没有参数。',
  extraInputs: '固定输入',
  extraInputsHelp: '其余输入用下面的常数填充(形状取自注册表示例,每一维都为 1)。',
  range: 'x 范围',
  xmin: '最小',
  xmax: '最大',
  probe: '探针',
  probeX: 'x',
  probeF: 'f(x)',
  probeDf: 'f′(x)',
  probeHelp: '由 wasm 内核算出的 float32 值,显示能精确还原的最短位数。点击图表可移动探针。',
  formula: '公式',
  derivative: '导数',
  explanation: '说明',
  properties: '性质',
  propRange: '值域',
  propMonotonic: '单调',
  propZeroCentred: '以零为中心',
  propSmooth: '光滑',
  yes: '是',
  no: '否',
  plotF: 'f(x)',
  plotDf: 'f′(x)',
  rowTitle: '按行运算的绘图方式',
  rowHelp:
    '这个运算把一整行映射为一行。绘图时输入行 [x, r₁, r₂, …](其余各项取下面的固定值),只改变第一项 x,画出 output[0] 以及 ∂output[0]/∂x(用独热上游梯度调用一次梯度计算)。',
  rowRest: '行内固定项 r₁, r₂, …(逗号分隔)',
  rowOutput: 'output[0]',
  rowGrad: '∂ output[0] / ∂x',
  rowParseError: '行内固定项必须是用逗号分隔的数字,收到的是',
  rangeError: 'x 范围要求最小值 < 最大值,收到的是',
  noActivations: '引擎没有列出任何激活函数。',
  unknownOp: '网址中的激活函数不存在:',
  notPlotted: '这个运算不绘图:它的输入没有可以变化的一维切片。',
  errors: '错误',
  dismiss: '关闭',
  footer: 'SIMD 目标',
  ops: '个运算',
};

export const LABELS: Record<Lang, Labels> = { en, zh };

const STORAGE_KEY = 'dlmath.lang';

/** The remembered language, else the browser's preference. */
export function initialLang(storage: Storage | null, navigatorLang: string): Lang {
  let saved: string | null = null;
  try {
    saved = storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    saved = null; // storage may be blocked (privacy mode); fall back below
  }
  if (saved === 'en' || saved === 'zh') return saved;
  return navigatorLang.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/**
 * Remembers the language choice.
 * @param storage - usually window.localStorage
 * @param lang - the chosen language
 */
export function saveLang(storage: Storage | null, lang: Lang): void {
  try {
    storage?.setItem(STORAGE_KEY, lang);
  } catch {
    // Blocked storage only loses the memory of the choice, not the choice.
  }
}

/** The BCP 47 tag for <html lang>. */
export function htmlLang(lang: Lang): string {
  return lang === 'zh' ? 'zh-Hans' : 'en';
}
