// Thin glue: fill the header and apply the theme at once; then, in parallel,
// compile the engine (its bytes are already on their way, preloaded by the
// HTML), load the shell's code (KaTeX is most of it) and, on the start page,
// the live figure's; then start the playground. This module imports little,
// so it runs early and the wasm compiles while the rest arrives.
import { loadCatalogue, loadDlmath, type Dlmath } from './engine/index.js';
import { parseHash } from './state/store.js';
import { labelHeader } from './ui/header.js';
import { initialLang, LABELS, LANGS, type Lang } from './ui/i18n.js';
import type { PlaygroundState } from './ui/playground.js';
import { applyTheme, storedTheme, THEMES, type Theme } from './ui/theme.js';
import { VIEWS } from './views/index.js';
import './ui/style.css';

declare global {
  interface Window {
    /** Test hook: the engine and what the page shows. */
    dlmathApp?: { dl: Dlmath; state(): PlaygroundState; setLang(lang: 'en' | 'zh'): void };
  }
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el as T;
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}

/**
 * A value of the link when it is one of `choices` (the shell checks and reports the link properly later).
 * @param values - the link's values
 * @param key - the key
 * @param choices - the valid values
 */
function linked<T extends string>(values: Map<string, string>, key: string, choices: readonly T[]): T | undefined {
  const v = values.get(key);
  return (choices as readonly string[]).includes(v ?? '') ? (v as T) : undefined;
}

async function main(): Promise<void> {
  const status = byId('status');
  const notice = byId('notice');
  const link = parseHash(location.hash).values;
  const lang: Lang = linked(link, 'lang', LANGS) ?? initialLang(storage(), navigator.language);
  const theme: Theme = linked(link, 'theme', THEMES) ?? storedTheme(storage());
  // The first paint already has its colours, its menus and, for an iframe, its compact layout.
  applyTheme(theme);
  document.body.classList.toggle('embed', link.get('embed') === '1');
  document.body.classList.toggle('compact', link.get('embed') === '1');
  const dom = {
    notice,
    langSelect: byId<HTMLSelectElement>('lang-select'),
    langLabel: byId('lang-label'),
    themeSelect: byId<HTMLSelectElement>('theme-select'),
    themeLabel: byId('theme-label'),
    heading: byId('heading'),
    tagline: byId('tagline'),
    nav: byId('nav'),
    head: byId('op-head'),
    params: byId('params'),
    view: byId('view-host'),
    details: byId('op-details'),
    footer: byId('footer'),
    skip: byId<HTMLAnchorElement>('skip'),
    reset: byId<HTMLButtonElement>('reset-view'),
    copy: byId<HTMLButtonElement>('copy-link'),
    open: byId<HTMLAnchorElement>('open-full'),
  };
  labelHeader(dom, LABELS[lang], lang, theme);
  status.textContent = LABELS[lang].loading;
  // The start page's figure: its code arrives while the engine loads.
  // The light module: the catalogue and the evaluator (the training page trains in a worker of its own).
  const engine = loadDlmath({ training: false });
  const shell = import('./ui/playground.js');
  // The page's own view: the start page's figure, or an entry's family view as soon as the catalogue
  // (a small file, preloaded by the HTML) says which family it is.
  const page = link.get('e');
  if (!page) void import('./views/start.js');
  else
    void loadCatalogue()
      .then((ops) => VIEWS[ops.find((o) => o.id === page)?.family ?? '']?.())
      .catch(() => undefined); // the engine's own load reports a missing catalogue
  try {
    const dl = await engine;
    // Read by `npm run bench` (bench/load.mjs): the engine compiled and its catalogue read.
    performance.mark('dlmath:engine');
    const { Playground } = await shell;
    const app = new Playground(
      dl,
      dom,
      { storage: storage(), location: window.location, history: window.history },
      lang,
    );
    window.addEventListener('error', (e) => app.showError('uncaught', e.error ?? e.message));
    window.addEventListener('unhandledrejection', (e) => app.showError('uncaught', e.reason));
    window.dlmathApp = { dl, state: () => app.state(), setLang: (l) => app.setLang(l) };
    status.hidden = true;
  } catch (err) {
    // Before the shell exists there is no Notice component; say it plainly.
    status.hidden = true;
    notice.hidden = false;
    notice.textContent = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(err);
  }
}

void main();
