import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { planGit, githubRepoOf, type BranchState } from "../lib/git-state.ts";
import { DEFAULT_REPO, postRunLine } from "../lib/post-run-line.ts";
import { spawnSync } from "node:child_process";
import { PassThrough } from "node:stream";
import { formatElapsed, nextInterval, parseDuration, StatusLine } from "../lib/run-wait.ts";
import { buildLaunchRequest, formatParamsYaml, runWebUrl, webAppUrl, type LaunchPlan } from "../lib/seqera-launch.ts";
import { matchComputeEnv, matchWorkspace } from "../lib/seqera-workspaces.ts";
import { readSeqeraFixture } from "../standins/seqera-api.ts";
import { checkOutdir } from "../lib/test-sqs.ts";

const PLAN: LaunchPlan = {
  pipeline: "https://github.com/data-yaml/seqera-smoke-test",
  revision: "main",
  profile: "awsbatch",
  computeEnvId: "ce1",
  workDir: "s3://work/scratch",
  params: { outdir: "s3://b/out: x", sqs_queue_url: "https://sqs.us-east-1.amazonaws.com/1/Q", sqs_region: "us-east-1" },
  postRunScript: postRunLine({ repo: DEFAULT_REPO, ref: "main" }),
};

describe("launch request and web URLs", () => {
  it("builds SubmitWorkflowLaunchRequest with params as YAML that reads back exactly", () => {
    const { launch } = buildLaunchRequest(PLAN);
    assert.deepEqual(parse(String(launch.paramsText)), PLAN.params);
    assert.deepEqual(launch.configProfiles, ["awsbatch"]);
    assert.equal(launch.postRunScript, PLAN.postRunScript);
    assert.equal(formatParamsYaml({ a: "1" }), 'a: "1"\n');
  });

  it("refuses a post-run script of 1,024 bytes or more", () => {
    assert.throws(() => buildLaunchRequest({ ...PLAN, postRunScript: "x".repeat(1024) }), /1024 bytes; Seqera Platform takes less than 1024/);
    assert.doesNotThrow(() => buildLaunchRequest({ ...PLAN, postRunScript: "x".repeat(1023) }));
  });

  it("derives the web app from the API endpoint", () => {
    assert.equal(webAppUrl("https://api.cloud.seqera.io"), "https://cloud.seqera.io");
    assert.equal(webAppUrl("https://seqera.example.org/api/"), "https://seqera.example.org");
    assert.equal(runWebUrl("https://api.cloud.seqera.io", { kind: "org", id: "1", orgName: "My Org", workspaceName: "ws" }, "abc"), "https://cloud.seqera.io/orgs/My%20Org/workspaces/ws/watch/abc");
    assert.equal(runWebUrl("https://tower.example.org/api", { kind: "personal", userName: "me" }, "abc"), "https://tower.example.org/user/me/watch/abc");
  });
});

describe("workspaces and compute environments (recorded answers)", () => {
  const rows = readSeqeraFixture<{ orgsAndWorkspaces: Parameters<typeof matchWorkspace>[2] }>("user-workspaces.json").orgsAndWorkspaces;
  const envs = readSeqeraFixture<{ computeEnvs: Parameters<typeof matchComputeEnv>[1] }>("list-compute-envs.json").computeEnvs;

  it("finds Org/Workspace, a numeric id, or personal; org-only rows never match", () => {
    assert.deepEqual(matchWorkspace("organization2/workspace2", "me", rows), { kind: "org", id: "75887156211590", orgName: "organization2", workspaceName: "workspace2" });
    assert.equal(matchWorkspace("75887156211589", "me", rows).kind, "org");
    assert.deepEqual(matchWorkspace("Personal", "me", rows), { kind: "personal", userName: "me" });
    assert.throws(() => matchWorkspace("27736513644467", "me", rows), /me has no workspace "27736513644467"/);
    assert.throws(() => matchWorkspace("organization1", "me", rows), /Give it as Org\/Workspace/);
  });

  it("picks a compute environment by id or name, else the primary; lists them when none matches", () => {
    assert.equal(matchComputeEnv("", envs, "ws").id, "3xkkzYH2nbD3nZjrzKm0oR");
    assert.equal(matchComputeEnv("demo", envs, "ws").id, "vYOK4vn7spw7bHHWBDXZ2");
    assert.equal(matchComputeEnv("3xkkzYH2nbD3nZjrzKm0oS", envs, "ws").name, "ce2");
    assert.throws(() => matchComputeEnv("nope", envs, "ws"), (e: Error & { hint?: string }) => /no compute environment "nope"/.test(e.message) && /ce1 \(3xkkzYH2nbD3nZjrzKm0oR\) \[primary\]/.test(e.hint ?? ""));
    assert.throws(() => matchComputeEnv(undefined, envs.map((e) => ({ ...e, primary: false })), "ws"), /no primary compute environment/);
  });
});

