/**
 * The committed bundle, run as a child process the way Seqera runs it, against moto (SQS, S3, STS)
 * and the Seqera API stand-in; assertions are on what arrives in the queue.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parsePostRunOutcome } from "../lib/run-log.ts";
import { freePort } from "../standins/moto.ts";
import { ROOT, startPostRunWorld, type PostRunWorld } from "./support/post-run-world.ts";

const CRATE = readFileSync(join(ROOT, "fixtures/wrroc/nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json"), "utf8");
const CRATE_SESSION = "0525d4a9-ccd8-4f53-9ae3-3795511610d2";
/** Short crate waits, so that "no crate" cases stay fast. */
const QUICK = { sqs_crate_wait: 0, sqs_crate_poll: 0.1 };

type Body = { source_prefix: string; commit_message: string; metadata: Record<string, unknown>; package_name?: string; registry?: string; workflow?: string };

let world: PostRunWorld;
before(async () => {
  world = await startPostRunWorld();
});
after(async () => {
  await world?.stop();
});

let queueCount = 0;
async function scenario(options: { params?: Record<string, unknown>; queueAttributes?: Record<string, string>; region?: string; fifo?: boolean; crate?: string | null } = {}) {
  const name = `PackagerQueue-${++queueCount}${options.fifo ? ".fifo" : ""}`;
  const queue = await world.createQueue(name, { ...(options.fifo ? { FifoQueue: "true" } : {}), ...options.queueAttributes }, options.region);
  const bucket = await world.createBucket();
  const outdir = `s3://${bucket}/results/run-${queueCount}`;
  if (options.crate !== null) await world.putObject(bucket, `results/run-${queueCount}/ro-crate-metadata.json`, options.crate ?? CRATE);
  const run = world.seqera.addRun({
    workflow: { sessionId: CRATE_SESSION },
    params: { outdir, sqs_queue_url: queue.awsUrl, ...options.params },
  });
  return { queue, bucket, outdir, run };
}

function parseBodies(messages: Array<{ Body?: string }>): Body[] {
  return messages.map((m) => JSON.parse(m.Body ?? "") as Body);
}

