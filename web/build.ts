/**
 * Bundles the admin page (web/src) into dist/web/public with esbuild: one hashed
 * script and one hashed style sheet (cached for a year), and index.html naming them
 * (never cached). Runs in `npm run build`, so `npm start`, `npm test` and the
 * deployment package all carry the same files; nothing is fetched at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(__dirname, '..', '..');
const outdir = path.join(root, 'dist', 'web', 'public');

async function main(): Promise<void> {
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { app: path.join(root, 'web', 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(root, 'web', 'tsconfig.json'),
    entryNames: '[name]-[hash]',
    outdir,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'linked',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  const script = outputs.find((f) => /^app-[A-Z0-9]+\.js$/.test(f));
  const style = outputs.find((f) => /^app-[A-Z0-9]+\.css$/.test(f));
  if (!script || !style) throw new Error(`esbuild produced no app script or style sheet: ${outputs.join(', ')}`);
  const template = fs.readFileSync(path.join(root, 'web', 'static', 'index.html'), 'utf8');
  fs.writeFileSync(path.join(outdir, 'index.html'), template.replace('%SCRIPT%', script).replace('%STYLE%', style));
  for (const file of fs.readdirSync(path.join(root, 'web', 'static'))) {
    if (file !== 'index.html') fs.copyFileSync(path.join(root, 'web', 'static', file), path.join(outdir, file));
  }
}

main().catch((err: unknown) => {
  console.error(`building the admin page failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
