// How every Cahoots Lambda is bundled, defined once: AgentFunction hands these settings to
// NodejsFunction, and the bundle-size test and `npm run bench` give the same settings to esbuild
// directly, so what they measure is what a cell deploys.
import fs from 'node:fs';
import path from 'node:path';
import type { BuildOptions } from 'esbuild';
import { FUNCTIONS_DIR } from './paths';

/** Lambda's Node.js version as an esbuild target; AGENT_FUNCTION_RUNTIME is the same release. */
export const LAMBDA_BUNDLE_TARGET = 'node22';

/**
 * An ESM bundle has no `require`; a CommonJS dependency bundled into it that requires a Node
 * built-in would throw 'Dynamic require of "…" is not supported' at load time without this.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __cahootsCreateRequire } from 'node:module'; const require = __cahootsCreateRequire(import.meta.url);";

/**
 * The bundling settings, in NodejsFunction's vocabulary. The source map ships beside the bundle
 * but the functions do not start with `--enable-source-maps`: the flag makes every cold start
 * parse the map, and `process.setSourceMapsEnabled` cannot defer that to the first error because
 * it only applies to modules loaded after it (figures and how to map a stack: docs/deploy.md).
 */
export const LAMBDA_BUNDLING = {
  format: 'esm',
  target: LAMBDA_BUNDLE_TARGET,
  // Prefer the ESM build of dependencies that ship both, so tree-shaking works.
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  // Bundle the SDK clients we pinned and tested instead of whatever the runtime ships: no externals.
  bundleAwsSDK: true,
} as const;

/** The file name NodejsFunction gives an ESM bundle. */
export const LAMBDA_BUNDLE_FILE = 'index.mjs';

/**
 * The esbuild options NodejsFunction derives from LAMBDA_BUNDLING (its `--bundle --platform=node
 * --target --format --minify --sourcemap --banner:js --main-fields` command line), for building
 * handlers outside a synth. `entryPoints` are handler files; outputs land under `outdir` as
 * `<entry path relative to functions/>.mjs`.
 */
export function lambdaEsbuildOptions(entryPoints: readonly string[], outdir: string): BuildOptions {
  return {
    entryPoints: [...entryPoints],
    outdir,
    outbase: FUNCTIONS_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: LAMBDA_BUNDLING.target,
    format: LAMBDA_BUNDLING.format,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    banner: { js: LAMBDA_BUNDLING.banner },
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    metafile: true,
    logLevel: 'silent',
  };
}

/** Every handler file under `functionsDir`, as absolute paths (each is one deployed function). */
export function handlerEntryPoints(functionsDir: string = FUNCTIONS_DIR): string[] {
  return fs
    .readdirSync(functionsDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .sort()
    .map((file) => path.join(functionsDir, file));
}

/** One handler's bundle as esbuild built it. */
export interface HandlerBundle {
  /** The handler's path under functions/ without extension, e.g. `api/create-goal`. */
  name: string;
  /** The bundle file (an ES module). */
  file: string;
  /** Bytes of JavaScript in the bundle, source map excluded. */
  bytes: number;
  /** Every module esbuild put into the bundle, as paths relative to the working directory. */
  inputs: string[];
}

/**
 * Bundles every handler under functions/ into `outdir` with the deployed settings, in one esbuild run. esbuild is loaded here only, so a synth that
 * imports this module for LAMBDA_BUNDLING never loads it.
 */
export async function buildHandlerBundles(outdir: string, options: { sourceMaps?: boolean } = {}): Promise<HandlerBundle[]> {
  const { build } = await import('esbuild');
  const functionsDir = FUNCTIONS_DIR;
  const entries = handlerEntryPoints(functionsDir);
  // Leaving the maps out (the size test) changes no byte of the JavaScript but the closing
  // sourceMappingURL comment, and saves most of the build time.
  const result = await build({ ...lambdaEsbuildOptions(entries, outdir), ...(options.sourceMaps === false ? { sourcemap: false } : {}) });
  const outputs = result.metafile?.outputs ?? {};
  return entries.map((entry) => {
    const name = path.relative(functionsDir, entry).replace(/\.ts$/, '').split(path.sep).join('/');
    const file = path.join(outdir, `${name}.mjs`);
    const output = Object.entries(outputs).find(([out]) => path.resolve(out) === file)?.[1];
    if (!output) throw new Error(`esbuild produced no bundle for ${entry}`);
    return { name, file, bytes: output.bytes, inputs: Object.keys(output.inputs) };
  });
}
