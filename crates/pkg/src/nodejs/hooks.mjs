// The asynchronous resolve hook `register.mjs` installs on Node versions without
// module.registerHooks: a bare specifier Node cannot find is looked up from .libreseed_modules.
let parentURL;

export async function initialize(data) {
  parentURL = data.parentURL;
}

const bare = (s) => !/^(\.|\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(s);

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (!bare(specifier) || e.code !== 'ERR_MODULE_NOT_FOUND') {
      throw e;
    }
    return nextResolve(specifier, { ...context, parentURL });
  }
}
