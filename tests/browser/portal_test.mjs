// The portal's web page end to end, in the system's headless Chromium: a real `bonafide
// scan` into a fresh SQLite outbox, real tokens, a real `bonafide serve` on loopback, the
// page driven as a rights holder would. Started by run_portal_test.sh (CTest label
// `browser`), which checks that node, Chromium and playwright-core are there.
//
// Usage: node portal_test.mjs BONAFIDE_BINARY SOURCE_DIR ARTIFACT_DIR
// Exit status 0 when every check passed, 1 otherwise. Screenshots (laptop and phone) are
// written to ARTIFACT_DIR; the temporary directory is kept when a check fails.

import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {createInterface} from 'node:readline';

import {chromium} from 'playwright-core';

const [bonafide, sourceDir, artifactDir] = process.argv.slice(2);
if (!bonafide || !sourceDir || !artifactDir) {
  console.error('usage: node portal_test.mjs BONAFIDE_BINARY SOURCE_DIR ARTIFACT_DIR');
  process.exit(2);
}
const chromiumPath = process.env.BONAFIDE_CHROMIUM || '/usr/bin/chromium';
const kTimeoutMs = 20000;

let passed = 0;
function check(condition, what, detail = '') {
  if (!condition) throw new Error(`FAILED: ${what}${detail ? `: ${detail}` : ''}`);
  ++passed;
  console.log(`ok ${passed} - ${what}`);
}

