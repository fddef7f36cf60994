#!/usr/bin/env node
/*
 * End-to-end browser test of jupyter-sleeptime against a REAL Jupyter server.
 *
 * Started by tests/test_browser.py, which runs `jupyter lab` with the scripted model
 * and a small notebook; this script drives headless Debian Chromium through
 * playwright-core (no browser download) and reports what it saw as JSON: insights after
 * idle, a typed question (model), an anticipated chip (the server's prepared answer, timed
 * in the page from the click to the answer shown), "Ask the model instead" (fresh), a
 * reworded anticipated question typed in (matched by the server), "Insert below".
 *
 * Environment:
 *   JUPYTER_URL     base URL of the server, ending in "/" (e.g. http://127.0.0.1:8888/)
 *   JUPYTER_TOKEN   the server's token
 *   NOTEBOOK        notebook path relative to the server root (e.g. e2e.ipynb)
 *   ARTIFACTS_DIR   where screenshots go (created)
 *   RESULT_PATH     where the JSON result is written (also printed as the last stdout line)
 *   CHROMIUM_PATH   browser executable (default /usr/bin/chromium)
 *   QUESTION        the question typed in the sidebar (must not be an anticipated one)
 *   E2E_TIMEOUT_MS  overall deadline (default 150000)
 *
 * Exit status: 0 when every step passed, 1 when a step failed, 2 on a setup error.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const { chromium } = require('playwright-core');

const env = process.env;
const BASE = (env.JUPYTER_URL || 'http://127.0.0.1:8888/').replace(/\/?$/, '/');
const TOKEN = env.JUPYTER_TOKEN || '';
const NOTEBOOK = env.NOTEBOOK || 'e2e.ipynb';
const ARTIFACTS = path.resolve(env.ARTIFACTS_DIR || 'test-artifacts');
const RESULT_PATH = env.RESULT_PATH || '';
const CHROMIUM = env.CHROMIUM_PATH || '/usr/bin/chromium';
const QUESTION =
  env.QUESTION || 'Which regions are in the sales table and how many units?';
const DEADLINE = Date.now() + Number(env.E2E_TIMEOUT_MS || 150000);

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync'
];

const tid = id => `[data-testid="${id}"]`;

const isAsk = r => r.url().includes('/sleeptime/api/kernels/') && r.url().includes('/ask') && r.method() === 'POST';

/** The NDJSON events of an ask response body. */
function parseEvents(body) {
  return body
    .split('\n')
    .filter(Boolean)
    .map(line => {
      try {
        return JSON.parse(line);
      } catch (e) {
        return { type: 'unparsable', line };
      }
    });
}

/** Record every data-state:data-source the answer view goes through (see `stopWatching`). */
function watchAnswer(page) {
  return page.evaluate(() => {
    window.__sleeptimeStates = [];
    const seen = window.__sleeptimeStates;
    const record = () => {
      const a = document.querySelector('[data-testid="jp-sleeptime-answer"]');
      if (a) {
        const entry = `${a.getAttribute('data-state')}:${a.getAttribute('data-source')}`;
        const body = a.querySelector('[data-testid="jp-sleeptime-answer-body"]');
        const len = body ? body.textContent.length : 0;
        const last = seen[seen.length - 1];
        if (!last || last.state !== entry || last.len !== len) {
          seen.push({ state: entry, len });
        }
      }
    };
    const panel = document.querySelector('[data-testid="jp-sleeptime-panel"]');
    window.__sleeptimeObserver = new MutationObserver(record);
    window.__sleeptimeObserver.observe(panel, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true
    });
  });
}

function stopWatching(page) {
  return page.evaluate(() => {
    window.__sleeptimeObserver.disconnect();
    return window.__sleeptimeStates;
  });
}

