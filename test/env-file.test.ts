import assert from "node:assert/strict";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatEnvValue, parseEnvFile, readEnvFile, saveEnvFile, updateEnvText } from "../lib/env-file.ts";

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

  it("keeps CRLF line endings and rewrites keys in place, without duplicates", () => {
    assert.equal(updateEnvText("# mine\r\nA=1\r\nOTHER=x\r\n", { A: "2", B: "3" }), "# mine\r\nA=2\r\nOTHER=x\r\nB=3\r\n");
    assert.deepEqual(parseEnvFile(updateEnvText("A=1\r\n", { A: "2" })), { A: "2" });
  });

  it("a directory or an unreadable path: a clear error that names --env-file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "env-dir-"));
    for (const call of [() => readEnvFile(dir), () => saveEnvFile(dir, { A: "1" })]) {
      await assert.rejects(call(), (e: Error & { hint?: string }) => /is a directory, not a \.env file/.test(e.message) && /--env-file/.test(e.hint ?? ""));
    }
  });
});
