// The node's web UI in a real browser: Debian's Chromium, headless, driven by Playwright.
// A person searches, opens a project and its releases, and sees the incident banner on the
// version its author flagged; a screenshot of that page is kept as a test artifact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure';

const bin = process.env.SEEDSTR_BIN;
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const artifacts = process.env.SEEDSTR_ARTIFACTS ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const home = mkdtempSync(join(tmpdir(), 'seedstr-ui-'));
const env = { ...process.env, SEEDSTR_HOME: home, SEEDSTR_PASSPHRASE: 'ui test', SEEDSTR_LOG: 'warn' };
let node;
let base;
let browser;
let npub;

const seedstr = (...args) => execFileSync(bin, args, { env, encoding: 'utf8' });

before(async () => {
  assert.ok(bin, 'SEEDSTR_BIN must name the seedstr binary');
  assert.ok(existsSync(browserPath), `${browserPath} is missing: scripts/test installs Debian's chromium`);
  const sk = generateSecretKey();
  execFileSync(bin, ['key', 'import'], { env, input: `${Buffer.from(sk).toString('hex')}\n` });
  node = spawn(bin, ['node', '--listen', '127.0.0.1:0', '--torrent-listen', '127.0.0.1:0', '--no-dht'], {
    env, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: node.stdout }).once('line', resolve);
    node.once('exit', (code) => reject(new Error(`the node exited with ${code}`)));
  });
  base = line.replace('seedstr node listening on ', '').trim();
  const relay = `ws://${base.replace('http://', '')}/`;
  const published = {};
  for (const version of ['1.0.0', '1.1.0']) {
    const dir = join(home, `trees-${version}`);
    mkdirSync(join(dir, 'meshes'), { recursive: true });
    writeFileSync(join(dir, 'meshes', 'oak.nif'), `oak ${version}\n`);
    published[version] = JSON.parse(seedstr('publish', dir, '--ns', 'skyrim-se', '--slug', 'lush-trees', '--version', version,
      '--name', 'Lush Trees', '--summary', 'Taller oaks and denser pines',
      '--changelog', `Release ${version}`, '--relay', relay, '--no-dht', '--json'));
  }
  // A curator's collection pinning 1.1.0, signed here with nostr-tools and published through
  // the node's HTTP API.
  const collection = finalizeEvent({
    kind: 30083,
    created_at: Math.floor(Date.now() / 1000),
    content: 'A greener Skyrim.',
    tags: [
      ['d', 'skyrim-se.collection.forest'],
      ['name', 'Forest Pack'],
      ['mod', `30079:${getPublicKey(sk)}:skyrim-se.lush-trees@1.1.0`, published['1.1.0'].event_id, published['1.1.0'].infohash],
    ],
  }, sk);
  const posted = await fetch(`${base}/api/v1/events`, { method: 'POST', body: JSON.stringify(collection) });
  assert.equal(posted.status, 200, await posted.text());
  seedstr('mod', 'incident', 'skyrim-se.lush-trees', '--versions', '=1.1.0',
    '--summary', '1.1.0 ships a corrupted mesh', '--instructions', 'Roll back to 1.0.0.',
    '--severity', 'critical', '--id', 'mesh', '--relay', relay, '--no-dht', '--json');
  // A player's review and a compatibility report on 1.0.0, shown on its page.
  npub = seedstr('key', 'show').match(/npub: (npub1\w+)/)[1];
  seedstr('mod', 'review', `${npub}/skyrim-se.lush-trees@1.0.0`, '--rating', '4',
    '--text', 'Lovely forests, a little heavy on old GPUs', '--relay', relay, '--json');
  seedstr('mod', 'compat', `${npub}/skyrim-se.lush-trees@1.0.0`, '--game-version', '1.6.1170',
    '--status', 'works', '--notes', 'No crashes in two hours', '--relay', relay, '--json');
  // Two npm packages, greet depending on pad, both mapped in this identity's own registry.
  for (const [name, manifest] of [
    ['pad', { name: 'pad', version: '1.0.0' }],
    ['greet', { name: 'greet', version: '2.0.0', dependencies: { pad: '^1.0.0' } }],
  ]) {
    const dir = join(home, `pkg-${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'index.js'), 'module.exports = 1;\n');
    seedstr('pkg', 'publish', dir, '--ns', 'npm', '--relay', relay, '--no-dht', '--json');
    seedstr('pkg', 'registry', 'add', name, npub, '--relay', relay, '--no-dht', '--json');
  }
  browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  node?.kill('SIGTERM');
});

test('search, open a release, and see the incident banner', async () => {
  const page = await browser.newPage();
  await page.goto(base);
  await page.getByRole('searchbox', { name: 'Search' }).fill('oaks');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/\/search\?q=oaks/);
  await page.getByRole('link', { name: 'Lush Trees' }).click();
  await page.waitForURL(/\/p\//);
  // The project page flags the affected version and carries the banner too.
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'corrupted mesh' }).waitFor());
  await page.getByRole('link', { name: '1.1.0' }).click();
  await page.waitForURL(/@1\.1\.0$/);
  const banner = page.getByRole('alert');
  assert.match(await banner.innerText(), /Security incident \(critical, versions =1\.1\.0\): 1\.1\.0 ships a corrupted mesh/);
  assert.match(await banner.innerText(), /Roll back to 1\.0\.0\./);
  assert.equal(await page.locator('h1 .badge').innerText(), 'blocked');
  assert.equal(await page.locator('table.files td code').first().innerText(), 'meshes/oak.nif');
  // A withdrawn version offers no download.
  assert.equal(await page.getByRole('link', { name: 'download' }).count(), 0);
  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, 'release-with-incident.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(existsSync(shot));

  // The version before it is clean: no banner, verified.
  await page.goto(page.url().replace('@1.1.0', '@1.0.0'));
  assert.equal(await page.getByRole('alert').count(), 0);
  assert.equal(await page.locator('h1 .badge').innerText(), 'verified');
  assert.match(await page.locator('.review').innerText(), /★★★★☆[\s\S]*Lovely forests/);
  assert.match(await page.locator('table.compat').innerText(), /1\.6\.1170\s+works[\s\S]*No crashes/);
  // Its file downloads through the node, checked against the release on the way.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'download' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'oak.nif');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'oak 1.0.0\n');
  await page.close();
});

test('a collection pinning a flagged release carries the banner', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/search?type=collection`);
  await page.getByRole('link', { name: 'Forest Pack' }).click();
  await page.waitForURL(/\/c\//);
  assert.match(await page.getByRole('alert').innerText(), /Security incident in skyrim-se\.lush-trees 1\.1\.0 \(critical\): 1\.1\.0 ships a corrupted mesh/);
  assert.match(await page.locator('table.mods').innerText(), /skyrim-se\.lush-trees 1\.1\.0/);
  await page.close();
});

