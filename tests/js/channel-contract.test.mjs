// The channel contract's committed artifact (crates/channel/contract/UnidirectionalChannel.json,
// which the Rust crate embeds) is what npm `solc` makes of contracts/UnidirectionalChannel.sol:
// the bytecode that runs on chains is the source that is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the committed contract artifact is solc\'s output for the committed source', () => {
  const out = execFileSync('node', [join(root, 'contracts', 'build.mjs'), '--check'], { encoding: 'utf8' });
  assert.match(out, /matches solc 0\.8\.37/);
});