/** What the answer view shows now. */
async function answerView(page) {
  const answer = tid('jp-sleeptime-answer');
  const text = async id =>
    (await page.$(tid(id))) ? ((await page.textContent(tid(id))) || '').trim() : null;
  return {
    question: await page.$eval(`${answer} .jp-sleeptime-answer-q`, e => e.textContent.trim()).catch(() => null),
    state: await page.getAttribute(answer, 'data-state'),
    source: await page.getAttribute(answer, 'data-source'),
    text: await text('jp-sleeptime-answer-body'),
    provenance: await text('jp-sleeptime-answer-provenance'),
    matchedAttr: (await page.$(tid('jp-sleeptime-answer-provenance')))
      ? await page.getAttribute(tid('jp-sleeptime-answer-provenance'), 'data-matched')
      : null,
    askModelButton: !!(await page.$(tid('jp-sleeptime-ask-model'))),
    footer: await text('jp-sleeptime-answer-footer'),
    error: await text('jp-sleeptime-answer-error')
  };
}

const result = {
  ok: false,
  url: BASE,
  notebook: NOTEBOOK,
  steps: [],
  data: {},
  screenshots: [],
  consoleErrors: [],
  pageErrors: [],
  error: null
};

function left(ms) {
  return Math.max(1000, Math.min(ms, DEADLINE - Date.now()));
}

function log(...args) {
  console.error('[e2e]', ...args);
}

async function step(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    const ms = Date.now() - started;
    result.steps.push({ name, ok: true, ms, detail: detail ?? null });
    log(`ok   ${name} (${ms} ms)`);
    return detail;
  } catch (error) {
    const ms = Date.now() - started;
    const message = String((error && error.message) || error).split('\n')[0];
    result.steps.push({ name, ok: false, ms, error: message });
    log(`FAIL ${name} (${ms} ms): ${message}`);
    throw error;
  }
}

