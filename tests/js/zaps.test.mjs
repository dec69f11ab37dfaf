// Zaps between nostr-tools (npm) and our node, and BOLT11 invoices read by an independent
// decoder (light-bolt11-decoder): a zap request made by nostr-tools is accepted by an owner's
// node, its invoice decodes to the right amount and description hash, nostr-tools' NIP-47
// request pays it through our development wallet (not money), the receipt our node publishes
// carries a request nostr-tools validates; a zap request `seedstr zap` makes passes
// nostr-tools' validateZapRequest too; and NIP-47 over NIP-44, built and read with nostr-tools,
// works for every method our development wallet announces, with its notification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { makeZapRequest, validateZapRequest } from 'nostr-tools/nip57';
import { nip47 } from 'nostr-tools';
import { decrypt as nip04Decrypt } from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';

useWebSocketImplementation(WebSocket);
const { decode } = createRequire(import.meta.url)('light-bolt11-decoder');

const bin = process.env.SEEDSTR_BIN;
const children = [];
let relayUrl;
let bob;
let alice;
let carol;
let dave;
let nodeBase;
let nodeRelay;

function person(name) {
  const home = mkdtempSync(join(tmpdir(), `seedstr-zap-${name}-`));
  const env = { ...process.env, SEEDSTR_HOME: home, SEEDSTR_PASSPHRASE: `${name} pass`, SEEDSTR_LOG: 'warn' };
  const sk = generateSecretKey();
  execFileSync(bin, ['key', 'import'], { env, input: `${Buffer.from(sk).toString('hex')}\n` });
  return { home, env, sk, pk: getPublicKey(sk), run: (...args) => execFileSync(bin, args, { env, encoding: 'utf8' }) };
}

async function start(env, args) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`seedstr ${args[0]} exited with ${code}`)));
  });
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const section = (decoded, name) => decoded.sections.find((s) => s.name === name)?.value;

/// The events of `filter` on `url`, waiting until `done(events)` holds (deadline 30 s).
async function until(url, filter, done) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const relay = await Relay.connect(url);
    const events = await new Promise((resolve) => {
      const seen = [];
      const sub = relay.subscribe([filter], {
        onevent: (e) => seen.push(e),
        oneose: () => { sub.close(); resolve(seen); },
      });
    });
    relay.close();
    if (done(events)) return events;
    assert.ok(Date.now() < deadline, `nothing matching ${JSON.stringify(filter)} on ${url}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  assert.ok(bin, 'SEEDSTR_BIN must name the seedstr binary');
  const operator = person('operator');
  const relayLine = await start(operator.env, ['relay', '--listen', '127.0.0.1:0', '--data', join(operator.home, 'relay')]);
  relayUrl = relayLine.replace('seedstr relay listening on ', '').trim();
  bob = person('bob');
  alice = person('alice');
  bob.uri = operator.run('wallet', 'dev', 'connection', '--relay', relayUrl).trim();
  alice.uri = operator.run('wallet', 'dev', 'connection', '--relay', relayUrl).trim();
  // Connections for nostr-tools alone, issued before the wallet starts (it serves those its
  // ledger holds then).
  carol = { uri: operator.run('wallet', 'dev', 'connection', '--relay', relayUrl).trim() };
  dave = { uri: operator.run('wallet', 'dev', 'connection', '--relay', relayUrl).trim() };
  await start(operator.env, ['wallet', 'dev', 'serve', '--relay', relayUrl]);
  bob.run('wallet', 'connect', bob.uri);
  alice.run('wallet', 'connect', alice.uri);
  const line = await start(bob.env, ['node', '--owner', '--listen', '127.0.0.1:0', '--torrent-listen', '127.0.0.1:0', '--no-dht']);
  nodeBase = line.replace('seedstr node listening on ', '').trim();
  nodeRelay = `ws://${nodeBase.replace('http://', '')}/`;
});

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

