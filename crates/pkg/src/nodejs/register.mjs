// Loaded by `seedstr run` with `node --import`: makes the packages in .libreseed_modules
// resolvable from the project's own code, for `require` and `import` alike. A bare specifier
// that Node's own lookup cannot find is looked up again as if imported from inside
// .libreseed_modules, so Node walks .libreseed_modules/node_modules with its usual rules
// (exports maps, conditions, nested copies).
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const modules = process.env.LIBRESEED_MODULES;
if (!modules) {
  throw new Error('LIBRESEED_MODULES is not set; start programs with `seedstr run`');
}
const parentURL = pathToFileURL(path.join(modules, 'index.js')).href;

if (typeof module.registerHooks === 'function') {
  // Node 22.15 / 23.5 and later: synchronous hooks, which cover require() and import.
  const bare = (s) => !/^(\.|\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(s);
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (e) {
        if (!bare(specifier) || (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND')) {
          throw e;
        }
        return nextResolve(specifier, { ...context, parentURL });
      }
    },
  });
} else {
  // Older Node: asynchronous hooks cover import; require() finds the packages through
  // NODE_PATH, which `seedstr run` sets.
  module.register('./hooks.mjs', import.meta.url, { data: { parentURL } });
}
