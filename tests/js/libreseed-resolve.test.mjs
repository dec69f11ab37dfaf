// The bundler plugins' project lookup (js/libreseed-resolve/modules.cjs): found from any folder
// of the project, and a clear error where there is none. The plugins themselves are tested with
// real webpack and Vite builds in crates/cli/tests/packages.rs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const { modulesDir } = createRequire(import.meta.url)('../../js/libreseed-resolve/modules.cjs');

test('the nearest .libreseed_modules/node_modules from any folder of the project', () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'libreseed-resolve-'));
  try {
    const installed = path.join(project, '.libreseed_modules', 'node_modules');
    fs.mkdirSync(installed, { recursive: true });
    fs.mkdirSync(path.join(project, 'src', 'deep'), { recursive: true });
    assert.equal(modulesDir(project), installed);
    assert.equal(modulesDir(path.join(project, 'src', 'deep')), installed);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});

test('a folder with no installed packages above it is named in the error', () => {
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'libreseed-resolve-none-'));
  try {
    assert.throws(() => modulesDir(bare), (e) => {
      assert.match(e.message, /no \.libreseed_modules\/node_modules in/);
      assert.ok(e.message.includes(bare), e.message);
      assert.match(e.message, /seedstr pkg install/);
      return true;
    });
  } finally {
    fs.rmSync(bare, { recursive: true, force: true });
  }
});
