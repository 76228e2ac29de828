// Explanations write their maths as inline KaTeX between dollar signs
// (web/src/ui/inline-math.ts): every span of every entry's text, English and
// Chinese, must parse, and what is left outside the spans must read as prose,
// not as raw ASCII maths such as "X^T X theta" or "e^x/(1+e^x)".
import katex from 'katex';
import { loadDlmath, type OpMeta } from 'dlmath';
import { beforeAll, expect, it } from 'vitest';
import { splitInlineMath, type DocPart } from '../../web/src/ui/inline-math.js';
import { CHAIN_RULE_LESSON, FORMULA_LESSON, TRAIN_LESSON } from '../../web/src/views/lessons.js';

let ops: OpMeta[];

beforeAll(async () => {
  ops = (await loadDlmath()).ops();
});

/** Every explanation the page shows: each entry's and each lesson's, in both languages. */
function texts(): { where: string; doc: string; lesson?: string }[] {
  const lessons = [FORMULA_LESSON, CHAIN_RULE_LESSON, TRAIN_LESSON];
  return [
    ...ops.flatMap((o) => (['en', 'zh'] as const).map((lang) => ({ where: `${o.id} (${lang})`, doc: o.doc[lang] }))),
    ...lessons.flatMap((l) =>
      (['en', 'zh'] as const).map((lang) => ({ where: `${l.id} (${lang})`, doc: l.doc[lang], lesson: l.id })),
    ),
  ];
}

