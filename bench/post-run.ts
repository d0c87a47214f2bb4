/**
 * Post-run benchmark: the committed bundle end to end against local emulators (moto for SQS/S3/STS,
 * the Seqera API stand-in): API calls, crate read from S3, send. Also the bundle's size and its
 * start-up time (`node dist/post_run_sqs.js --help`). Prints medians; `--runs N` (default 7).
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isMainModule } from "../lib/cli.ts";
import { BUNDLE, ROOT, runNode, startPostRunWorld } from "../test/support/post-run-world.ts";

export const TARGETS = { endToEndMs: 500, startupMs: 250, bundleBytes: 1_000_000 };

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function benchPostRun(runs: number): Promise<{ endToEndMs: number[]; startupMs: number[]; bundleBytes: number }> {
  const world = await startPostRunWorld();
  try {
    const queue = await world.createQueue("BenchPackagerQueue");
    const bucket = await world.createBucket();
    const crate = readFileSync(join(ROOT, "fixtures/wrroc/nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json"));
    await world.putObject(bucket, "results/ro-crate-metadata.json", crate);
    const run = world.seqera.addRun({
      workflow: { sessionId: "0525d4a9-ccd8-4f53-9ae3-3795511610d2" },
      params: { outdir: `s3://${bucket}/results`, sqs_queue_url: queue.awsUrl },
    });
    const env = world.seqeraEnv(run);

    const endToEndMs: number[] = [];
    await world.runBundle(env); // warm-up: moto's first requests are slower
    for (let i = 0; i < runs; i++) {
      const result = await world.runBundle(env);
      if (result.code !== 0) throw new Error(`post-run failed in the benchmark:\n${result.stderr}`);
      endToEndMs.push(result.ms);
    }
    const sent = await world.receiveAll(queue);
    if (sent.length < runs) throw new Error(`expected ${runs + 1} messages in the queue, found ${sent.length}`);

    const startupMs: number[] = [];
    for (let i = 0; i < runs; i++) startupMs.push((await runNode([BUNDLE, "--help"], { PATH: process.env.PATH ?? "" })).ms);
    return { endToEndMs, startupMs, bundleBytes: statSync(BUNDLE).size };
  } finally {
    await world.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
  const runs = Math.max(5, Number(values.runs) || 7);
  const { endToEndMs, startupMs, bundleBytes } = await benchPostRun(runs);
  const rows = [
    ["post-run end to end (median)", `${median(endToEndMs).toFixed(0)} ms`, `<= ${TARGETS.endToEndMs} ms`, median(endToEndMs) <= TARGETS.endToEndMs],
    ["bundle start-up --help (median)", `${median(startupMs).toFixed(0)} ms`, `< ${TARGETS.startupMs} ms`, median(startupMs) < TARGETS.startupMs],
    ["bundle size", `${bundleBytes} bytes`, `< ${TARGETS.bundleBytes} bytes`, bundleBytes < TARGETS.bundleBytes],
  ] as const;
  console.log(`post-run benchmark, ${runs} runs each (all runs, ms: end to end ${endToEndMs.join(", ")}; start-up ${startupMs.join(", ")})`);
  for (const [name, value, target, ok] of rows) console.log(`  ${ok ? "ok  " : "SLOW"} ${name.padEnd(34)} ${value.padStart(14)}   target ${target}`);
  return rows.every((r) => r[3]) ? 0 : 1;
}

if (isMainModule(import.meta.url)) {
  main().then((code) => (process.exitCode = code));
}