// Runs the CLI in `workDir` (a scan writes its rejects file there) and returns its stdout.
let workDir = os.tmpdir();
function run(args) {
  const result = spawnSync(bonafide, args, {encoding: 'utf8', cwd: workDir});
  if (result.status !== 0) {
    throw new Error(`bonafide ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

// ---- fixtures: two rights holders, one listing photo that is a rotated genuine photo ----

const kHostileTitle = 'ACME Runner 22 and Bolt Chrono replica <img src=x onerror=alert(1)>';

function writeFixtures(dir) {
  const rules = path.join(dir, 'rules');
  fs.mkdirSync(path.join(rules, 'rights_holders', 'photos'), {recursive: true});
  fs.mkdirSync(path.join(dir, 'images'));
  for (const name of ['policy.yaml', 'cues.yaml', 'context.yaml']) {
    fs.copyFileSync(path.join(sourceDir, 'testdata/rules/minimal', name), path.join(rules, name));
  }
  fs.appendFileSync(path.join(rules, 'policy.yaml'),
                    'image: {max_distance: 31, min_quality: 50}\n');
  fs.writeFileSync(path.join(rules, 'rights_holders', 'acme.yaml'), `id: acme
name: ACME Sports GmbH
brands:
  - name: ACME
products:
  - id: acme-runner-22
    name: Runner 22
    keywords: [runner 22]
    reference_price: {amount: 180, currency: EUR}
    min_price_ratio: 0.4
    images: [photos/runner.jpg]
`);
  fs.writeFileSync(path.join(rules, 'rights_holders', 'bolt.yaml'), `id: bolt
name: Bolt Watches SA
brands:
  - name: Bolt
products:
  - id: bolt-chrono
    name: Chrono
    keywords: [bolt chrono]
    reference_price: {amount: 400, currency: EUR}
    min_price_ratio: 0.5
`);
  // PDQ conformance photos (testdata/pdq): the original as the genuine photo, its 90°
  // rotation as the seller's photo, an unrelated one beside it.
  const pdq = path.join(sourceDir, 'testdata/pdq/reg-test-input');
  fs.copyFileSync(path.join(pdq, 'dih/bridge-1-original.jpg'),
                  path.join(rules, 'rights_holders/photos/runner.jpg'));
  fs.copyFileSync(path.join(pdq, 'dih/bridge-2-rotate-90.jpg'),
                  path.join(dir, 'images/rotated.jpg'));
  fs.copyFileSync(path.join(pdq, 'labelme-subset/q0003.jpg'),
                  path.join(dir, 'images/other.jpg'));

  const listings = [];
  const add = (id, title, price, seller, extra = {}) =>
      listings.push(JSON.stringify({id, title, price, currency: 'EUR', seller_id: seller, ...extra}));
  // 23 plain ACME cases, so that the page needs "Load more" (20 a page).
  for (let i = 1; i <= 23; ++i) {
    add(`a${String(i).padStart(2, '0')}`, `ACME Runner 22 replica lot ${i}`, 30 + i, `s-a${i}`);
  }
  // Non-ASCII before the match: the highlight must turn UTF-8 byte offsets into characters.
  add('photo', 'ACME größe 42 – Runner 22 replica', 20, 's-photo',
      {description: 'Original-Foto, keine Replik', images: ['rotated.jpg', 'other.jpg']});
  // Names both brands: a case for each, same listing id. Its title is hostile markup.
  add('both', kHostileTitle, 10, 's-both');
  for (let i = 1; i <= 4; ++i) add(`b${i}`, `Bolt Chrono replica watch ${i}`, 50 + i, `s-b${i}`);
  fs.writeFileSync(path.join(dir, 'listings.jsonl'), `${listings.join('\n')}\n`);
}

// ---- the server ----------------------------------------------------------------------

// Starts `bonafide serve` on a free loopback port; resolves with {child, base, exited}
// once it printed its "listening on" line.
function startServer(dir) {
  const child = spawn(bonafide, ['serve', '--outbox', path.join(dir, 'outbox.db'),
                                 '--listen', '127.0.0.1:0', '--image-root',
                                 path.join(dir, 'images'), '--rules', path.join(dir, 'rules')],
                      {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']});
  const log = fs.createWriteStream(path.join(dir, 'serve.log'));
  child.stderr.pipe(log);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({code, signal})));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bonafide serve printed no "listening on" line')),
                             kTimeoutMs);
    const lines = createInterface({input: child.stdout});
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      if (!m || m[2] === '0') reject(new Error(`unexpected first line from serve: ${line}`));
      else resolve({child, base: m[1], exited});
    });
    exited.then(({code}) => reject(new Error(`bonafide serve exited early (${code}), see serve.log`)));
  });
}

async function apiGet(base, token, apiPath) {
  const response = await fetch(base + apiPath, {headers: {Authorization: `Bearer ${token}`}});
  return {status: response.status, body: await response.json()};
}

// ---- the page --------------------------------------------------------------------------

// Records what a page does that it must not: requests off the machine, script errors,
// dialogs (an injected alert()), console errors such as CSP violations.
function watch(page, offences, requests) {
  page.on('request', (request) => {
    requests.push(request.url());
    const url = new URL(request.url());
    if (!['http:', 'data:', 'blob:'].includes(url.protocol) ||
        (url.protocol === 'http:' && url.hostname !== '127.0.0.1')) {
      offences.push(`request left the machine: ${request.url()}`);
    }
  });
  page.on('pageerror', (error) => offences.push(`script error: ${error.message}`));
  page.on('dialog', (dialog) => {
    offences.push(`dialog opened: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on('console', (message) => {
    // Chromium logs every API answer the test provokes on purpose (401 before logging in
    // and after logging out, the refused second verdict's 409) as a console error; any
    // other error (a CSP violation, a missing photo, a script error) counts.
    const text = message.text();
    if (message.type() === 'error' &&
        !/^Failed to load resource: the server responded with a status of (401|409) /.test(text)) {
      offences.push(`console error: ${text}`);
    }
  });
}

async function logIn(page, base, token) {
  await page.goto(`${base}/`);
  await page.locator('#login').waitFor({state: 'visible'});
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', {name: 'Log in'}).click();
  await listSettled(page);
}

async function listSettled(page) {
  await page.locator('#cases').waitFor({state: 'visible'});
  await page.waitForFunction(() => {
    const list = document.getElementById('case-list');
    const message = document.getElementById('list-message').textContent;
    return list.getAttribute('aria-busy') === 'false' && !message.startsWith('Loading');
  });
}

// Waits until every image of `images` is loaded and decoded (a screenshot then shows it);
// fails when one cannot be loaded.
async function decoded(images) {
  await images.evaluateAll((imgs) => Promise.all(imgs.map((img) => img.decode())));
}

async function shownKeys(page) {
  return page.locator('article.case').evaluateAll(
      (cards) => cards.map((card) => card.dataset.caseKey));
}

// ---- the test --------------------------------------------------------------------------

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bonafide-portal-'));
  workDir = dir;
  fs.mkdirSync(artifactDir, {recursive: true});
  let server = null;
  let browser = null;
  let ok = false;
  try {
    writeFixtures(dir);
    const outbox = path.join(dir, 'outbox.db');
    run(['scan', '--rules', path.join(dir, 'rules'), '--images', path.join(dir, 'images'),
         '--outbox', outbox, '--rejects', path.join(dir, 'rejects.jsonl'), '--progress=false',
         path.join(dir, 'listings.jsonl')]);
    const tokenA = run(['token', 'create', '--outbox', outbox, '--rights-holder', 'acme']).trim();
    const tokenB = run(['token', 'create', '--outbox', outbox, '--rights-holder', 'bolt']).trim();
    check(/^\S{22,}$/.test(tokenA) && /^\S{22,}$/.test(tokenB) && tokenA !== tokenB,
          'token create prints one distinct token per rights holder');

    server = await startServer(dir);
    const {base} = server;
    console.log(`# bonafide serve at ${base}, work dir ${dir}`);

    // The API agrees on what each holder owns, so "none of B's cases" means something.
    const bCases = await apiGet(base, tokenB, '/api/v1/cases?status=pending&limit=200');
    const bKeys = bCases.body.cases.map((c) => c.case_key);
    check(bCases.status === 200 && bKeys.length === 5 && bKeys.every((k) => k.startsWith('bolt:')),
          'holder B has its own 5 pending cases', JSON.stringify(bKeys));

    browser = await chromium.launch({
      executablePath: chromiumPath,
      // Tests run as root in containers, where Chromium's sandbox cannot start (it needs
      // user namespaces or a setuid helper): --no-sandbox is the only way to run it there.
      // The page it loads is our own, from loopback. --headless=new: the full browser's
      // headless mode, the same engine as the desktop browser.
      args: ['--no-sandbox', '--headless=new'],
    });

    // ---- laptop: log in as A, every case is A's ----
    const offences = [];
    const requests = [];
    const laptop = await browser.newContext({viewport: {width: 1366, height: 768}});
    const page = await laptop.newPage();
    watch(page, offences, requests);
    const root = await page.request.get(`${base}/`);
    check(/script-src 'self'/.test(root.headers()['content-security-policy'] ?? ''),
          'the page is served with a Content-Security-Policy');
    await logIn(page, base, tokenA);
    check((await page.locator('#who').textContent()).includes('acme'), 'the page says who is logged in');
    check((await page.locator('[role="tab"][aria-selected="true"]').textContent()) === 'Pending',
          'pending cases come first');
    let pages = 1;
    while (await page.locator('#load-more').isVisible()) {
      await page.locator('#load-more').click();
      await listSettled(page);
      ++pages;
    }
    const keys = await shownKeys(page);
    check(pages === 2, '"Load more" fetched the second page', `${pages} pages`);
    check(keys.length === 25 && new Set(keys).size === 25, 'all 25 of A\'s pending cases are listed once',
          `${keys.length} shown`);
    check(keys.every((k) => k.startsWith('acme:')), 'every case shown belongs to A');
    check(keys.filter((k) => bKeys.includes(k) || k.startsWith('bolt:')).length === 0,
          'none of B\'s cases is shown');
    const pageText = await page.locator('#case-list').textContent();
    check(!pageText.includes('bolt:default'), 'no case key of B appears anywhere in the list');

    // Hostile listing text is shown as text.
    const hostile = page.locator('article[data-case-key="acme:default:both"]');
    check((await hostile.locator('.case-title').textContent()) === kHostileTitle,
          'a title with markup is shown literally');
    check((await hostile.locator('.case-title img').count()) === 0 &&
              (await page.evaluate(() => document.querySelectorAll('img:not([src^="/api/v1/photos/"])').length)) === 0,
          'no element was injected from listing text');

    // The photo case: highlights over non-ASCII text, price, explanation, photos side by side.
    const key = 'acme:default:photo';
    const card = page.locator(`article[data-case-key="${key}"]`);
    check((await card.locator('.case-title mark.hl-cue').textContent()) === 'replica' &&
              (await card.locator('.case-title mark.hl-price').textContent()) === 'Runner 22' &&
              (await card.locator('.case-title mark.hl-mention').textContent()) === 'ACME',
          'the matched text is highlighted at the right characters (after non-ASCII text)');
    const price = await card.locator('.price').textContent();
    check(price.includes('20.00 EUR') && price.includes('180.00 EUR') && price.includes('11.11%'),
          'price against the reference', price);
    check((await card.locator('.explanation').textContent()).includes('genuine photo'),
          'the explanation in words');
    await card.scrollIntoViewIfNeeded();
    const pair = card.locator('figure.pair');
    await pair.locator('img').nth(1).waitFor();
    await decoded(pair.locator('img'));
    const sizes = await pair.locator('img').evaluateAll(
        (imgs) => imgs.map((img) => [img.naturalWidth, img.naturalHeight]));
    check(sizes.length === 2 && sizes[0][0] === sizes[1][1] && sizes[0][1] === sizes[1][0],
          'listing photo and the genuine photo it rotates, side by side', JSON.stringify(sizes));
    check(/Distance \d+ of at most 31/.test(await pair.locator('figcaption').textContent()),
          'the photo distance is shown');
    await page.screenshot({path: path.join(artifactDir, 'portal-laptop.png')});

    // One-click verdict with a comment.
    const comment = 'Wrong stitching; seller known <b>s-photo</b>';
    await card.getByLabel('Comment (optional)').fill(comment);
    await card.getByRole('button', {name: 'Counterfeit'}).click();
    const answered = page.locator(`article[data-case-key="${key}"][data-status="confirmed"]`);
    await answered.waitFor();
    check((await answered.locator('form.verdict .message').textContent()).includes('Recorded'),
          'the page confirms the verdict');
    // A second verdict without "replace" is refused with a readable message.
    await answered.getByRole('button', {name: 'Genuine'}).click();
    await page.waitForFunction(
        (k) => document.querySelector(`article[data-case-key="${k}"] form.verdict .message`)
                   .textContent.includes('already has a verdict'),
        key, {timeout: kTimeoutMs});
    check(await answered.getByRole('button', {name: /Replace it/}).isVisible(),
          'a 409 is explained and offers to replace the verdict');

    // The outbox has the verdict and its event.
    const shown = JSON.parse(run(['outbox', 'show', '--outbox', outbox, '--format', 'jsonl', key]));
    check(shown.status === 'confirmed' && shown.verdicts.length === 1 &&
              shown.verdicts[0].verdict === 'counterfeit' && shown.verdicts[0].comment === comment,
          'the outbox has the verdict with its comment', JSON.stringify(shown.verdicts));
    const verdictEvents = shown.events.filter((e) => e.type === 'case.verdict');
    check(verdictEvents.length === 1 && verdictEvents[0].payload.verdict === 'counterfeit',
          'the outbox has one case.verdict event');
    const feedA = await apiGet(base, tokenA, '/api/v1/events?limit=200');
    check(feedA.body.events.some((e) => e.type === 'case.verdict' && e.case_key === key),
          'A\'s event feed shows the verdict');
    const feedB = await apiGet(base, tokenB, '/api/v1/events?limit=200');
    check(feedB.body.events.length > 0 && feedB.body.events.every((e) => e.case_key.startsWith('bolt:')),
          'B\'s event feed holds only B\'s events');

    // A reload stays logged in; the case is now among the confirmed ones.
    await page.reload();
    await listSettled(page);
    await page.getByRole('tab', {name: 'Confirmed'}).click();
    await listSettled(page);
    check(JSON.stringify(await shownKeys(page)) === JSON.stringify([key]),
          'after a reload, the confirmed tab shows the answered case');

    // Log out: the session cookie no longer works.
    await page.getByRole('button', {name: 'Log out'}).click();
    await page.locator('#login').waitFor({state: 'visible'});
    check((await page.evaluate(async () => (await fetch('/api/v1/session')).status)) === 401,
          'after logging out the session is gone');

    // ---- phone: same page, one column, nothing wider than the screen ----
    const phone = await browser.newContext({viewport: {width: 390, height: 844}, isMobile: true,
                                            hasTouch: true, deviceScaleFactor: 2});
    const phonePage = await phone.newPage();
    watch(phonePage, offences, requests);
    await logIn(phonePage, base, tokenA);
    check((await shownKeys(phonePage)).length === 20, 'the phone shows the first page of cases');
    check(await phonePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
          'no horizontal scrolling on a 390 px phone');
    await phonePage.getByRole('tab', {name: 'Confirmed'}).click();
    await listSettled(phonePage);
    await decoded(phonePage.locator('figure.pair img'));
    check(await phonePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
          'a case with its photos fits the phone\'s width');
    await phonePage.screenshot({path: path.join(artifactDir, 'portal-phone.png'), fullPage: true});
    await phone.close();
    await laptop.close();

    check(requests.length > 0 && offences.length === 0,
          `no request left the machine, no script error, dialog or console error (${requests.length} requests)`,
          offences.join('; '));
    console.log(`# screenshots: ${path.join(artifactDir, 'portal-laptop.png')} ` +
                `${path.join(artifactDir, 'portal-phone.png')}`);

    await browser.close();
    browser = null;
    server.child.kill('SIGTERM');
    const {code, signal} = await server.exited;
    server = null;
    check(code === 0, 'bonafide serve exits 0 on SIGTERM', `code ${code}, signal ${signal}`);
    ok = true;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) server.child.kill('SIGKILL');
    if (ok) fs.rmSync(dir, {recursive: true, force: true});
    else console.error(`# kept ${dir} (serve.log, outbox.db)`);
  }
}

main().then(() => {
  console.log(`portal browser test: ${passed} passed, 0 failed`);
}, (error) => {
  console.error(error.stack || String(error));
  console.log(`portal browser test: ${passed} passed, 1 failed`);
  process.exitCode = 1;
});
