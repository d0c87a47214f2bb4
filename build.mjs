#!/usr/bin/env node
// Bundles scripts/post-run-sqs.ts into one self-contained file (no node_modules at run time)
// and writes its SHA-256 beside it, which the launcher verifies before running it.
// The output is byte-for-byte reproducible: same sources and lockfile, same bytes.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { outfile: { type: "string", default: "dist/post_run_sqs.js" } } });
const outfile = resolve(values.outfile);

await build({
  entryPoints: ["scripts/post-run-sqs.ts"],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  // ESM: the repository's package.json says "type": "module", and the launcher saves the download as .mjs.
  format: "esm",
  minify: true,
  legalComments: "none",
  // Bundled CommonJS dependencies call require(); ESM has none, so one is made for them.
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);' },
  logLevel: "warning",
});

const digest = createHash("sha256").update(readFileSync(outfile)).digest("hex");
writeFileSync(`${outfile}.sha256`, `${digest}  ${basename(outfile)}\n`);
console.log(`built ${values.outfile} (${readFileSync(outfile).length} bytes, sha256 ${digest.slice(0, 12)}...)`);
