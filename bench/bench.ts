/** `npm run bench`: every benchmark of the project, one after the other (timings are noisy: compare within one run). */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const benches = ["post-run.ts", "setup-discovery.ts"].filter((name) => existsSync(`${here}${name}`));
let failed = 0;
for (const name of benches) {
  console.log(`\n## bench/${name}`);
  const result = spawnSync(process.execPath, ["--import", "tsx", `${here}${name}`, ...process.argv.slice(2)], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
