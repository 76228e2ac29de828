// Explanations (a registry entry's doc, a lesson's text) are plain text with
// inline maths between dollar signs: "the gradient is $x^2\sigma'(\beta x)$".
// This module only splits such text; ui/math.ts typesets the maths, and the
// catalogue test parses every span with KaTeX. A literal dollar sign in the
// text is written \$; inside maths, \$ is KaTeX's own dollar sign.
// No DOM here, so the Node tests split the texts exactly as the page does.

/** A run of plain text or one inline formula (LaTeX without its dollar signs). */
export type DocPart = { text: string } | { math: string };

/**
 * Splits an explanation into text and inline maths.
 * @param doc - text with `$…$` spans (`\$` for a dollar sign in the text)
 * @returns the parts in order (adjacent text is merged; no part is empty)
 * @throws Error naming the character where a `$` is left open or a span is empty
 */
export function splitInlineMath(doc: string): DocPart[] {
  const parts: DocPart[] = [];
  let text = '';
  let i = 0;
  while (i < doc.length) {
    const c = doc[i]!;
    if (c === '\\' && doc[i + 1] === '$') {
      text += '$';
      i += 2;
    } else if (c !== '$') {
      text += c;
      i += 1;
    } else {
      const end = closingDollar(doc, i + 1);
      if (end < 0) throw new Error(`an unclosed $ at character ${i + 1} of "${doc.slice(i, i + 40)}"`);
      const math = doc.slice(i + 1, end);
      if (!math.trim()) throw new Error(`an empty $…$ at character ${i + 1}`);
      if (text) parts.push({ text });
      text = '';
      parts.push({ math });
      i = end + 1;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

// The index of the `$` that closes a span starting at `from`, or -1; an escaped character (\$, \\) does not close it.
function closingDollar(doc: string, from: number): number {
  for (let i = from; i < doc.length; i++) {
    if (doc[i] === '\\') i++;
    else if (doc[i] === '$') return i;
  }
  return -1;
}
