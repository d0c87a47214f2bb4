import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { createPrompter } from "../lib/prompt.ts";
import { askSecret } from "../lib/secret-prompt.ts";

function capture() {
  const output = new PassThrough();
  let text = "";
  output.on("data", (c: Buffer) => (text += c.toString()));
  return { output, text: () => text };
}

describe("askSecret", () => {
  it("piped: reads the first line without writing it, and leaves the rest for the next prompts", async () => {
    const input = new PassThrough();
    const out = capture();
    input.end("s3cr3t-token\norganization1/workspace1\ny\n");
    const token = await askSecret("Token: ", input, out.output, "use flags");
    const prompter = createPrompter(input, out.output);
    assert.equal(token, "s3cr3t-token");
    assert.equal(await prompter.ask("Workspace"), "organization1/workspace1");
    assert.equal(await prompter.confirm("Launch?"), true);
    prompter.close();
    assert.ok(!out.text().includes("s3cr3t"), out.text());
  });

  it("on a terminal: raw mode, Backspace edits, nothing echoed, raw mode restored", async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[], setRawMode(mode: boolean) { this.modes.push(mode); } });
    const out = capture();
    const answer = askSecret("Token: ", input, out.output, "use flags");
    input.write("abX");
    input.write(Buffer.from([0x7f]));
    input.write("c\r");
    assert.equal(await answer, "abc");
    assert.deepEqual(input.modes, [true, false]);
    assert.equal(out.text(), "Token: \n");
  });

  it("Ctrl-C cancels; an input that ends first names the flags", async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode() {} });
    const pending = askSecret("Token: ", tty, capture().output, "use flags");
    tty.write(Buffer.from([0x61, 0x03]));
    await assert.rejects(pending, /Cancelled by user/);
    const empty = new PassThrough();
    empty.end();
    await assert.rejects(askSecret("Token: ", empty, capture().output, "use flags"), (e: Error & { hint?: string }) => /input ended/.test(e.message) && e.hint === "use flags");
  });
});

describe("prompts sharing one input", () => {
  it("the token is the last line: the next prompt sees the end of input instead of waiting forever", async () => {
    const input = new PassThrough();
    input.end("s3cr3t-token\n");
    assert.equal(await askSecret("Token: ", input, capture().output, "use flags"), "s3cr3t-token");
    await new Promise((r) => setImmediate(r));
    const prompter = createPrompter(input, capture().output, "use flags");
    const answer = prompter.confirm("Launch?");
    const outcome = await Promise.race([answer.then(() => "answered", (e: Error) => e.message), new Promise((r) => setTimeout(() => r("never settled"), 1000))]);
    assert.equal(outcome, 'No answer to "Launch? [Y/n]": the input ended.');
  });

  it("lines arriving one by one, CRLF split across chunks, and a last line without a newline", async () => {
    const input = new PassThrough();
    const prompter = createPrompter(input, capture().output);
    const first = prompter.ask("A");
    input.write("one\r");
    assert.equal(await first, "one");
    input.write("\ntwo\r\n");
    assert.equal(await prompter.ask("B"), "two");
    input.end("three");
    assert.equal(await prompter.ask("C"), "three");
    await assert.rejects(prompter.ask("D"), /input ended/);
  });
});