test("nostr-tools zaps an owner's node, pays through NIP-47, and validates the receipt", async () => {
  const doc = await (await fetch(`${nodeBase}/.well-known/lnurlp/me`)).json();
  assert.equal(doc.allowsNostr, true);
  const zr = finalizeEvent(makeZapRequest({ pubkey: bob.pk, amount: 21000, relays: [nodeRelay], comment: 'from nostr-tools' }), alice.sk);
  const nostr = JSON.stringify(zr);
  // The wallet opens its subscription as it starts: ask until an invoice comes.
  let answer;
  const deadline = Date.now() + 30_000;
  do {
    answer = await (await fetch(`${doc.callback}?amount=21000&nostr=${encodeURIComponent(nostr)}`)).json();
    if (!answer.pr) await new Promise((r) => setTimeout(r, 200));
  } while (!answer.pr && Date.now() < deadline);
  assert.ok(answer.pr, JSON.stringify(answer));
  // An independent decoder reads our invoice: the amount, and the hash of the request.
  const decoded = decode(answer.pr);
  assert.equal(section(decoded, 'amount'), '21000');
  assert.equal(section(decoded, 'description_hash'), sha256(nostr));
  // (nostr-tools' getSatoshisAmountFromBolt11 reads only mainnet `lnbc` prefixes; the
  // development wallet's invoices are regtest, `lnbcrt`, on purpose.)

  // nostr-tools' NIP-47 request (NIP-04) pays it through our development wallet.
  const conn = nip47.parseConnectionString(alice.uri);
  const secret = Uint8Array.from(Buffer.from(conn.secret, 'hex'));
  const request = await nip47.makeNwcRequestEvent(conn.pubkey, secret, answer.pr);
  const wallet = await Relay.connect(relayUrl);
  const response = await new Promise((resolve) => {
    const sub = wallet.subscribe([{ kinds: [23195], '#e': [request.id] }], {
      onevent: (e) => { sub.close(); resolve(e); },
    });
    wallet.publish(request);
  });
  wallet.close();
  const paid = JSON.parse(nip04Decrypt(secret, conn.pubkey, response.content));
  assert.equal(paid.result_type, 'pay_invoice');
  assert.match(paid.result.preimage, /^[0-9a-f]{64}$/);

  // The receipt our node publishes carries the request, which nostr-tools validates.
  const [receipt] = await until(nodeRelay, { kinds: [9735], '#p': [bob.pk] }, (es) => es.length > 0);
  assert.equal(receipt.pubkey, doc.nostrPubkey);
  const description = receipt.tags.find((t) => t[0] === 'description')[1];
  assert.equal(description, nostr);
  assert.equal(validateZapRequest(description), null);
  assert.equal(receipt.tags.find((t) => t[0] === 'preimage')[1], paid.result.preimage);
});

test('a zap request seedstr zap makes passes nostr-tools validateZapRequest', async () => {
  bob.run('social', 'profile', 'set', '--lud16', `me@${nodeBase.replace('http://', '')}`, '--relay', nodeRelay);
  const sent = JSON.parse(alice.run('zap', bob.pk, '7', '--comment', 'from seedstr', '--relay', nodeRelay, '--json'));
  assert.equal(sent.zap.amount_msat, 7000);
  const receipts = await until(nodeRelay, { kinds: [9735], '#p': [bob.pk] }, (es) => es.some((e) => e.id === sent.zap.receipt));
  const ours = receipts.find((e) => e.id === sent.zap.receipt);
  const description = ours.tags.find((t) => t[0] === 'description')[1];
  assert.equal(validateZapRequest(description), null);
  assert.equal(JSON.parse(description).content, 'from seedstr');
  assert.equal(section(decode(ours.tags.find((t) => t[0] === 'bolt11')[1]), 'amount'), '7000');
});