test('a package page lists what it needs and what needs it, and links its author', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/search?type=package`);
  await page.getByRole('link', { name: 'pad', exact: true }).click();
  await page.waitForURL(/\/pkg\/npm\/pad$/);
  assert.match(await page.locator('pre.install').innerText(), /seedstr pkg install pad/);
  assert.match(await page.locator('ul.dependents').innerText(), /greet 2\.0\.0 needs \^1\.0\.0/);
  await page.locator('ul.dependents').getByRole('link', { name: 'greet' }).click();
  await page.waitForURL(/\/pkg\/npm\/greet$/);
  assert.match(await page.locator('ul.dependencies').innerText(), /pad \^1\.0\.0/);
  assert.match(await page.locator('table.versions').innerText(), /2\.0\.0/);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'package-page.png'), fullPage: true });
  await page.locator('ul.publishers a').first().click();
  await page.waitForURL(/\/u\/npub1/);
  const main = await page.locator('main').innerText();
  assert.match(main, /Lush Trees/);
  assert.match(main, /greet/);
  await page.close();
});

test('a release page says how many seeders the swarm has', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/r/${npub}/skyrim-se.lush-trees@1.0.0`);
  // The first view may start the check; a reload shows its answer.
  let text = await page.locator('dd.seeders').innerText();
  for (let i = 0; i < 50 && /asking the swarm/.test(text); i++) {
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
    text = await page.locator('dd.seeders').innerText();
  }
  assert.match(text, /^\d+ seeders?, \d+ downloading/);
  await page.close();
});

test('a release that does not exist is a 404 page that says so', async () => {
  const page = await browser.newPage();
  const response = await page.goto(`${base}/r/${'0'.repeat(64)}/skyrim-se.nothing`);
  assert.equal(response.status(), 404);
  assert.match(await page.locator('p.error').innerText(), /holds no|nothing/);
  await page.close();
});
