// Thin glue: load the engine, find the page's containers, start the explorer.
import { loadDlmath } from './engine/index.js';
import { Explorer, type ExplorerSnapshot } from './ui/explorer.js';
import { initialLang, LABELS } from './ui/i18n.js';
import './ui/style.css';

declare global {
  interface Window {
    /** Test hook: what the explorer shows, as numbers. */
    dlmathExplorer?: { ready: true; snapshot(): ExplorerSnapshot; setLang(lang: 'en' | 'zh'): void };
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
  const fail = (err: unknown) => {
    // Before the explorer exists there is no Notice component; say it plainly.
    notice.hidden = false;
    notice.textContent = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(err);
  };
  try {
    const dl = await loadDlmath();
    const explorer = new Explorer(
      dl,
      {
        notice,
        langSelect: byId<HTMLSelectElement>('lang-select'),
        langLabel: byId('lang-label'),
        heading: byId('heading'),
        tagline: byId('tagline'),
        picker: byId('picker'),
        params: byId('params'),
        extraInputs: byId('extra-inputs'),
        row: byId('row'),
        range: byId('range'),
        probe: byId('probe'),
        opHead: byId('op-head'),
        opDetails: byId('op-details'),
        charts: byId('charts'),
        notPlotted: byId('not-plotted'),
        chartF: byId('chart-f'),
        chartDf: byId('chart-df'),
        chartFTitle: byId('chart-f-title'),
        chartDfTitle: byId('chart-df-title'),
        footer: byId('footer'),
      },
      { storage: storage(), location: window.location, history: window.history },
      lang,
    );
    window.addEventListener('error', (e) => explorer.showError('uncaught', e.error ?? e.message));
    window.addEventListener('unhandledrejection', (e) => explorer.showError('uncaught', e.reason));
    window.dlmathExplorer = {
      ready: true,
      snapshot: () => explorer.snapshot(),
      setLang: (l) => explorer.setLang(l),
    };
    status.hidden = true;
  } catch (err) {
    status.hidden = true;
    fail(err);
  }
}

void main();
