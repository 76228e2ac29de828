// Thin glue: load the engine, find the page's containers, start the playground.
import { loadDlmath, type Dlmath } from './engine/index.js';
import { initialLang, LABELS } from './ui/i18n.js';
import { Playground, type PlaygroundState } from './ui/playground.js';
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

async function main(): Promise<void> {
  const status = byId('status');
  const notice = byId('notice');
  const lang = initialLang(storage(), navigator.language);
  status.textContent = LABELS[lang].loading;
  try {
    const dl = await loadDlmath();
    const app = new Playground(
      dl,
      {
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
      },
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
