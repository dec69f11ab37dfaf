// Compiles the channel contract with npm `solc` (the version tests/js pins) and writes its ABI,
// bytecode and compiler version to crates/channel/contract/UnidirectionalChannel.json, which the
// channel crate embeds. Run: node contracts/build.mjs (after `npm ci` in tests/js).
// `node contracts/build.mjs --check` compiles and fails if the committed file differs.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../tests/js/package.json'));
const solc = require('solc');

const name = 'UnidirectionalChannel';
const source = readFileSync(join(here, `${name}.sol`), 'utf8');
const input = {
  language: 'Solidity',
  sources: { [`${name}.sol`]: { content: source } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}
const built = output.contracts[`${name}.sol`][name];
const artifact = {
  contract: name,
  compiler: `solc ${solc.version()}`,
  settings: input.settings,
  source_sha256: createHash('sha256').update(source).digest('hex'),
  abi: built.abi,
  bytecode: `0x${built.evm.bytecode.object}`,
  deployed_bytecode: `0x${built.evm.deployedBytecode.object}`,
};
const text = `${JSON.stringify(artifact, null, 2)}\n`;
const out = join(here, `../crates/channel/contract/${name}.json`);
if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== text) {
    console.error(`${out} differs from what ${artifact.compiler} makes of ${name}.sol: run node contracts/build.mjs`);
    process.exit(1);
  }
  console.log(`${out} matches ${artifact.compiler}`);
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out} (${artifact.compiler})`);
}
