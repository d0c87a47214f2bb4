import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { ROOT, runNode } from "./support/post-run-world.ts";

describe("npm run demo", () => {
  it("runs the bundle on the embedded stand-ins and receives the message back, without AWS or network", async () => {
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
    const result = await runNode(["--import", "tsx", join(ROOT, "demo/demo.ts")], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /SUCCESS: packaging message sent \(MessageId ([\w-]+)\)/);
    const sent = /SUCCESS: packaging message sent \(MessageId ([\w-]+)\)/.exec(result.stdout)?.[1];
    assert.match(result.stdout, new RegExp(`received from the queue \\(MessageId ${sent}\\)`));
    assert.match(result.stdout, /source_prefix: +s3:\/\/demo-results\/nf-core\/demo\/run-1\//);
    assert.match(result.stdout, /wrroc_status=matched/);
  });
});
