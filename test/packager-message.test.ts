import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../lib/errors.ts";
import {
  checkPassThrough,
  commitMessageFor,
  fifoParameters,
  fitMessage,
  hasOnlySqsCharacters,
  isBucketName,
  serialiseBody,
  sourcePrefixFor,
  utf8Bytes,
} from "../lib/packager-message.ts";
import { buildRunMetadata, compact } from "../lib/run-metadata.ts";
import { readSeqeraFixture } from "../standins/seqera-api.ts";
import type { Workflow, WorkflowLaunch } from "../lib/seqera-run.ts";

describe("sourcePrefixFor", () => {
  it("ends in exactly one slash, with or without one given", () => {
    assert.equal(sourcePrefixFor("s3://bucket/results"), "s3://bucket/results/");
    assert.equal(sourcePrefixFor("s3://bucket/results/"), "s3://bucket/results/");
    assert.equal(sourcePrefixFor("s3://bucket/results///"), "s3://bucket/results/");
    assert.equal(sourcePrefixFor("s3://bucket"), "s3://bucket/");
    assert.equal(sourcePrefixFor("  s3://bucket/a/b  "), "s3://bucket/a/b/");
  });
  it("refuses local paths unless allowed, and other clouds always", () => {
    assert.throws(() => sourcePrefixFor("./results"), /local path/);
    assert.throws(() => sourcePrefixFor("/data/results"), /local path/);
    assert.equal(sourcePrefixFor("/data/results/", { allowLocal: true }), "/data/results/");
    assert.throws(() => sourcePrefixFor("gs://bucket/results", { allowLocal: true }), /not on S3/);
    assert.throws(() => sourcePrefixFor("s3://Bad_Bucket/x"), /invalid S3 bucket/);
    assert.throws(() => sourcePrefixFor("s3://bucket/a//b"), /empty folder name/);
  });
});

describe("checkPassThrough", () => {
  it("accepts what the packager accepts", () => {
    checkPassThrough({ package_name: "team/run-1_a", registry: "my-registry" });
    checkPassThrough({ registry: "s3://my-registry/" });
  });
  it("refuses what the packager would reject", () => {
    assert.throws(() => checkPassThrough({ package_name: "no-slash" }), UserError);
    assert.throws(() => checkPassThrough({ package_name: "a/b/c" }), UserError);
    assert.throws(() => checkPassThrough({ package_name: "a/b.c" }), UserError);
    assert.throws(() => checkPassThrough({ registry: "s3://bucket/prefix" }), UserError);
  });
});

describe("commitMessageFor", () => {
  it("names the run and its completion time", () => {
    assert.equal(
      commitMessageFor({ id: "57X0JJI5bygBlG", runName: "nice_faggin", projectName: "nf-core/rnaseq", status: "SUCCEEDED", complete: "2021-11-03T15:07:31Z" }),
      "Seqera Platform run nice_faggin (57X0JJI5bygBlG) of nf-core/rnaseq completed at 2021-11-03 15:07:31 UTC",
    );
  });
  it("says when a run did not succeed", () => {
    assert.match(commitMessageFor({ id: "x", status: "FAILED", complete: "2021-11-03T15:07:31Z" }), /^Seqera Platform run x ended FAILED at/);
  });
});

describe("serialiseBody and SQS characters", () => {
  it("escapes every character SQS refuses, keeping the value", () => {
    const nasty = "a\u0000b\u0008c\u000bd\u001fe\uFFFEf\uFFFFg\uD800h\uDFFFi😀j";
    const body = serialiseBody({ source_prefix: "s3://b/", metadata: { nasty } });
    assert.ok(hasOnlySqsCharacters(body));
    assert.equal((JSON.parse(body) as { metadata: { nasty: string } }).metadata.nasty, nasty);
  });
  it("hasOnlySqsCharacters rejects the forbidden ranges", () => {
    for (const c of ["\u0000", "\u0008", "\u000b", "\u000c", "\u001f", "\uFFFE", "\uFFFF", "\uD800"]) {
      assert.equal(hasOnlySqsCharacters(`x${c}y`), false, JSON.stringify(c));
    }
    assert.equal(hasOnlySqsCharacters("tab\tnl\ncr\r é 😀 \uE000 \uFFFD"), true);
  });
});

describe("fitMessage", () => {
  const base = { source_prefix: "s3://bucket/results/", commit_message: "done" };

  it("leaves a message that fits alone", () => {
    const fitted = fitMessage({ ...base, metadata: { a: 1 } }, 1000);
    assert.deepEqual(fitted.dropped, []);
    assert.equal(fitted.bytes, utf8Bytes(fitted.body));
  });

  it("drops the largest fields first, measured in UTF-8 bytes, and says which", () => {
    const metadata = { small: "x", api_params: { text: "é".repeat(3000) }, medium: "m".repeat(2000) };
    const fitted = fitMessage({ ...base, metadata }, 4000);
    assert.deepEqual(fitted.dropped, ["api_params"]);
    assert.ok(fitted.bytes <= 4000);
    assert.deepEqual(fitted.message.metadata?.metadata_dropped_fields, ["api_params"]);
    assert.equal(fitted.message.metadata?.medium, "m".repeat(2000));
  });

  it("never returns a body over the limit; refuses when even the bare message is too big", () => {
    const metadata = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v".repeat(100 + i)]));
    for (const limit of [300, 1000, 3000, 6000]) {
      const fitted = fitMessage({ ...base, metadata }, limit);
      assert.ok(utf8Bytes(fitted.body) <= limit, `limit ${limit}`);
    }
    assert.throws(() => fitMessage({ ...base, commit_message: "c".repeat(500), metadata }, 200), /even without metadata/);
  });
});

