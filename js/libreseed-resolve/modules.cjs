'use strict';
// Where `seedstr pkg install` put a project's packages: `<project>/.libreseed_modules/node_modules`,
// the project being the nearest folder, from `start` up, that holds `.libreseed_modules`.

const fs = require('node:fs');
const path = require('node:path');

/**
 * The `.libreseed_modules/node_modules` folder of the project `start` is in.
 * @param {string} start a folder of the project (webpack's `context`, Vite's `root`)
 * @returns {string} an absolute path
 * @throws {Error} naming `start` when no folder above it holds `.libreseed_modules`
 */
function modulesDir(start) {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, '.libreseed_modules', 'node_modules');
    if (fs.existsSync(candidate)) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(
        `libreseed-resolve: no .libreseed_modules/node_modules in ${path.resolve(start)} or above it; ` +
          'run `seedstr pkg install` in the project first',
      );
    }
    dir = parent;
  }
}

module.exports = { modulesDir };
