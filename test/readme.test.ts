/** README.md stays true to the tools: every flag in a tool's README table is in its --help, and the reverse. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, runNode } from "./support/post-run-world.ts";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

function section(name: string): string {
  const match = new RegExp(`<!-- section:${name} -->([\\s\\S]*?)<!-- /section:${name} -->`).exec(README);
  assert.ok(match, `README has a ${name} section`);
  return match[1] ?? "";
}

/** Flags named in the first column of the section's tables. */
function readmeFlags(text: string): Set<string> {
  const flags = new Set<string>();
  for (const line of text.split("\n")) {
    const first = /^\| ([^|]+)\|/.exec(line)?.[1] ?? "";
    for (const flag of first.match(/--[a-z][a-z-]*/g) ?? []) flags.add(flag);
  }
  return flags;
}

/** Long flags in the Options part of --help; yargs shows --no-X booleans as --X [default: true]. */
function helpFlags(help: string): Set<string> {
  const options = help.split(/\nOptions:\n/)[1]?.split(/\n\n/)[0] ?? "";
  const flags = new Set<string>();
  for (const line of options.split("\n")) {
    const flag = /^\s+(?:-\w, )?(--[a-z][a-z-]*)/.exec(line)?.[1];
    if (flag) flags.add(/\[default: true\]/.test(line) ? flag.replace(/^--/, "--no-") : flag);
  }
  return flags;
}

const TOOLS = [
  ["setup-sqs", "setup-sqs.ts"],
  ["check-sqs", "check-sqs.ts"],
  ["test-sqs", "test-sqs.ts"],
] as const;

describe("README flag tables match --help", () => {
  for (const [name, script] of TOOLS) {
    it(`${script}`, async () => {
      const result = await runNode(["--import", "tsx", join(ROOT, script), "--help"], { PATH: process.env.PATH ?? "", COLUMNS: "200" });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual([...helpFlags(result.stdout)].sort(), [...readmeFlags(section(name))].sort());
      assert.match(result.stdout, /Exit codes: 0 /);
    });
  }

  it("post_run_sqs.js", async () => {
    const result = await runNode([join(ROOT, "dist/post_run_sqs.js"), "--help"], { PATH: process.env.PATH ?? "" });
    const documented = section("post-run").match(/`node dist\/post_run_sqs\.js ([^`]+)`/)?.[1] ?? "";
    const inHelp = new Set([...result.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]));
    assert.deepEqual([...inHelp].sort(), [...(documented.match(/--[a-z-]+/g) ?? [])].sort());
  });
});