describe("post-run bundle against moto and the Seqera API stand-in", () => {
  it("happy path with an S3 crate: one message, right prefix, run and crate metadata, SUCCESS with the message id", async () => {
    const { queue, outdir, run } = await scenario();
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    const messages = await world.receiveAll(queue);
    assert.equal(messages.length, 1);
    const [body] = parseBodies(messages);
    assert.ok(body);
    assert.equal(body.source_prefix, `${outdir}/`);
    assert.match(body.commit_message, /nice_faggin .* of nf-core\/rnaseq completed at 2021-11-03 15:07:31 UTC/);
    assert.equal(body.metadata.wrroc_status, "matched");
    assert.equal(body.metadata.wrroc_run_id, CRATE_SESSION);
    assert.equal(body.metadata.wrroc_workflow_name, "nf-core/demo");
    assert.equal(body.metadata.tower_workflow_id, run.id);
    assert.equal(body.metadata.api_compute_env_name, "aws_batch");
    assert.equal((body.metadata.api_params as Record<string, unknown>).outdir, outdir);
    assert.match(result.stdout, new RegExp(`SUCCESS: packaging message sent \\(MessageId ${messages[0]?.MessageId}\\)`));
    assert.match(result.stdout, /Region: +us-east-1/);
    assert.match(result.stderr, /AWS identity: account 123456789012/);
    for (const secret of [world.seqera.token, world.seqera.refreshToken]) {
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret) && !messages[0]?.Body?.includes(secret), "token leaked");
    }
  });

  it("a local crate, with a local outdir, in a dry run: crate metadata printed, nothing sent", async () => {
    const { queue, run } = await scenario();
    const local = mkdtempSync(join(tmpdir(), "outdir-"));
    writeFileSync(join(local, "ro-crate-metadata.json"), CRATE);
    run.describe.workflow.params = { ...(run.describe.workflow.params as object), outdir: local };
    const result = await world.runBundle(world.seqeraEnv(run), ["--dry-run"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /DRY RUN: nothing was sent/);
    assert.match(result.stdout, new RegExp(`"source_prefix": "${local}/"`));
    assert.match(result.stdout, /"wrroc_status": "matched"/);
    assert.equal((await world.receiveAll(queue)).length, 0);
  });

  it("a local outdir without --dry-run is an error", async () => {
    const { queue, run } = await scenario();
    run.describe.workflow.params = { ...(run.describe.workflow.params as object), outdir: "/data/results" };
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is a local path; Quilt can only package s3:\/\/ folders/);
    assert.equal((await world.receiveAll(queue)).length, 0);
  });

  it("an outdir with a trailing slash gives the same single-slash prefix", async () => {
    const { queue, outdir, run } = await scenario();
    run.describe.workflow.params = { ...(run.describe.workflow.params as object), outdir: `${outdir}/` };
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal(body?.source_prefix, `${outdir}/`);
    assert.equal(body?.metadata.wrroc_status, "matched", "the crate is found under an outdir with a trailing slash");
  });

  it("the queue given as an ARN", async () => {
    const { queue, run } = await scenario();
    run.describe.workflow.params = { ...(run.describe.workflow.params as object), sqs_queue_url: queue.arn };
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await world.receiveAll(queue)).length, 1);
  });

  it("the region comes from the queue URL, not from AWS_REGION", async () => {
    const { queue, run } = await scenario({ region: "eu-west-1" });
    const result = await world.runBundle(world.seqeraEnv(run, { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-east-1" }));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Region: +eu-west-1/);
    assert.equal((await world.receiveAll(queue)).length, 1);
  });

  it("sqs_region contradicting the queue is an error, and nothing is sent", async () => {
    const { queue, run } = await scenario({ params: { sqs_region: "us-west-2" } });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /us-west-2 contradicts the queue, which is in us-east-1/);
    assert.equal((await world.receiveAll(queue)).length, 0);
  });

  for (const missing of ["outdir", "sqs_queue_url"]) {
    it(`a missing ${missing} param is an error that says how to set it`, async () => {
      const { queue, run } = await scenario();
      const params = { ...(run.describe.workflow.params as Record<string, unknown>) };
      delete params[missing];
      run.describe.workflow.params = params;
      const result = await world.runBundle(world.seqeraEnv(run));
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`The run has no "${missing}" param`));
      assert.match(result.stderr, new RegExp(`--${missing} `));
      assert.equal((await world.receiveAll(queue)).length, 0);
    });
  }

  it("an expired token is refreshed once with TOWER_REFRESH_TOKEN", async () => {
    const { queue, run } = await scenario();
    const env = world.seqeraEnv(run);
    world.seqera.expireToken();
    const before = world.seqera.requestsTo(/^\/oauth\/access_token$/).length;
    const result = await world.runBundle(env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(world.seqera.requestsTo(/^\/oauth\/access_token$/).length, before + 1);
    assert.equal((await world.receiveAll(queue)).length, 1);
  });

  it("an expired token without a refresh token: 401 with its own message", async () => {
    const { queue, run } = await scenario();
    const env = world.seqeraEnv(run, { TOWER_REFRESH_TOKEN: undefined });
    world.seqera.expireToken();
    const result = await world.runBundle(env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /refused the access token \(HTTP 401/);
    assert.equal((await world.receiveAll(queue)).length, 0);
  });

  it("503 then success: retried", async () => {
    const { queue, run } = await scenario();
    world.seqera.failNext("GET", new RegExp(`^/workflow/${run.id}$`), 503, 2);
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /HTTP 503; retry 1/);
    assert.equal((await world.receiveAll(queue)).length, 1);
  });

  it("404: its own message naming the workflow and workspace ids", async () => {
    const { run } = await scenario();
    const result = await world.runBundle(world.seqeraEnv(run, { TOWER_WORKFLOW_ID: "doesNotExist" }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /HTTP 404/);
    assert.match(result.stderr, /TOWER_WORKFLOW_ID and TOWER_WORKSPACE_ID/);
  });

  it("403: its own message about the workspace", async () => {
    const { run } = await scenario();
    world.seqera.failNext("GET", new RegExp(`^/workflow/${run.id}$`), 403);
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /HTTP 403/);
    assert.match(result.stderr, /not a member of workspace/);
  });

  it("the launch answer is best effort: its failure is a warning", async () => {
    const { queue, run } = await scenario();
    world.seqera.failNext("GET", new RegExp(`^/workflow/${run.id}/launch$`), 500);
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Could not read the run's launch/);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal(body?.metadata.api_compute_env_name, undefined);
  });

  it("no crate: a bounded wait, then sent without crate metadata", async () => {
    const { queue, run } = await scenario({ crate: null, params: { sqs_crate_wait: 1.5, sqs_crate_poll: 0.25 } });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.ms >= 1500, `waited ${result.ms} ms`);
    assert.ok(result.ms < 15_000, `waited ${result.ms} ms`);
    assert.match(result.stderr, /No provenance crate: .* does not exist after waiting 1.5 s/);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal(body?.metadata.wrroc_status, "missing");
    assert.equal(body?.metadata.wrroc_name, undefined);
  });

  it("a crate that appears during the wait is used", async () => {
    const { queue, bucket, run } = await scenario({ crate: null, params: { sqs_crate_wait: 20, sqs_crate_poll: 0.2 } });
    const key = `results/run-${queueCount}/ro-crate-metadata.json`;
    const running = world.runBundle(world.seqeraEnv(run));
    await new Promise((r) => setTimeout(r, 1200));
    await world.putObject(bucket, key, CRATE);
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal(body?.metadata.wrroc_status, "matched");
  });

  it("a stale crate (another session's run) is not presented as this run's", async () => {
    const { queue, run } = await scenario();
    run.describe.workflow.sessionId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    const result = await world.runBundle(world.seqeraEnv(run, { NXF_UUID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" }));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /stale/);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal(body?.metadata.wrroc_status, "stale");
    assert.deepEqual(body?.metadata.wrroc_crate_run_ids, [CRATE_SESSION]);
    for (const key of ["wrroc_run_id", "wrroc_name", "wrroc_start_time", "wrroc_workflow_name"]) assert.equal(body?.metadata[key], undefined, key);
  });

  it("a file that is not a crate: warning, sent without crate metadata", async () => {
    const { queue, run } = await scenario({ crate: "<html>not json</html>" });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /not a usable crate/);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal(body?.metadata.wrroc_status, "missing");
  });

  it("a failed run is skipped (exit 0, nothing sent) unless sqs_send_on_failure is true", async () => {
    const failed = await scenario({ params: QUICK });
    failed.run.describe.workflow.status = "FAILED";
    const skipped = await world.runBundle(world.seqeraEnv(failed.run, { NXF_EXIT_STATUS: "1" }));
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, /SKIPPED: no packaging message/);
    assert.match(skipped.stdout, /sqs_send_on_failure=true/);
    assert.equal((await world.receiveAll(failed.queue)).length, 0);

    const byExitStatus = await scenario({ params: QUICK });
    const skippedToo = await world.runBundle(world.seqeraEnv(byExitStatus.run, { NXF_EXIT_STATUS: "137" }));
    assert.equal(skippedToo.code, 0);
    assert.match(skippedToo.stdout, /NXF_EXIT_STATUS=137/);
    assert.equal((await world.receiveAll(byExitStatus.queue)).length, 0);

    const forced = await scenario({ params: { ...QUICK, sqs_send_on_failure: true } });
    forced.run.describe.workflow.status = "CANCELLED";
    const sent = await world.runBundle(world.seqeraEnv(forced.run, { NXF_EXIT_STATUS: "1" }));
    assert.equal(sent.code, 0, sent.stderr);
    const [body] = parseBodies(await world.receiveAll(forced.queue));
    assert.match(body?.commit_message ?? "", /ended CANCELLED/);
  });

  it("a FIFO queue gets a group id and a deduplication id derived from the run", async () => {
    const { queue, run } = await scenario({ fifo: true });
    const env = world.seqeraEnv(run);
    const first = await world.runBundle(env);
    assert.equal(first.code, 0, first.stderr);
    const second = await world.runBundle(env);
    assert.equal(second.code, 0, second.stderr);
    const messages = await world.receiveAll(queue);
    assert.equal(messages.length, 1, "the second send of the same run is deduplicated");
    assert.match(messages[0]?.Attributes?.MessageGroupId ?? "", /^[0-9a-f]{64}$/);
    assert.match(messages[0]?.Attributes?.MessageDeduplicationId ?? "", /^[0-9a-f]{64}$/);
  });

  it("oversize params are trimmed to the queue's MaximumMessageSize, and the dropped fields named", async () => {
    const huge = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`big_${i}`, "x".repeat(2000)]));
    const { queue, run } = await scenario({ queueAttributes: { MaximumMessageSize: "8192" }, params: huge });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /over the queue's 8192-byte limit; dropped metadata: api_params/);
    const messages = await world.receiveAll(queue);
    assert.equal(messages.length, 1);
    assert.ok(Buffer.byteLength(messages[0]?.Body ?? "", "utf8") <= 8192);
    const [body] = parseBodies(messages);
    assert.deepEqual(body?.metadata.metadata_dropped_fields, ["api_params"]);
    assert.equal(body?.metadata.wrroc_status, "matched");
  });

  it("characters SQS refuses never reach it", async () => {
    const { queue, run } = await scenario({ params: { note: "bad\u0000\u0001\uFFFE\uFFFF end" } });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal((body?.metadata.api_params as Record<string, unknown>).note, "bad\u0000\u0001\uFFFE\uFFFF end");
  });

  it("pass-through params reach the packager; a malformed package name is refused before sending", async () => {
    const ok = await scenario({ params: { sqs_package_name: "team/rnaseq", sqs_registry: "s3://my-registry/", sqs_workflow: "alpha" } });
    const result = await world.runBundle(world.seqeraEnv(ok.run));
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(ok.queue));
    assert.equal(body?.package_name, "team/rnaseq");
    assert.equal(body?.registry, "my-registry");
    assert.equal(body?.workflow, "alpha");

    const bad = await scenario({ params: { sqs_package_name: "not a name" } });
    const refused = await world.runBundle(world.seqeraEnv(bad.run));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not a Quilt package name/);
    assert.equal((await world.receiveAll(bad.queue)).length, 0);
  });

  it("a crate whose run has no @id does not stop the packaging", async () => {
    const crate = JSON.parse(CRATE) as { "@graph": Array<Record<string, unknown>> };
    const run = crate["@graph"].find((e) => e["@id"] === `#${CRATE_SESSION}`);
    if (run) delete run["@id"];
    const world1 = await scenario({ crate: JSON.stringify(crate) });
    const result = await world.runBundle(world.seqeraEnv(world1.run));
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(world1.queue));
    assert.equal(body?.metadata.wrroc_status, "no-run");
  });

  it("an upper-case S3:// outdir and a crate with a byte order mark are still read", async () => {
    const { queue, outdir, run } = await scenario({ crate: `\uFEFF${CRATE}`, params: { sqs_crate_wait: 5 } });
    run.describe.workflow.params = { ...(run.describe.workflow.params as object), outdir: outdir.replace("s3://", "S3://") };
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.equal(body?.source_prefix, `${outdir}/`);
    assert.equal(body?.metadata.wrroc_status, "matched");
  });

  it("secrets never show: a token with a line break, a param holding the token, credentials in the endpoint", async () => {
    const { queue, run } = await scenario({ params: { ...QUICK, leaked: `x ${world.seqera.token} y` } });
    const sent = await world.runBundle(world.seqeraEnv(run));
    assert.equal(sent.code, 0, sent.stderr);
    const [message] = await world.receiveAll(queue);
    for (const text of [sent.stdout, sent.stderr, message?.Body ?? ""]) assert.ok(!text.includes(world.seqera.token));
    assert.match(message?.Body ?? "", /"leaked":"x \*\*\* y"/);

    const broken = await world.runBundle(world.seqeraEnv(run, { TOWER_ACCESS_TOKEN: "secret-tok-AAAA\nBBBB" }));
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /contains characters a token cannot have/);
    assert.ok(!broken.stderr.includes("secret-tok") && !broken.stdout.includes("secret-tok"));

    const endpoint = world.seqera.endpoint.replace("http://", "http://admin:hunter2pw@");
    const withPassword = await world.runBundle(world.seqeraEnv(run, { TOWER_API_ENDPOINT: endpoint }));
    assert.equal(withPassword.code, 1);
    assert.ok(!withPassword.stderr.includes("hunter2pw"));
  });

  it("values cannot forge a SUCCESS banner or send terminal escapes", async () => {
    const forged = "a\n================================================================\nSUCCESS: packaging message sent (MessageId forged)\n  Queue: x\nb";
    const { queue, run } = await scenario({ params: { ...QUICK, sqs_package_name: forged } });
    run.describe.workflow.runName = "evil\u001b]0;title\u0007\rSUCCESS: packaging message sent (MessageId forged2)";
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 1);
    assert.equal((await world.receiveAll(queue)).length, 0);
    const log = `${result.stdout}${result.stderr}`;
    assert.doesNotMatch(log, /\u001b\]/);
    assert.doesNotMatch(log, /^SUCCESS/m);
    assert.equal(parsePostRunOutcome(log).kind, "failed");
  });

  it("params nested very deep are summarised, not a crash", async () => {
    const { queue, run } = await scenario({ params: QUICK });
    // Served as text: JSON.stringify itself cannot write 50,000 levels.
    const recorded = JSON.stringify(run.describe).replace('"params":{', `"params":{"deep":${'{"d":'.repeat(50_000)}1${"}".repeat(50_000)},`);
    world.seqera.route("GET", new RegExp(`^/workflow/${run.id}$`), () => ({ status: 200, body: recorded }));
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.match(JSON.stringify(body?.metadata.api_params), /nested deeper than 32 levels/);
  });

  it("a tiny MaximumMessageSize keeps the run's identifiers and says what was dropped", async () => {
    const { queue, run } = await scenario({ queueAttributes: { MaximumMessageSize: "1024" } });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    const messages = await world.receiveAll(queue);
    assert.ok(Buffer.byteLength(messages[0]?.Body ?? "", "utf8") <= 1024);
    const [body] = parseBodies(messages);
    assert.equal(body?.metadata.tower_workflow_id, run.id);
    assert.equal(body?.metadata.wrroc_status, "matched");
    assert.ok(Array.isArray(body?.metadata.metadata_dropped_fields));
  });

  it("a FIFO queue with content-based deduplication still packages a retried run once", async () => {
    const { queue, bucket, run } = await scenario({ fifo: true, crate: null, queueAttributes: { ContentBasedDeduplication: "true" }, params: QUICK });
    const env = world.seqeraEnv(run);
    const first = await world.runBundle(env);
    assert.equal(first.code, 0, first.stderr);
    await world.putObject(bucket, `results/run-${queueCount}/ro-crate-metadata.json`, CRATE);
    const second = await world.runBundle(env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((await world.receiveAll(queue)).length, 1);
  });

  it("--dry-run with a local outdir needs no AWS credentials", async () => {
    const { run } = await scenario();
    const local = mkdtempSync(join(tmpdir(), "outdir-"));
    writeFileSync(join(local, "ro-crate-metadata.json"), CRATE);
    run.describe.workflow.params = { ...(run.describe.workflow.params as object), outdir: local };
    const env = world.seqeraEnv(run, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    const result = await world.runBundle(env, ["--dry-run"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"wrroc_status": "matched"/);
  });

  it("odd API answers: no workflow id, lower-case status, object fields", async () => {
    const { queue, run } = await scenario();
    const workflow = run.describe.workflow as Record<string, unknown>;
    delete workflow.id;
    workflow.status = "succeeded";
    workflow.complete = { when: "now" };
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 0, result.stderr);
    const [body] = parseBodies(await world.receiveAll(queue));
    assert.match(body?.commit_message ?? "", new RegExp(`\\(${run.id}\\) of nf-core/rnaseq completed at`));
    assert.doesNotMatch(body?.commit_message ?? "", /object Object|undefined/);
  });

  it("an API answer without a workflow: a clear error about the endpoint", async () => {
    const { run } = await scenario();
    const env = world.seqeraEnv(run);
    (run.describe as Record<string, unknown>).workflow = null;
    const result = await world.runBundle(env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /without a workflow/);
    assert.match(result.stderr, /TOWER_API_ENDPOINT/);
  });

  it("STS out of reach (a VPC with only SQS and S3 endpoints): a warning, and the message is sent", async () => {
    const { queue, run } = await scenario();
    const closed = await freePort();
    const result = await world.runBundle(world.seqeraEnv(run, { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${closed}` }));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Could not read the AWS identity \(STS\)/);
    assert.equal((await world.receiveAll(queue)).length, 1);
  });

  it("an outdir in a bucket that does not exist is an error, not a SUCCESS", async () => {
    const { queue, run } = await scenario({ params: QUICK });
    run.describe.workflow.params = { ...(run.describe.workflow.params as object), outdir: "s3://no-such-bucket-here/results" };
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /bucket does not exist/);
    assert.equal((await world.receiveAll(queue)).length, 0);
  });

  it("--dry-run prints the message and sends nothing", async () => {
    const { queue, run } = await scenario();
    const result = await world.runBundle(world.seqeraEnv(run), ["--dry-run"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"source_prefix": "s3:\/\//);
    assert.match(result.stdout, /DRY RUN/);
    assert.equal((await world.receiveAll(queue)).length, 0);
  });

  it("a queue that does not exist: an error that says where to find the right one", async () => {
    const { run } = await scenario({ params: { sqs_queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/nope" } });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /does not exist/);
    assert.match(result.stderr, /PackagerQueueUrl/);
  });

  it("a queue that does not exist fails at once, without waiting for the crate", async () => {
    const { run } = await scenario({ crate: null, params: { sqs_crate_wait: 60, sqs_queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/nope" } });
    const result = await world.runBundle(world.seqeraEnv(run));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /does not exist/);
    assert.ok(result.ms < 15_000, `took ${result.ms} ms`);
    assert.doesNotMatch(result.stderr, /No provenance crate/);
  });

  it("no AWS credentials: one clear error, no stack trace", async () => {
    const { run } = await scenario({ params: QUICK });
    const result = await world.runBundle(world.seqeraEnv(run, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No usable AWS credentials/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it("missing TOWER_ACCESS_TOKEN or TOWER_WORKFLOW_ID: an error naming the variable", async () => {
    const { run } = await scenario();
    for (const name of ["TOWER_ACCESS_TOKEN", "TOWER_WORKFLOW_ID"]) {
      const result = await world.runBundle(world.seqeraEnv(run, { [name]: undefined }));
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`${name} is not set`));
    }
  });

  it("unknown flags are refused; --help exits 0", async () => {
    const { run } = await scenario();
    const bad = await world.runBundle(world.seqeraEnv(run), ["--bogus"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Unknown option '--bogus'/);
    const help = await world.runBundle({ PATH: process.env.PATH ?? "" }, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: node post_run_sqs.js/);
  });
});

describe("post-run bundle against a Seqera Enterprise-style endpoint (/api prefix)", () => {
  let enterprise: PostRunWorld;
  before(async () => {
    enterprise = await startPostRunWorld({ prefix: "/api" });
  });
  after(async () => {
    await enterprise?.stop();
  });

  it("sends, with TOWER_API_ENDPOINT ending in /api/", async () => {
    const queue = await enterprise.createQueue("EnterpriseQueue");
    const bucket = await enterprise.createBucket();
    const run = enterprise.seqera.addRun({ params: { outdir: `s3://${bucket}/out`, sqs_queue_url: queue.awsUrl, ...QUICK } });
    const result = await enterprise.runBundle(enterprise.seqeraEnv(run, { TOWER_API_ENDPOINT: `${enterprise.seqera.endpoint}/` }));
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await enterprise.receiveAll(queue)).length, 1);
  });
});
