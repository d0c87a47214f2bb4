import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePostRunOutcome, stripAnsi } from "../lib/run-log.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RECORDED = readFileSync(join(ROOT, "fixtures/seqera/workflow-stdout-download.txt"), "utf8");
const RULE = "=".repeat(64);

const success = (id: string, colour = false) =>
  [RULE, colour ? `\u001b[32mSUCCESS: packaging message sent (MessageId ${id})\u001b[0m` : `SUCCESS: packaging message sent (MessageId ${id})`,
    "  Queue:      https://sqs.us-east-1.amazonaws.com/123456789012/PackagerQueue", "  Region:     us-east-1", `  Message ID: ${id}`, RULE, ""].join("\n");
const failure = [RULE, "ERROR: the packaging message was not sent", "  Access denied to the queue.", "  What to do: run ./setup-sqs.ts again.", RULE, ""].join("\n");

describe("parsePostRunOutcome", () => {
  it("the recorded Nextflow log (ANSI colours, no post-run output) is unknown", () => {
    assert.match(RECORDED, /\u001b\[/);
    assert.deepEqual(parsePostRunOutcome(RECORDED), { kind: "unknown" });
    assert.doesNotMatch(stripAnsi(RECORDED), /\u001b/);
  });

  it("the SUCCESS banner after the Nextflow log gives the message id, queue and region", () => {
    assert.deepEqual(parsePostRunOutcome(`${RECORDED}\n${success("abc-123", true)}`), {
      kind: "sent",
      messageId: "abc-123",
      queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/PackagerQueue",
      region: "us-east-1",
    });
  });

  it("the ERROR banner gives the reason and what to do", () => {
    assert.deepEqual(parsePostRunOutcome(`${RECORDED}\r\n${failure.replaceAll("\n", "\r\n")}`), {
      kind: "failed",
      reason: "Access denied to the queue.",
      whatToDo: "run ./setup-sqs.ts again.",
    });
  });

  it("the launcher's own error line is a failure", () => {
    const log = "post-run-sqs: downloading\nERROR: post-run-sqs: could not download the post-run bundle from https://x/dist/post_run_sqs.js (curl exit code 22). Check the ref.\n";
    const outcome = parsePostRunOutcome(log);
    assert.equal(outcome.kind, "failed");
    assert.match(outcome.kind === "failed" ? outcome.reason : "", /could not download the post-run bundle/);
  });

  it("SKIPPED, and the last banner wins", () => {
    assert.deepEqual(parsePostRunOutcome([RULE, "SKIPPED: no packaging message", "  the run failed", RULE].join("\n")), { kind: "skipped", reason: "the run failed" });
    assert.equal(parsePostRunOutcome(`${failure}${success("later")}`).kind, "sent");
    assert.equal(parsePostRunOutcome(`${success("earlier")}${failure}`).kind, "failed");
  });

  it("a SUCCESS line quoted inside another line does not count", () => {
    assert.equal(parsePostRunOutcome("echo 'SUCCESS: packaging message sent (MessageId x)'\n").kind, "unknown");
  });
});

describe("parsePostRunOutcome on what the bundle's logger really prints", () => {
  it("keeps a multi-line hint in whatToDo, not in the reason", async () => {
    const { Logger } = await import("../lib/console.ts");
    const { PassThrough } = await import("node:stream");
    const out = new PassThrough();
    const err = new PassThrough();
    let text = "";
    for (const stream of [out, err]) stream.on("data", (c: Buffer) => (text += c.toString()));
    new Logger({ out, err }, {}).banner(
      "ERROR: the packaging message was not sent",
      ["Could not reach AWS in us-east-1: no answer in time (ETIMEDOUT).", "What to do: Check the network.\nCheck that us-east-1 is a real AWS region."],
      "red",
    );
    const outcome = parsePostRunOutcome(text);
    assert.deepEqual(outcome, {
      kind: "failed",
      reason: "Could not reach AWS in us-east-1: no answer in time (ETIMEDOUT).",
      whatToDo: "Check the network. Check that us-east-1 is a real AWS region.",
    });
  });
});

describe("printable", () => {
  it("hides passwords and tokens in URLs, escapes control characters, keeps line breaks", async () => {
    const { printable } = await import("../lib/console.ts");
    assert.equal(printable("git push https://user:ghp_secret@github.com/o/r.git"), "git push https://***@github.com/o/r.git");
    assert.equal(printable("a\u001b[31mb\rc\nd"), "a\\u001b[31mb\\u000dc\nd");
    assert.equal(printable("s3://bucket/a@b and me@example.org"), "s3://bucket/a@b and me@example.org");
  });
});

describe("readRunLog", () => {
  it("reads the whole log file when the log has more pages than it will follow", async () => {
    const { startSeqeraStandin } = await import("../standins/seqera-api.ts");
    const { SeqeraApi } = await import("../lib/seqera-api.ts");
    const { readRunLog } = await import("../lib/run-log.ts");
    const standin = await startSeqeraStandin();
    try {
      let pages = 0;
      standin.route("GET", /^\/workflow\/long\/log$/, () => ({ status: 200, body: { log: { entries: [`line ${++pages}`], forwardToken: `t${pages}`, truncated: false, pending: false } } }));
      standin.route("GET", /^\/workflow\/long\/download$/, () => ({ status: 200, body: "whole log\nSUCCESS at the end" }));
      const api = new SeqeraApi({ endpoint: standin.endpoint, token: standin.token });
      const log = await readRunLog(api, "long");
      assert.equal(log.source, "download");
      assert.match(log.text, /SUCCESS at the end/);
      assert.ok(pages <= 60, `${pages} pages`);
    } finally {
      await standin.close();
    }
  });
});
