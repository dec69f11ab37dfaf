// O-Red in a real browser: two owners, each signed in to their own node's pages (Debian's
// Chromium, headless, driven by Playwright), find each other through a directory, befriend,
// post to friends only and exchange a message, all through the pages. A visitor sees only the
// public pages. Screenshots are kept as test artifacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { generateSecretKey } from 'nostr-tools/pure';
import { npubEncode } from 'nostr-tools/nip19';
import { getPublicKey } from 'nostr-tools/pure';

const bin = process.env.SEEDSTR_BIN;
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const artifacts = process.env.SEEDSTR_ARTIFACTS ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const children = [];
let browser;
let directory;
const people = {};

/// A home with an imported key, its passphrase, and its npub.
function person(name) {
  const home = mkdtempSync(join(tmpdir(), `seedstr-social-${name}-`));
  const passphrase = `${name} passphrase`;
  const env = { ...process.env, SEEDSTR_HOME: home, SEEDSTR_PASSPHRASE: passphrase, SEEDSTR_LOG: 'warn' };
  const sk = generateSecretKey();
  execFileSync(bin, ['key', 'import'], { env, input: `${Buffer.from(sk).toString('hex')}\n` });
  return { home, env, passphrase, npub: npubEncode(getPublicKey(sk)) };
}

/// Starts `seedstr <args>` and resolves with its first line of output.
async function start(env, args) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`seedstr ${args[0]} exited with ${code}`)));
  });
}

before(async () => {
  assert.ok(bin, 'SEEDSTR_BIN must name the seedstr binary');
  assert.ok(existsSync(browserPath), `${browserPath} is missing: scripts/test installs Debian's chromium`);
  const operator = person('operator');
  const dirLine = await start(operator.env, ['directory', '--listen', '127.0.0.1:0', '--data', join(operator.home, 'dir'), '--probe-secs', '3600']);
  directory = dirLine.replace('seedstr directory listening on ', '').trim();
  for (const name of ['alice', 'bob']) {
    const p = person(name);
    const config = join(p.home, 'node.toml');
    writeFileSync(config, `[social]\nowner = true\ndirectories = ["${directory}"]\n`);
    const line = await start(p.env, ['node', '--config', config, '--listen', '127.0.0.1:0', '--torrent-listen', '127.0.0.1:0', '--no-dht']);
    p.base = line.replace('seedstr node listening on ', '').trim();
    people[name] = p;
  }
  browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill('SIGTERM');
});

async function signIn(p) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${p.base}/me`);
  await page.waitForURL(/\/me\/signin$/);
  await page.getByLabel('Passphrase').fill(p.passphrase);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/me$/);
  return page;
}

/// Reloads `url` until `locator` holds `text` (the directory and nodes pass events along
/// asynchronously), failing after a deadline.
async function eventually(page, url, locator, text) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.goto(url);
    const body = await page.locator(locator).innerText();
    if (body.includes(text)) return body;
    assert.ok(Date.now() < deadline, `${url} never showed ${JSON.stringify(text)}: ${body}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('two owners befriend, post to friends only and exchange a message through their pages', async () => {
  const { alice, bob } = people;
  mkdirSync(artifacts, { recursive: true });
  const a = await signIn(alice);
  const b = await signIn(bob);

  // A wrong passphrase is refused by name.
  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto(`${alice.base}/me/signin`);
  await stranger.getByLabel('Passphrase').fill('not it');
  await stranger.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await stranger.getByRole('alert').innerText(), /passphrase does not open/);

  // A form without the session's token is refused, even with the session's cookie.
  const forged = await a.request.post(`${alice.base}/me/friends`, { form: { action: 'block', who: bob.npub } });
  assert.equal(forged.status(), 403);
  assert.match(await forged.text(), /stale or not from this node/);

  // Alice finds bob through the directory (his node registered him) and asks him.
  await eventually(a, `${alice.base}/me/discover?q=${bob.npub}`, 'main', 'confirmed');
  await a.getByRole('button', { name: 'Send friend request' }).click();
  await a.waitForURL(/\/me\/friends$/);
  assert.match(await a.locator('main').innerText(), /Your requests waiting/);

  // Bob accepts on his node's page.
  await b.goto(`${bob.base}/me/friends`);
  await b.locator('.request').getByRole('button', { name: 'Accept' }).click();
  await b.waitForURL(/\/me\/friends$/);
  assert.match(await b.locator('ul.friends').innerText(), new RegExp(alice.npub.slice(0, 12)));

  // Alice's side completes when she looks.
  await eventually(a, `${alice.base}/me/friends`, 'ul.friends', bob.npub.slice(0, 12));
  await a.screenshot({ path: join(artifacts, 'social-friends.png'), fullPage: true });

  // A public post with a picture, and a friends-only one.
  const picture = join(alice.home, 'sunset.png');
  // A 1x1 PNG.
  writeFileSync(picture, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
  for (const [text, visibility] of [['hello world', 'public'], ['only for my friends', 'friends']]) {
    await a.goto(`${alice.base}/me`);
    await a.getByLabel('Post text').fill(text);
    await a.getByLabel('Visibility').selectOption(visibility);
    if (visibility === 'public') await a.getByLabel('Attachment').setInputFiles(picture);
    await a.getByRole('button', { name: 'Post' }).click();
    await a.waitForURL(/\/me$/);
  }
  const bobsHome = await eventually(b, `${bob.base}/me`, 'main', 'only for my friends');
  assert.match(bobsHome, /hello world/);
  // The picture is a torrent alice's node seeds; bob's browser loads it from her node.
  const img = b.locator('article.post', { hasText: 'hello world' }).locator('img');
  assert.match(await img.getAttribute('src'), /\/media\/[0-9a-f]{40}\/sunset\.png$/);
  assert.equal(await img.evaluate((i) => i.complete && i.naturalWidth), 1);
  assert.equal(await b.locator('article.post', { hasText: 'only for my friends' }).locator('.badge').innerText(), 'friends');
  await b.screenshot({ path: join(artifacts, 'social-home.png'), fullPage: true });

  // A visitor sees alice's public page: the public post, not the friends-only one; the
  // owner's pages send them to sign in.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${alice.base}/people/${alice.npub}`);
  const publicPage = await visitor.locator('main').innerText();
  assert.match(publicPage, /hello world/);
  assert.doesNotMatch(publicPage, /only for my friends/);
  await visitor.goto(`${alice.base}/me`);
  assert.match(visitor.url(), /\/me\/signin$/);

  // Bob writes to alice; she reads it in their conversation and answers.
  await b.goto(`${bob.base}/me/messages/${alice.npub}`);
  await b.getByLabel('Message').fill('lunch on friday?');
  await b.getByRole('button', { name: 'Send' }).click();
  await b.waitForURL(/\/me\/messages\/npub1/);
  await eventually(a, `${alice.base}/me/messages`, 'main', 'lunch on friday?');
  await a.getByRole('link', { name: new RegExp(bob.npub.slice(0, 12)) }).click();
  await a.getByLabel('Message').fill('yes, noon');
  await a.getByRole('button', { name: 'Send' }).click();
  await a.waitForURL(/\/me\/messages\/npub1/);
  // Both, whichever first: Nostr dates are in seconds, and these two share one.
  const conversation = await a.locator('main').innerText();
  assert.match(conversation, /lunch on friday\?/);
  assert.match(conversation, /yes, noon/);
  await a.screenshot({ path: join(artifacts, 'social-conversation.png'), fullPage: true });
  await eventually(b, `${bob.base}/me/messages/${alice.npub}`, 'main', 'yes, noon');
});
