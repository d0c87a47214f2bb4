import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ensureGitIgnored, formatEnvValue, parseEnvFile, readEnvFile, saveEnvFile, updateEnvText } from "../lib/env-file.ts";

describe(".env files", () => {
  it("parses comments, export, quotes and inline comments", () => {
    assert.deepEqual(parseEnvFile("# c\nexport A=1\nB='x y # z'\nC=\"a \\\"q\\\" $\\$ \\n\"\nD=plain # note\nnot a line\n"), {
      A: "1",
      B: "x y # z",
      C: 'a "q" $$ \n',
      D: "plain",
    });
  });

  it("formats values that need quoting, and they read back the same", () => {
    for (const value of ["s3://bucket/x", "Org/Work space", 'q"uote$', "a#b", ""]) {
      assert.equal(parseEnvFile(`K=${formatEnvValue(value)}\n`).K, value);
    }
    assert.equal(formatEnvValue("organization1/workspace1"), "organization1/workspace1");
  });

  it("updates keys in place and keeps other lines", () => {
    assert.equal(updateEnvText("# mine\nA=1\nOTHER=x\n", { A: "2", B: "3" }), "# mine\nA=2\nOTHER=x\nB=3\n");
    assert.equal(updateEnvText("", { A: "1" }), "A=1\n");
  });

  it("saves with mode 0600, also over a file that was world-readable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "env-file-"));
    const path = join(dir, ".env");
    writeFileSync(path, "KEEP=1\n", { mode: 0o644 });
    await saveEnvFile(path, { TOWER_ACCESS_TOKEN: "secret" });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await readEnvFile(path), { KEEP: "1", TOWER_ACCESS_TOKEN: "secret" });
    assert.deepEqual(await readEnvFile(join(dir, "missing")), {});
  });

  it("adds the file to the .gitignore beside it once, unless git already ignores it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "env-ignore-"));
    writeFileSync(join(dir, ".gitignore"), "node_modules/");
    assert.equal(await ensureGitIgnored(join(dir, ".env"), false), true);
    assert.equal(await ensureGitIgnored(join(dir, ".env"), false), false);
    assert.equal(readFileSync(join(dir, ".gitignore"), "utf8"), "node_modules/\n.env\n");
    assert.equal(await ensureGitIgnored(join(dir, "other.env"), true), false);
    assert.equal(readFileSync(join(dir, ".gitignore"), "utf8"), "node_modules/\n.env\n");
  });
});