/** Snapshot of the current notebook's cells, read from the JupyterLab model. */
function notebookInfo(page) {
  return page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const nb = panel && panel.content;
    if (!nb || !nb.model) {
      return null;
    }
    const cells = [];
    for (let i = 0; i < nb.model.cells.length; i++) {
      const c = nb.model.cells.get(i);
      cells.push({
        type: c.type,
        source: c.sharedModel.getSource(),
        executionCount: c.type === 'code' ? (c.executionCount ?? null) : null,
        outputs: c.type === 'code' ? c.outputs.length : 0
      });
    }
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return {
      path: panel.context.path,
      kernelId: kernel ? kernel.id : null,
      kernelStatus: kernel ? kernel.status : null,
      activeCellIndex: nb.activeCellIndex,
      cells
    };
  });
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (!fs.existsSync(CHROMIUM)) {
    throw Object.assign(new Error(`no browser at ${CHROMIUM}`), { setup: true });
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleeptime-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1600, height: 1000 },
    timeout: 60000
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(20000);
  page.on('console', m => {
    if (m.type() === 'error') {
      result.consoleErrors.push(m.text().slice(0, 500));
    }
  });
  page.on('pageerror', e => result.pageErrors.push(String(e.message).slice(0, 500)));

  const shot = async name => {
    const file = path.join(ARTIFACTS, name);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: 15000 });
      result.screenshots.push(file);
    } catch (error) {
      log(`screenshot ${name} failed: ${error.message}`);
    }
  };

  try {
    await step('open JupyterLab with the notebook', async () => {
      const url = `${BASE}lab/tree/${encodeURI(NOTEBOOK)}?token=${encodeURIComponent(TOKEN)}`;
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: left(60000) });
      await page.waitForSelector('#jupyterlab-splash', { state: 'detached', timeout: left(60000) });
      await page.waitForFunction(() => !!window.jupyterapp, null, { timeout: left(30000) });
      // The notebook is the current widget and its kernel is idle.
      await page.waitForFunction(
        nb => {
          const w = window.jupyterapp.shell.currentWidget;
          const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
          return !!k && w.context.path === nb && k.status === 'idle';
        },
        NOTEBOOK,
        { timeout: left(60000), polling: 250 }
      );
      const info = await notebookInfo(page);
      result.data.kernelId = info.kernelId;
      return { cells: info.cells.length, kernelId: info.kernelId };
    });

    await step('status bar item is there', async () => {
      await page.waitForSelector(tid('jp-sleeptime-status'), { timeout: left(10000) });
      return { text: (await page.textContent(tid('jp-sleeptime-status'))).trim() };
    });

    await step('run all cells (the last one fails)', async () => {
      await page.click('.jp-Notebook .jp-Cell >> nth=0');
      await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
      // Every code cell got an execution count (run-all stops at the failing last cell) and
      // the kernel is idle again.
      await page.waitForFunction(
        () => {
          const panel = window.jupyterapp.shell.currentWidget;
          const nb = panel.content.model;
          const kernel = panel.sessionContext.session.kernel;
          for (let i = 0; i < nb.cells.length; i++) {
            const c = nb.cells.get(i);
            if (c.type === 'code' && c.executionCount == null) {
              return false;
            }
          }
          return kernel.status === 'idle';
        },
        null,
        { timeout: left(60000), polling: 200 }
      );
      await page.waitForSelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]', {
        timeout: left(10000)
      });
      const info = await notebookInfo(page);
      result.data.cellsAfterRun = info.cells;
      return { executionCounts: info.cells.map(c => c.executionCount) };
    });

    await step('open the sidebar from its tab', async () => {
      const tab = '.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="jp-sleeptime-sidebar"]';
      if (await page.$(tab)) {
        await page.click(tab);
      } else {
        await page.evaluate(() => window.jupyterapp.commands.execute('sleeptime:open'));
      }
      await page.waitForSelector(`${tid('jp-sleeptime-panel')}:visible`, { timeout: left(10000) });
      return { via: (await page.$(tab)) ? 'tab' : 'command' };
    });

    await step('insights appear after idle', async () => {
      const started = Date.now();
      await page.waitForSelector(tid('jp-sleeptime-chip'), { timeout: left(60000) });
      const chipMs = Date.now() - started;
      await page.waitForSelector(`${tid('jp-sleeptime-diagnosis')}[data-ready="true"]`, { timeout: left(30000) });
      await page.waitForSelector(tid('jp-sleeptime-insert'), { timeout: left(30000) });
      await page.waitForSelector(tid('jp-sleeptime-memory'), { timeout: left(30000) });
      // Let the idle run finish, so the prepared state is current.
      await page.waitForFunction(() => !document.querySelector('[data-testid="jp-sleeptime-thinking"]'), null, {
        timeout: left(30000),
        polling: 200
      });
      const text = async id => ((await page.textContent(tid(id))) || '').trim();
      const data = {
        chipAfterMs: chipMs,
        state: await page.getAttribute(tid('jp-sleeptime-state'), 'data-state'),
        chips: await page.$$eval(tid('jp-sleeptime-chip'), els => els.map(e => e.textContent.trim())),
        diagnosis: await text('jp-sleeptime-diagnosis'),
        nextSteps: await page.$$eval(tid('jp-sleeptime-next-step'), els => els.map(e => e.textContent.trim())),
        memory: await text('jp-sleeptime-memory'),
        cellNote: (await page.$(tid('jp-sleeptime-cell-note'))) ? await text('jp-sleeptime-cell-note') : null,
        status: await text('jp-sleeptime-status')
      };
      result.data.insights = data;
      return data;
    });
    await shot('browser-e2e-insights.png');

    await step('typed question gets a streamed model answer', async () => {
      await watchAnswer(page);
      await page.fill(tid('jp-sleeptime-ask-input'), QUESTION);
      const response = page.waitForResponse(r => isAsk(r.request()), { timeout: left(30000) });
      const started = Date.now();
      await page.click(tid('jp-sleeptime-ask-button'));
      const resp = await response;
      await page.waitForFunction(
        q => {
          const a = document.querySelector('[data-testid="jp-sleeptime-answer"]');
          const question = a && a.querySelector('.jp-sleeptime-answer-q');
          return !!a && question && question.textContent.trim() === q && a.getAttribute('data-state') !== 'streaming';
        },
        QUESTION,
        { timeout: left(30000), polling: 100 }
      );
      const elapsed = Date.now() - started;
      const events = parseEvents(await resp.text());
      const states = await stopWatching(page);
      const view = await answerView(page);
      const data = {
        ...view,
        question: QUESTION,
        httpStatus: resp.status(),
        contentType: resp.headers()['content-type'] || '',
        requestBody: JSON.parse(resp.request().postData() || 'null'),
        tokenEvents: events.filter(e => e.type === 'token').length,
        eventTypes: [...new Set(events.map(e => e.type))],
        doneEvent: events.find(e => e.type === 'done') || null,
        uiStates: states,
        elapsedMs: elapsed
      };
      result.data.typed = data;
      if (data.state !== 'done') {
        throw new Error(`answer ended in state ${data.state}: ${data.error || ''}`);
      }
      return data;
    });

    await step('anticipated chip: the server answers with the prepared answer', async () => {
      const chip = page.locator(tid('jp-sleeptime-chip')).first();
      await chip.waitFor({ state: 'visible', timeout: left(10000) });
      const question = (await chip.textContent()).trim();
      const response = page.waitForResponse(r => isAsk(r.request()), { timeout: left(10000) });
      // Measured in the page: from the click to the answer view showing the finished prepared
      // answer to this question (request, server, NDJSON stream, React render, all of it).
      const measured = await page.evaluate(
        q =>
          new Promise((resolve, reject) => {
            const panel = document.querySelector('[data-testid="jp-sleeptime-panel"]');
            const chipEl = [...document.querySelectorAll('[data-testid="jp-sleeptime-chip"]')].find(
              c => c.textContent.trim() === q
            );
            const finished = () => {
              const a = document.querySelector('[data-testid="jp-sleeptime-answer"]');
              const shown = a && a.querySelector('.jp-sleeptime-answer-q');
              return !!shown && shown.textContent.trim() === q && a.getAttribute('data-state') !== 'streaming';
            };
            let started = 0;
            const observer = new MutationObserver(() => {
              if (finished()) {
                const ms = performance.now() - started;
                observer.disconnect();
                clearTimeout(timer);
                const asks = performance.getEntriesByType('resource').filter(e => e.name.includes('/ask'));
                const last = asks[asks.length - 1];
                resolve({ ms, requestMs: last ? last.responseEnd - last.startTime : null });
              }
            });
            const timer = setTimeout(() => {
              observer.disconnect();
              reject(new Error('no answer to the chip within 10 s'));
            }, 10000);
            observer.observe(panel, { subtree: true, childList: true, characterData: true, attributes: true });
            started = performance.now();
            chipEl.click();
          }),
        question
      );
      const resp = await response;
      const events = parseEvents(await resp.text());
      const view = await answerView(page);
      const data = {
        ...view,
        question,
        httpStatus: resp.status(),
        requestBody: JSON.parse(resp.request().postData() || 'null'),
        doneEvent: events.find(e => e.type === 'done') || null,
        elapsedMs: Math.round(measured.ms * 10) / 10,
        requestMs: measured.requestMs === null ? null : Math.round(measured.requestMs * 10) / 10
      };
      result.data.chip = data;
      if (data.state !== 'done') {
        throw new Error(`chip answer ended in state ${data.state}: ${data.error || ''}`);
      }
      return data;
    });
    await shot('browser-e2e-prepared.png');

    await step('"ask the model instead" streams a model answer', async () => {
      const question = result.data.chip.question;
      await watchAnswer(page);
      const response = page.waitForResponse(r => isAsk(r.request()), { timeout: left(30000) });
      await page.click(tid('jp-sleeptime-ask-model'));
      const resp = await response;
      // The prepared answer on screen has the same question: wait for the one not prepared.
      await page.waitForFunction(
        q => {
          const a = document.querySelector('[data-testid="jp-sleeptime-answer"]');
          const shown = a && a.querySelector('.jp-sleeptime-answer-q');
          return (
            !!shown &&
            shown.textContent.trim() === q &&
            a.getAttribute('data-state') !== 'streaming' &&
            a.getAttribute('data-source') !== 'anticipated'
          );
        },
        question,
        { timeout: left(30000), polling: 100 }
      );
      const events = parseEvents(await resp.text());
      const states = await stopWatching(page);
      const data = {
        ...(await answerView(page)),
        httpStatus: resp.status(),
        requestBody: JSON.parse(resp.request().postData() || 'null'),
        tokenEvents: events.filter(e => e.type === 'token').length,
        doneEvent: events.find(e => e.type === 'done') || null,
        uiStates: states
      };
      result.data.fresh = data;
      if (data.state !== 'done') {
        throw new Error(`model answer ended in state ${data.state}: ${data.error || ''}`);
      }
      return data;
    });

    await step('a typed anticipated question, reworded, is matched by the server', async () => {
      const prepared = result.data.chip.question;
      const typed = prepared.toLowerCase().replace(/[?!.\s]+$/, '');
      const response = page.waitForResponse(r => isAsk(r.request()), { timeout: left(10000) });
      await page.fill(tid('jp-sleeptime-ask-input'), typed);
      await page.click(tid('jp-sleeptime-ask-button'));
      const resp = await response;
      await page.waitForFunction(
        q => {
          const a = document.querySelector('[data-testid="jp-sleeptime-answer"]');
          const shown = a && a.querySelector('.jp-sleeptime-answer-q');
          return !!shown && shown.textContent.trim() === q && a.getAttribute('data-state') !== 'streaming';
        },
        typed,
        { timeout: left(10000), polling: 50 }
      );
      const events = parseEvents(await resp.text());
      const data = {
        ...(await answerView(page)),
        prepared,
        typed,
        requestBody: JSON.parse(resp.request().postData() || 'null'),
        doneEvent: events.find(e => e.type === 'done') || null
      };
      result.data.reworded = data;
      return data;
    });

    await step('insert below adds an unexecuted cell', async () => {
      const before = await notebookInfo(page);
      const stepEl = page.locator(tid('jp-sleeptime-next-step')).first();
      const code = await stepEl.locator('pre code').textContent();
      await stepEl.locator(tid('jp-sleeptime-insert')).click();
      await page.waitForFunction(
        n => window.jupyterapp.shell.currentWidget.content.model.cells.length === n + 1,
        before.cells.length,
        { timeout: left(5000), polling: 100 }
      );
      const buttonText = ((await stepEl.locator(tid('jp-sleeptime-insert')).textContent()) || '').trim();
      // Give an (unwanted) execution a chance to happen before checking that none did.
      await page.waitForTimeout(1000);
      const after = await notebookInfo(page);
      const expectedIndex =
        before.activeCellIndex >= 0 && before.activeCellIndex < before.cells.length
          ? before.activeCellIndex + 1
          : before.cells.length;
      const data = {
        code,
        before: before.cells.length,
        after: after.cells.length,
        activeBefore: before.activeCellIndex,
        activeAfter: after.activeCellIndex,
        expectedIndex,
        inserted: after.cells[expectedIndex] || null,
        buttonText,
        kernelStatus: after.kernelStatus
      };
      result.data.insert = data;
      return data;
    });

    result.ok = true;
  } finally {
    await shot(result.ok ? 'browser-e2e.png' : 'browser-e2e-failure.png');
    await context.close().catch(() => undefined);
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

function finish(code) {
  const json = JSON.stringify(result);
  if (RESULT_PATH) {
    fs.writeFileSync(RESULT_PATH, JSON.stringify(result, null, 1));
  }
  process.stdout.write(json + '\n');
  process.exit(code);
}

const watchdog = setTimeout(() => {
  result.error = 'overall deadline passed';
  finish(1);
}, Math.max(1000, DEADLINE - Date.now() + 20000));
watchdog.unref();

main()
  .then(() => finish(0))
  .catch(error => {
    result.error = String((error && error.message) || error).split('\n')[0];
    finish(error && error.setup ? 2 : 1);
  });
