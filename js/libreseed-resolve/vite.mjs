// A Vite plugin: a bare import Vite cannot resolve from the importing file is resolved again as
// if imported from the project's .libreseed_modules, where `seedstr pkg install` puts packages
// (the same rule `seedstr run` gives Node). Packages there find their own dependencies the
// usual way.

import path from 'node:path';
import { createRequire } from 'node:module';

const { modulesDir } = createRequire(import.meta.url)('./modules.cjs');

const bare = (id) =>
  !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0') && !/^[a-zA-Z]+:/.test(id);

/**
 * @param {{ project?: string }} [options] `project`: the project's folder (default: Vite's
 *   `root`, or a folder above it)
 */
export default function libreseed(options = {}) {
  let from;
  return {
    name: 'libreseed-resolve',
    enforce: 'pre',
    configResolved(config) {
      // A file that need not exist, in the folder that holds .libreseed_modules/node_modules:
      // resolving from it walks into that node_modules first.
      from = path.join(path.dirname(modulesDir(options.project ?? config.root)), 'index.js');
    },
    async resolveId(source, importer, resolveOptions) {
      if (!bare(source) || importer === from) {
        return null;
      }
      const found = await this.resolve(source, importer, { ...resolveOptions, skipSelf: true });
      if (found) {
        return found;
      }
      return this.resolve(source, from, { ...resolveOptions, skipSelf: true });
    },
  };
}

export { libreseed };