/// One NIP-47 request over NIP-44, built and read with nostr-tools: the answer's result, or the
/// error it names.
async function ask(uri, method, params) {
  const conn = nip47.parseConnectionString(uri);
  const sk = Uint8Array.from(Buffer.from(conn.secret, 'hex'));
  const key = nip44.getConversationKey(sk, conn.pubkey);
  const request = finalizeEvent({
    kind: 23194,
    created_at: Math.floor(Date.now() / 1000),
    tags: [['p', conn.pubkey], ['encryption', 'nip44_v2']],
    content: nip44.encrypt(JSON.stringify({ method, params }), key),
  }, sk);
  const relay = await Relay.connect(conn.relay);
  const response = await new Promise((resolve) => {
    const sub = relay.subscribe([{ kinds: [23195], '#e': [request.id] }], {
      onevent: (e) => { sub.close(); resolve(e); },
    });
    relay.publish(request);
  });
  relay.close();
  assert.equal(response.pubkey, conn.pubkey);
  const answer = JSON.parse(nip44.decrypt(response.content, key));
  assert.equal(answer.result_type, method);
  return answer;
}

test('NIP-47 over NIP-44 with nostr-tools: info, balance, invoice, payment, notification, lookup', async () => {
  const c = nip47.parseConnectionString(carol.uri);
  const d = nip47.parseConnectionString(dave.uri);
  assert.equal(c.pubkey, d.pubkey);
  assert.equal(c.relay, relayUrl);
  // The wallet's announcement (13194): its methods, encryptions and notifications.
  const [info] = await until(relayUrl, { kinds: [13194], authors: [c.pubkey] }, (es) => es.length > 0);
  for (const m of ['pay_invoice', 'make_invoice', 'lookup_invoice', 'get_balance']) {
    assert.ok(info.content.split(' ').includes(m), info.content);
  }
  assert.ok(info.tags.find((t) => t[0] === 'encryption')[1].split(' ').includes('nip44_v2'));

  const before = await ask(carol.uri, 'get_balance', {});
  assert.equal(before.error, undefined, JSON.stringify(before));
  assert.equal(before.result.balance, 1_000_000_000);
  const made = await ask(dave.uri, 'make_invoice', { amount: 5000, description_hash: sha256('from nostr-tools') });
  assert.equal(made.error, undefined, JSON.stringify(made));
  assert.match(made.result.invoice, /^lnbcrt/);
  assert.equal(section(decode(made.result.invoice), 'amount'), '5000');
  assert.equal(section(decode(made.result.invoice), 'description_hash'), sha256('from nostr-tools'));

  // Dave's side hears the payment (23197, NIP-44) once carol pays.
  const daveSk = Uint8Array.from(Buffer.from(d.secret, 'hex'));
  const listener = await Relay.connect(relayUrl);
  const notified = new Promise((resolve) => {
    const sub = listener.subscribe([{ kinds: [23197], '#p': [getPublicKey(daveSk)] }], {
      onevent: (e) => { sub.close(); resolve(e); },
    });
  });
  const paid = await ask(carol.uri, 'pay_invoice', { invoice: made.result.invoice });
  assert.equal(paid.error, undefined, JSON.stringify(paid));
  assert.equal(sha256(Buffer.from(paid.result.preimage, 'hex')), made.result.payment_hash);
  const note = await notified;
  listener.close();
  const heard = JSON.parse(nip44.decrypt(note.content, nip44.getConversationKey(daveSk, d.pubkey)));
  assert.equal(heard.notification_type, 'payment_received');
  assert.equal(heard.notification.payment_hash, made.result.payment_hash);
  assert.equal(heard.notification.amount, 5000);

  const looked = await ask(dave.uri, 'lookup_invoice', { payment_hash: made.result.payment_hash });
  assert.equal(looked.error, undefined, JSON.stringify(looked));
  assert.equal(looked.result.preimage, paid.result.preimage);
  assert.ok(looked.result.settled_at > 0, JSON.stringify(looked));
  const after = await ask(carol.uri, 'get_balance', {});
  assert.equal(after.result.balance, 1_000_000_000 - 5000);
  // Paying twice is refused with NIP-47's error code.
  const again = await ask(carol.uri, 'pay_invoice', { invoice: made.result.invoice });
  assert.ok(again.error?.code, JSON.stringify(again));
});