describe("git plan", () => {
  const state: BranchState = { root: "/r", branch: "b", changes: [], remoteCommit: "abc", head: "abc", unpushed: 0, originUrl: "git@github.com:o/r.git" };
  it("clean and pushed: nothing; unpushed: push; dirty, missing or behind: errors with commands", () => {
    assert.deepEqual(planGit(state), { action: "none" });
    assert.deepEqual(planGit({ ...state, unpushed: 2 }), { action: "push", commits: 2 });
    assert.throws(() => planGit({ ...state, changes: [" M a.nf", "M  b.nf"] }), /uncommitted changes \(2 files\): a\.nf, b\.nf/);
    assert.throws(() => planGit({ ...state, remoteCommit: undefined }), (e: Error & { hint?: string }) => /git push -u origin b/.test(e.hint ?? ""));
    assert.throws(() => planGit({ ...state, unpushed: undefined }), (e: Error & { hint?: string }) => /git pull origin b/.test(e.hint ?? ""));
  });
  it("reads owner/name from GitHub remotes only", () => {
    assert.equal(githubRepoOf("git@github.com:data-yaml/seqera-smoke-test.git"), "data-yaml/seqera-smoke-test");
    assert.equal(githubRepoOf("https://github.com/o/r"), "o/r");
    assert.equal(githubRepoOf("https://x:y@github.com/o/r.git"), "o/r");
    assert.equal(githubRepoOf("/tmp/origin.git"), undefined);
    assert.equal(githubRepoOf("https://gitlab.com/o/r.git"), undefined);
  });
});

describe("waiting", () => {
  it("intervals grow by half up to the maximum", () => {
    const schedule = { initialMs: 2000, maxMs: 120_000 };
    const seen = [0];
    for (let i = 0; i < 12; i++) seen.push(nextInterval(seen.at(-1)!, schedule));
    assert.deepEqual(seen.slice(1, 5), [2000, 3000, 4500, 6750]);
    assert.equal(seen.at(-1), 120_000);
  });
  it("durations and elapsed times", () => {
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("45"), 2_700_000);
    assert.equal(parseDuration("soon"), undefined);
    assert.equal(parseDuration(""), undefined);
    assert.equal(formatElapsed(75_500), "1m 15s");
    assert.equal(formatElapsed(3_725_000), "1h 2m 5s");
  });
});

describe("the status line", () => {
  const record = (tty: boolean) => {
    const stream = Object.assign(new PassThrough(), tty ? { isTTY: true } : {});
    let text = "";
    stream.on("data", (c: Buffer) => (text += c.toString()));
    return { stream, text: () => text };
  };
  it("on a terminal: redrawn in place, then ended with a newline", () => {
    const out = record(true);
    const line = new StatusLine(out.stream);
    line.show("RUNNING", 1000);
    line.show("RUNNING", 2000);
    line.done();
    assert.equal(out.text(), "\r\u001b[KRun status: RUNNING (1s)\r\u001b[KRun status: RUNNING (2s)\n");
  });
  it("otherwise: one plain line per status change", () => {
    const out = record(false);
    const line = new StatusLine(out.stream);
    for (const [status, ms] of [["SUBMITTED", 0], ["SUBMITTED", 2000], ["RUNNING", 65_000], ["SUCCEEDED", 70_000]] as const) line.show(status, ms);
    line.done();
    assert.equal(out.text(), "Run status: SUBMITTED (0s)\nRun status: RUNNING (1m 5s)\nRun status: SUCCEEDED (1m 10s)\n");
  });
});

describe("runAsMain", () => {
  it("a main() left waiting on a promise nothing can settle: a clear error and exit 1, not Node's silent 13", () => {
    const module = new URL("../lib/run-main.ts", import.meta.url).href;
    const script = `import { runAsMain } from ${JSON.stringify(module)}; runAsMain("demo.ts", () => new Promise(() => {}));`;
    const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /ERROR: demo\.ts stopped while waiting for something that can no longer happen/);
  });
});

describe("outdir checks (the post-run hook's rules)", () => {
  it("accepts what the hook accepts (a space in a folder name too); refuses bad buckets, //, control characters and local paths, naming the source", () => {
    for (const ok of ["s3://bkt", "s3://bkt/a/b/", "s3://my.bucket-1/run_2", "s3://bkt/with space"]) assert.doesNotThrow(() => checkOutdir(ok, "--outdir"), ok);
    for (const bad of ["s3://bkt with space/x", "s3://bkt/a\tb", "s3://bkt/a\u0001", "s3://Bad_Bucket/x", "s3://bkt//x", "/local", "gs://bkt/x"]) {
      assert.throws(() => checkOutdir(bad, "TEST_SQS_OUTDIR in .env"), (e: Error & { hint?: string }) => /\(from TEST_SQS_OUTDIR in \.env\)/.test(e.message) && /Correct or delete TEST_SQS_OUTDIR/.test(e.hint ?? ""), bad);
    }
  });
});