describe("fifoParameters", () => {
  it("is derived from the run: same run, same ids; another run, another dedup id", () => {
    const a = fifoParameters("s3://b/r/", { id: "w1", sessionId: "s1", complete: "t" });
    assert.deepEqual(a, fifoParameters("s3://b/r/", { id: "w1", sessionId: "s1", complete: "t" }));
    const b = fifoParameters("s3://b/r/", { id: "w2", sessionId: "s2", complete: "t" });
    assert.equal(a.MessageGroupId, b.MessageGroupId);
    assert.notEqual(a.MessageDeduplicationId, b.MessageDeduplicationId);
    assert.match(a.MessageDeduplicationId, /^[0-9a-f]{64}$/);
  });
});

describe("buildRunMetadata", () => {
  const workflow = readSeqeraFixture<{ workflow: Workflow }>("describe-workflow-nfcore-rnaseq-succeeded.json").workflow;
  const launch = readSeqeraFixture<{ launch: WorkflowLaunch }>("describe-workflow-launch.json").launch;

  it("takes the real TOWER_*/NXF_* variables and never the tokens", () => {
    const metadata = buildRunMetadata({
      env: { TOWER_WORKFLOW_ID: "w", TOWER_ACCESS_TOKEN: "secret-token", TOWER_REFRESH_TOKEN: "secret-refresh", NXF_EXIT_STATUS: "0", TOWER_RUN_NAME: "fake" },
      run: { workflow, launch },
    });
    assert.equal(metadata.tower_workflow_id, "w");
    assert.equal(metadata.nxf_exit_status, "0");
    assert.doesNotMatch(JSON.stringify(metadata), /secret/);
    assert.equal(metadata.tower_run_name, undefined);
  });

  it("reads launch and compute environment from the launch answer, params resolved", () => {
    const metadata = buildRunMetadata({ env: {}, run: { workflow, launch } });
    assert.equal(metadata.api_compute_env_name, "aws_batch");
    assert.equal(metadata.api_compute_env_id, "2lu3NFms1qRvwTVnrs1yhg");
    assert.deepEqual(metadata.api_launch_config_profiles, ["test_full", "docker"]);
    assert.equal(metadata.api_run_name, "nice_faggin");
    assert.equal((metadata.api_params as Record<string, unknown>).aligner, "star_salmon");
    assert.equal(metadata.wrroc_status, "missing");
  });

  it("leaves out null and empty values at every depth", () => {
    assert.deepEqual(compact({ a: null, b: "", c: [], d: {}, e: { f: null, g: 0, h: false }, i: [null, "x"] }), {
      e: { g: 0, h: false },
      i: ["x"],
    });
    const metadata = buildRunMetadata({ env: {}, run: { workflow } });
    assert.equal("api_error_message" in metadata, false);
    assert.equal("api_container" in metadata, false);
  });
});

describe("validation the adversarial review asked for", () => {
  it("bucket names follow S3's rules", () => {
    for (const ok of ["abc", "my-bucket.data", "a1b2"]) assert.equal(isBucketName(ok), true, ok);
    for (const bad of ["ab", "192.168.1.1", "a..b", "a.-b", "a-.b", "Upper", "-abc", "abc-", "a".repeat(64)]) assert.equal(isBucketName(bad), false, bad);
    assert.throws(() => checkPassThrough({ registry: "192.168.1.1" }), UserError);
  });
  it("an outdir with control characters or broken Unicode is refused", () => {
    assert.throws(() => sourcePrefixFor("s3://bucket/run\uD800x"), /broken Unicode/);
    assert.throws(() => sourcePrefixFor("s3://bucket/a\nb"), /control characters/);
    assert.equal(sourcePrefixFor("s3://bucket/données/😀"), "s3://bucket/données/😀/");
  });
  it("commit messages stay short and never say undefined or [object Object]", () => {
    const long = commitMessageFor({ id: "w", runName: "n".repeat(2_000_000), projectName: "p".repeat(5000), complete: "not a date".repeat(100) });
    assert.ok(long.length < 600, String(long.length));
    assert.match(commitMessageFor({ id: "w", status: "succeeded" }), /completed at/);
    assert.match(commitMessageFor({ id: "w", status: "cancelled" }), /ended CANCELLED at/);
  });
  it("trimming drops the run's identifiers last and counts the dropped fields when the list would not fit", () => {
    const metadata: Record<string, string> = { tower_workflow_id: "w".repeat(60), wrroc_status: "matched" };
    for (let i = 0; i < 200; i++) metadata[`field_with_a_rather_long_name_${i}`] = "v".repeat(20);
    const fitted = fitMessage({ source_prefix: "s3://b/", metadata }, 600);
    assert.ok(fitted.bytes <= 600);
    assert.equal(fitted.message.metadata?.tower_workflow_id, "w".repeat(60));
    assert.equal(fitted.message.metadata?.wrroc_status, "matched");
    const kept = Object.keys(fitted.message.metadata ?? {}).filter((k) => k !== "metadata_dropped_fields").length;
    assert.deepEqual(fitted.message.metadata?.metadata_dropped_fields, [`(${202 - kept} fields)`]);
    assert.equal(fitted.dropped.length, 202 - kept);
  });
});
