import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { ROOT } from "./support/post-run-world.ts";

const run = promisify(execFile);
const BUNDLE = join(ROOT, "dist/post_run_sqs.js");

describe("dist/post_run_sqs.js", () => {
  it("is byte-for-byte what the sources build (rebuild and compare)", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "bundle-")), "post_run_sqs.js");
    await run(process.execPath, [join(ROOT, "build.mjs"), `--outfile=${out}`], { cwd: ROOT });
    assert.ok(readFileSync(out).equals(readFileSync(BUNDLE)), "dist/post_run_sqs.js is stale: run npm run build and commit dist/");
    assert.equal(readFileSync(`${out}.sha256`, "utf8"), readFileSync(`${BUNDLE}.sha256`, "utf8"));
  });

  it("has a published checksum that matches it", () => {
    const digest = createHash("sha256").update(readFileSync(BUNDLE)).digest("hex");
    assert.equal(readFileSync(`${BUNDLE}.sha256`, "utf8"), `${digest}  post_run_sqs.js\n`);
  });

  it("is self-contained and under 1 MB", async () => {
    assert.ok(statSync(BUNDLE).size < 1_000_000, `${statSync(BUNDLE).size} bytes`);
    const copy = join(mkdtempSync(join(tmpdir(), "alone-")), "post_run_sqs.mjs");
    await run("cp", [BUNDLE, copy]);
    const { stdout } = await run(process.execPath, [copy, "--help"], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? "" } });
    assert.match(stdout, /^Usage: node post_run_sqs\.js/);
  });
});