// What raw maths looks like in running text. Each rule names one habit of writing formulas in ASCII (or in
// Unicode symbols) instead of LaTeX; numbers alone (0.01, 5e-4, 1/4, [0, 1]) and identifiers (weight_decay,
// log_target=True, torch.sign) are prose and match none of them.
const RAW_MATHS: [string, RegExp][] = [
  ['a power', /\^/],
  ['a subscript', /_\{|(?<![\w.])[A-Za-z]_[A-Za-z0-9]{1,2}\b/],
  ['a norm', /\|\||‖/],
  ['an absolute value', /(?<![\w|])\|[^|\s][^|]{0,20}\|/],
  [
    'a function applied to symbols',
    /\b(?:sqrt|exp|expm1|log|log1p|erf|erfc|tanh|sigmoid|max|min|sum|softplus)\s?\((?!\d{4}\))/,
  ],
  [
    'a Greek letter as a symbol',
    /\b(?:alpha|beta|gamma|delta|epsilon|theta|lambda|mu|sigma|tau|eta|rho|phi|Phi|pi|omega|nu)\b(?:\s?[-−+*/<>^'·×]|\(|\s=|\s[a-zA-Z]\b)|(?:[-−+*/=<>^·×]\s?|\b[b-zA-HJ-Z]\s)(?:alpha|beta|gamma|delta|epsilon|theta|lambda|mu|sigma|tau|eta|rho|phi|Phi)\b/,
  ],
  ['a fraction', /(?<![A-Za-z])[A-Za-z]\)?\s?\/\s?\(?[A-Za-z0-9]|\d\s?\/\s?\(?[A-Za-z]|\)\s?\/|\/\s?[(|]/],
  ['a relation between symbols', /(?<![\w.])[A-Za-z]\s?(?:=|<|>)\s?[-−+]?[\w(]|<=|>=|!=|[≤≥≈≠∈]/],
  ['an operation on symbols', /(?<![\w.])(?:[A-Za-z]|\d+)\)?\s[-−+*×·]\s\(?[A-Za-z0-9]/],
  ['a Unicode maths symbol', /[²³¹⁰-⁹₀-₉√∂∑Σ∏∫∓∞α-ωΑ-Ω′]/],
];

/**
 * The rules a text outside the maths spans breaks, with what matched.
 * @param parts - the split text
 * @param names - identifiers that stay as they are written (parameter and input names such as t_0, shown as code)
 */
function rawMaths(parts: DocPart[], names: ReadonlySet<string> = new Set()): string[] {
  const prose = parts
    .map((p) => ('text' in p ? p.text : ' '))
    .join('')
    .replace(/[\w.]+/g, (word) => (names.has(word) ? 'name' : word));
  return RAW_MATHS.flatMap(([rule, re]) => {
    const m = re.exec(prose);
    return m ? [`${rule}: "${prose.slice(Math.max(0, m.index - 12), m.index + m[0].length + 12)}"`] : [];
  });
}

it('splits text and maths, with \\$ for a dollar sign, and names a $ left open', () => {
  expect(splitInlineMath(String.raw`costs \$5: $x^2$ and $\$$`)).toEqual([
    { text: 'costs $5: ' },
    { math: 'x^2' },
    { text: ' and ' },
    { math: String.raw`\$` },
  ]);
  expect(splitInlineMath('no maths')).toEqual([{ text: 'no maths' }]);
  expect(() => splitInlineMath('a $x^2 without end')).toThrow(/unclosed \$ at character 3/);
  expect(() => splitInlineMath('a $ $ b')).toThrow(/empty/);
});

it('the raw-maths rules catch what they are for and pass plain prose', () => {
  const caught = (doc: string) => rawMaths(splitInlineMath(doc)).map((r) => r.slice(0, r.indexOf(':')));
  expect(caught('solves X^T X theta = X^T y')).toContain('a power');
  expect(caught('halves ||x||^2 here')).toContain('a norm');
  expect(caught('as e^x/(1+e^x) for')).toContain('a fraction');
  expect(caught('the sum of p_t and w_c')).toEqual(['a subscript']);
  expect(rawMaths(splitInlineMath('over t_0 steps'), new Set(['t_0']))).toEqual([]);
  expect(caught('at the kink x = 0 the')).toEqual(['a relation between symbols']);
  expect(caught('scaled by 1/T so')).toEqual(['a fraction']);
  expect(caught("the gradient is x^2 sigma'(beta x)")).toContain('a Greek letter as a symbol');
  expect(caught('for large |x| it')).toEqual(['an absolute value']);
  expect(caught('1 + erf loses digits')).toEqual(['an operation on symbols']);
  expect(caught('takes log(0) and sqrt(d)')).toEqual(['a function applied to symbols']);
  expect(caught('a slope x² here')).toEqual(['a Unicode maths symbol']);
  const prose = [
    'Its slope is at most 1/4 and 0/1 labels in [0, 1] give 5e-4; a yes/no answer.',
    'Set log_target=True or weight_decay, call torch.sign (Xu et al., 2015) with beta1 and lr 1e-3.',
    'Misra(2019) 提出;alpha 为负时关闭,lambda 是关键字,input1 与 input2 的 p 范数。',
    'an $x^2$ and $\\lVert x\\rVert$ are maths, and the beta parameter is a name',
  ];
  for (const text of prose) expect(caught(text), text).toEqual([]);
});

it('every $…$ span of every explanation parses with KaTeX', () => {
  const failures: string[] = [];
  let spans = 0;
  for (const { where, doc } of texts()) {
    try {
      for (const part of splitInlineMath(doc)) {
        if (!('math' in part)) continue;
        spans++;
        try {
          katex.renderToString(part.math, { throwOnError: true, strict: 'error' });
        } catch (err) {
          failures.push(`${where}: $${part.math}$: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      failures.push(`${where}: ${(err as Error).message}`);
    }
  }
  expect(failures).toEqual([]);
  expect(spans).toBeGreaterThan(200);
});

it('no explanation writes raw maths outside its $…$ spans', () => {
  // The formula evaluator's text lists the characters one types (^, ×), which are input, not maths.
  // Identifiers with an underscore or a digit (t_0, log_target, beta2) read as code; Greek names (alpha) do not.
  const names = new Set(
    ops
      .flatMap((o) => [...o.params.map((p) => p.name), ...o.inputs.map((i) => i.name), ...o.aux])
      .filter((n) => /[_\d]/.test(n)),
  );
  const raw = texts()
    .filter((t) => t.lesson !== FORMULA_LESSON.id)
    .flatMap(({ where, doc }) => rawMaths(splitInlineMath(doc), names).map((r) => `${where}: ${r}`));
  const entries = new Set(raw.map((r) => r.slice(0, r.indexOf(' '))));
  expect(raw, `${entries.size} pages with raw maths`).toEqual([]);
});
