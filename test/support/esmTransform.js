// Jest (on Node 20) cannot require ES modules; jose ships only ESM. esbuild turns such
// dependencies into CommonJS for the tests; production runs them through Node's own require(esm).
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, { loader: 'js', format: 'cjs', target: 'node20', sourcemap: true, sourcefile: filename });
    return { code, map };
  },
};
