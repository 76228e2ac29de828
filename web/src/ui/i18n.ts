// UI labels of the page shell in both languages. Entry titles and
// explanations come from the registry (op.title, op.doc); each view keeps its
// own labels; only the shell's words live here.

export const LANGS = ['en', 'zh'] as const;
export type Lang = (typeof LANGS)[number];

/** Name of each language, in itself (the switch shows these). */
export const LANG_NAMES: Record<Lang, string> = { en: 'English', zh: '简体中文' };

const en = {
  pageTitle: 'dlmath · the mathematics of deep learning',
  heading: 'Playground',
  tagline: 'Every value and gradient on this page is computed by the SIMD C++ core in WebAssembly.',
  language: 'Language',
  theme: 'Theme',
  themes: { auto: 'System', light: 'Light', dark: 'Dark' },
  loading: 'Loading the WebAssembly core…',
  search: 'Search',
  searchPlaceholder: 'id, English or 中文 name',
  catalogue: 'Catalogue',
  noMatch: 'Nothing matches the search.',
  home: 'Overview',
  homeIntro:
    'The formulas of deep learning with their exact gradients, computed live. Pick one from the catalogue or a family below: each page shows the formula and its derivative, an explanation, live parameters and a picture. The address bar always holds the whole view; copy it to share what you see.',
  tools: 'Tools and lessons',
  entries: 'entries',
  params: 'Parameters',
  noParams: 'No parameters.',
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
  errors: 'Notice',
  dismiss: 'Dismiss',
  urlIgnored: 'Ignored in the link',
  unknownEntry: 'unknown page',
  badParam: 'invalid value',
  loadFailed: 'Could not load the view',
  copyLink: 'Copy link',
  copied: 'Link copied',
  resetView: 'Reset view',
  openFull: 'Open in dlmath ↗',
  footer: 'SIMD target',
  ops: 'entries',
  skip: 'Skip to content',
  families: {
    activations: 'Activations',
    losses: 'Losses',
    regularization: 'Regularization',
    normalization: 'Normalization',
    initialization: 'Initialization',
    distances: 'Distances & similarity',
    attention: 'Attention & positional encoding',
    optimizers: 'Optimizers',
    schedules: 'Learning-rate schedules',
    numerics: 'Numerical stability',
    metrics: 'Information & metrics',
    graph: 'Graph Laplacians',
    regression: 'Least squares',
  } as Record<string, string>,
};

export type Labels = typeof en;

const zh: Labels = {
  pageTitle: 'dlmath · 深度学习的数学',
  heading: '演练场',
  tagline: '本页的每个函数值和梯度都由 WebAssembly 中的 SIMD C++ 内核计算。',
  language: '语言',
  theme: '主题',
  themes: { auto: '跟随系统', light: '浅色', dark: '深色' },
  loading: '正在加载 WebAssembly 内核…',
  search: '搜索',
  searchPlaceholder: 'id、英文或中文名称',
  catalogue: '目录',
  noMatch: '没有匹配的条目。',
  home: '概览',
  homeIntro:
    '深度学习中的公式及其精确梯度,实时计算。从目录或下面的类别中选一个:每个页面都给出公式及其导数、文字说明、可实时调节的参数和图形。地址栏始终保存完整的视图状态,复制它就能把你看到的内容分享给别人。',
  tools: '工具与课程',
  entries: '个条目',
  params: '参数',
  noParams: '没有参数。',
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
  errors: '提示',
  dismiss: '关闭',
  urlIgnored: '链接中被忽略的值',
  unknownEntry: '不存在的页面',
  badParam: '无效的值',
  loadFailed: '无法加载视图',
  copyLink: '复制链接',
  copied: '链接已复制',
  resetView: '重置视图',
  openFull: '在 dlmath 中打开 ↗',
  footer: 'SIMD 目标',
  ops: '个条目',
  skip: '跳到正文',
  families: {
    activations: '激活函数',
    losses: '损失函数',
    regularization: '正则化',
    normalization: '归一化',
    initialization: '参数初始化',
    distances: '距离与相似度',
    attention: '注意力与位置编码',
    optimizers: '优化器',
    schedules: '学习率调度',
    numerics: '数值稳定性',
    metrics: '信息论与评价指标',
    graph: '图拉普拉斯矩阵',
    regression: '最小二乘',
  },
};

/** The order of the catalogue (as the study notes group the formulas). */
export const FAMILY_ORDER = [
  'activations',
  'losses',
  'regularization',
  'normalization',
  'initialization',
  'distances',
  'attention',
  'optimizers',
  'schedules',
  'numerics',
  'metrics',
  'graph',
  'regression',
] as const;

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
