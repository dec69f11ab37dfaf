'use strict';
// A webpack 5 plugin: bare imports webpack cannot find in node_modules are looked up in the
// project's .libreseed_modules/node_modules, where `seedstr pkg install` puts them. Packages
// there find their own dependencies the usual way (nested node_modules, then the top).

const { modulesDir } = require('./modules.cjs');

const NAME = 'LibreSeedResolvePlugin';

class LibreSeedResolvePlugin {
  /**
   * @param {{ project?: string }} [options] `project`: the project's folder (default: webpack's
   *   `context`, or a folder above it)
   */
  constructor(options = {}) {
    this.options = options;
  }

  apply(compiler) {
    const dir = modulesDir(this.options.project ?? compiler.context);
    // Appended after the configured (or default) module folders: what node_modules holds wins,
    // as with `seedstr run`.
    for (const kind of ['normal', 'context']) {
      compiler.resolverFactory.hooks.resolveOptions.for(kind).tap(NAME, (resolveOptions) => ({
        ...resolveOptions,
        modules: [...(resolveOptions.modules ?? ['node_modules']), dir],
      }));
    }
  }
}

module.exports = LibreSeedResolvePlugin;
module.exports.LibreSeedResolvePlugin = LibreSeedResolvePlugin;
