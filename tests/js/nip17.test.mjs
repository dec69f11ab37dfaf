// NIP-17 private messages between nostr-tools (npm), a client we did not write, and
// `seedstr social dm`, both ways, through our relay (which serves gift wraps only to their
// NIP-42-authenticated recipient).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { wrapEvent, unwrapEvent } from 'nostr-tools/nip17';

useWebSocketImplementation(WebSocket);

const bin = process.env.SEEDSTR_BIN;
let proc;
let url;
// Our side: a seedstr identity in its own home.
const home = mkdtempSync(join(tmpdir(), 'seedstr-dm-'));
const ourSecret = generateSecretKey();
const ourPk = getPublicKey(ourSecret);

function seedstr(args, input) {
  const out = spawnSync(bin, args, {
    input,
    env: { ...process.env, SEEDSTR_HOME: home, SEEDSTR_PASSPHRASE: 'test passphrase', SEEDSTR_LOG: 'warn' },
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, `seedstr ${args.join(' ')}: ${out.stdout}${out.stderr}`);
  return out.stdout;
}

before(async () => {
  assert.ok(bin, 'SEEDSTR_BIN must name the seedstr binary');
  const data = mkdtempSync(join(tmpdir(), 'seedstr-js-'));
  proc = spawn(bin, ['relay', '--listen', '127.0.0.1:0', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  url = line.replace('seedstr relay listening on ', '').trim();
  seedstr(['key', 'import'], Buffer.from(ourSecret).toString('hex') + '\n');
});

after(() => proc?.kill('SIGKILL'));

// Our relays send the NIP-42 challenge when it is needed: asking for one's private messages
// brings it (then a CLOSED auth-required:), as it does on relays that challenge on connect.
async function challenged(relay, pk) {
  const sub = relay.subscribe([{ kinds: [1059], '#p': [pk], limit: 0 }], { onclose: () => {} });
  for (let i = 0; i < 250 && !relay.challenge; i++) await new Promise((r) => setTimeout(r, 20));
  sub.close();
  assert.ok(relay.challenge, 'the relay sent its challenge');
}

test('a message nostr-tools wraps is read by seedstr social dm read', async () => {
  const alice = generateSecretKey();
  const wrap = wrapEvent(alice, { publicKey: ourPk }, 'hi from nostr-tools');
  const relay = await Relay.connect(url);
  await relay.publish(wrap);
  relay.close();
  const inbox = JSON.parse(seedstr(['social', 'dm', 'read', '--relay', url, '--json']));
  // Alice is a stranger to us: her message is in the requests folder.
  assert.deepEqual(inbox.messages, [], JSON.stringify(inbox));
  assert.equal(inbox.requests.length, 1, JSON.stringify(inbox));
  assert.equal(inbox.requests[0].text, 'hi from nostr-tools');
  assert.equal(inbox.requests[0].from, getPublicKey(alice));
  assert.deepEqual(inbox.unreadable, []);
});

test('a message seedstr social dm send wraps is read by nostr-tools after AUTH', async () => {
  const bob = generateSecretKey();
  const bobPk = getPublicKey(bob);
  const sent = JSON.parse(seedstr(['social', 'dm', 'send', bobPk, 'hi from seedstr', '--relay', url, '--json']));
  assert.equal(sent.deliveries.length, 2, 'bob and our own copy');
  const relay = await Relay.connect(url);
  await challenged(relay, bobPk);
  await relay.auth((e) => finalizeEvent(e, bob));
  const wraps = await new Promise((resolve) => {
    const seen = [];
    const sub = relay.subscribe([{ kinds: [1059], '#p': [bobPk] }], {
      onevent: (e) => seen.push(e),
      oneose: () => { sub.close(); resolve(seen); },
    });
  });
  relay.close();
  assert.equal(wraps.length, 1);
  const rumor = unwrapEvent(wraps[0], bob);
  assert.equal(rumor.content, 'hi from seedstr');
  assert.equal(rumor.pubkey, ourPk);
  assert.equal(rumor.kind, 14);
});

test("our owner's node is an inbox nostr-tools writes to and reads from after AUTH", async () => {
  // The same identity as its node's owner: the node keeps its inbox (a wrap must open for it)
  // and serves wraps only to their authenticated recipient.
  const node = spawn(bin, ['node', '--owner', '--listen', '127.0.0.1:0', '--torrent-listen', '127.0.0.1:0', '--no-dht'], {
    env: { ...process.env, SEEDSTR_HOME: home, SEEDSTR_PASSPHRASE: 'test passphrase', SEEDSTR_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: node.stdout }).once('line', resolve);
      node.once('exit', (code) => reject(new Error(`the node exited with ${code}`)));
    });
    const inbox = `ws://${line.replace('seedstr node listening on http://', '').trim()}/`;
    const carol = generateSecretKey();
    const relay = await Relay.connect(inbox);
    // nostr-tools' wrap to the owner is taken; junk addressed to the owner is refused by name.
    await relay.publish(wrapEvent(carol, { publicKey: ourPk }, 'hello, home node'));
    const junk = finalizeEvent({ kind: 1059, created_at: Math.floor(Date.now() / 1000), tags: [['p', ourPk]], content: 'not sealed' }, generateSecretKey());
    await assert.rejects(relay.publish(junk), /does not open/);
    // The owner reads it, authenticated with nostr-tools.
    await challenged(relay, ourPk);
    await relay.auth((e) => finalizeEvent(e, ourSecret));
    const wraps = await new Promise((resolve) => {
      const seen = [];
      const sub = relay.subscribe([{ kinds: [1059], '#p': [ourPk] }], {
        onevent: (e) => seen.push(e),
        oneose: () => { sub.close(); resolve(seen); },
      });
    });
    relay.close();
    const texts = wraps.map((w) => unwrapEvent(w, ourSecret).content);
    assert.ok(texts.includes('hello, home node'), JSON.stringify(texts));
  } finally {
    node.kill('SIGTERM');
  }
});
