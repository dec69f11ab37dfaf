// nostr-tools (npm), a client we did not write, publishes to and queries our relay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';

useWebSocketImplementation(WebSocket);

const bin = process.env.SEEDSTR_BIN;
let proc;
let url;

before(async () => {
  assert.ok(bin, 'SEEDSTR_BIN must name the seedstr binary');
  const data = mkdtempSync(join(tmpdir(), 'seedstr-js-'));
  proc = spawn(bin, ['relay', '--listen', '127.0.0.1:0', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  url = line.replace('seedstr relay listening on ', '').trim();
});

after(() => proc?.kill('SIGKILL'));

const now = () => Math.floor(Date.now() / 1000);

test('publish, query with tag filter and limit, newest first', async () => {
  const sk = generateSecretKey();
  const pk = getPublicKey(sk);
  const relay = await Relay.connect(url);
  const events = [];
  for (let i = 0; i < 5; i++) {
    const ev = finalizeEvent({ kind: 1, created_at: now() - 100 + i, tags: [['t', 'interop']], content: `note ${i}` }, sk);
    await relay.publish(ev);
    events.push(ev);
  }
  const got = await new Promise((resolve) => {
    const seen = [];
    const sub = relay.subscribe([{ authors: [pk], '#t': ['interop'], limit: 3 }], {
      onevent: (e) => seen.push(e),
      oneose: () => { sub.close(); resolve(seen); },
    });
  });
  assert.deepEqual(got.map((e) => e.id), [events[4].id, events[3].id, events[2].id]);
  relay.close();
});

test('a forged event is refused with a reason', async () => {
  const sk = generateSecretKey();
  const relay = await Relay.connect(url);
  const ev = finalizeEvent({ kind: 1, created_at: now(), tags: [], content: 'real' }, sk);
  const forged = { ...ev, content: 'forged' };
  await assert.rejects(relay.publish(forged), /invalid:/);
  relay.close();
});

test('live events reach a subscriber, replaceable events replace', async () => {
  const sk = generateSecretKey();
  const pk = getPublicKey(sk);
  const reader = await Relay.connect(url);
  const writer = await Relay.connect(url);
  const live = new Promise((resolve) => {
    reader.subscribe([{ authors: [pk], kinds: [0] }], { onevent: resolve });
  });
  const old = finalizeEvent({ kind: 0, created_at: now() - 10, tags: [], content: '{"name":"old"}' }, sk);
  const fresh = finalizeEvent({ kind: 0, created_at: now(), tags: [], content: '{"name":"new"}' }, sk);
  await writer.publish(old);
  assert.equal((await live).id, old.id);
  await writer.publish(fresh);
  const stored = await new Promise((resolve) => {
    const seen = [];
    const sub = writer.subscribe([{ authors: [pk], kinds: [0] }], {
      onevent: (e) => seen.push(e),
      oneose: () => { sub.close(); resolve(seen); },
    });
  });
  assert.deepEqual(stored.map((e) => e.id), [fresh.id]);
  reader.close();
  writer.close();
});

test('COUNT (NIP-45)', async () => {
  const sk = generateSecretKey();
  const pk = getPublicKey(sk);
  const relay = await Relay.connect(url);
  for (let i = 0; i < 4; i++) {
    await relay.publish(finalizeEvent({ kind: 1, created_at: now(), tags: [], content: `c${i}` }, sk));
  }
  assert.equal(await relay.count([{ authors: [pk] }]), 4);
  relay.close();
});

test('NIP-50 search: most relevant first, live matches, the NIP listed', async () => {
  const sk = generateSecretKey();
  const pk = getPublicKey(sk);
  const relay = await Relay.connect(url);
  const t = now() - 100;
  const article = finalizeEvent({ kind: 30023, created_at: t, tags: [['d', 'otters'], ['title', 'Otter Holts']], content: 'where otters sleep by the river' }, sk);
  const older = finalizeEvent({ kind: 1, created_at: t + 1, tags: [], content: 'saw an otter today' }, sk);
  const newer = finalizeEvent({ kind: 1, created_at: t + 2, tags: [], content: 'Otters again, by the weir' }, sk);
  const unrelated = finalizeEvent({ kind: 1, created_at: t + 3, tags: [], content: 'bottle of water' }, sk);
  for (const ev of [article, older, newer, unrelated]) await relay.publish(ev);

  const search = (filter) => new Promise((resolve) => {
    const seen = [];
    const sub = relay.subscribe([filter], {
      onevent: (e) => seen.push(e.id),
      oneose: () => { sub.close(); resolve(seen); },
    });
  });
  // The title holds the word: first. "otter" begins "otters": after the whole word, newest first.
  assert.deepEqual(await search({ authors: [pk], search: 'otter' }), [article.id, older.id, newer.id]);
  assert.deepEqual(await search({ authors: [pk], search: 'otter river' }), [article.id]);
  assert.deepEqual(await search({ authors: [pk], kinds: [1], search: 'OTTERS', limit: 1 }), [newer.id]);
  assert.deepEqual(await search({ authors: [pk], search: 'tter' }), [], 'words are found by their beginnings');
  assert.equal(await relay.count([{ authors: [pk], search: 'otter' }]), 3);

  // A live event matching the search reaches the subscription after EOSE.
  const live = new Promise((resolve) => {
    relay.subscribe([{ authors: [pk], search: 'holt' }], { onevent: (e) => { if (e.content.includes('live')) resolve(e.id); } });
  });
  const late = finalizeEvent({ kind: 1, created_at: now(), tags: [], content: 'a live note about holts' }, sk);
  await relay.publish(late);
  assert.equal(await live, late.id);
  relay.close();

  const info = await fetch(url.replace('ws://', 'http://'), { headers: { Accept: 'application/nostr+json' } });
  assert.ok((await info.json()).supported_nips.includes(50));
});
