/**
 * test-sqs.ts end to end, as a child process, in a temporary git clone (with a bare `origin` made
 * here), against the simulated Seqera Platform (standins/seqera-platform.ts) and moto. The platform
 * really runs the launch's post-run line with bash: curl fetches the launcher and the bundle from
 * the platform's local stand-in of raw.githubusercontent.com (the line's URL is rewritten to it, and
 * the launcher gets POST_RUN_SQS_BASE_URL), and the bundle sends to moto's queue.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { DEFAULT_REPO, postRunLine } from "../lib/post-run-line.ts";
import { SeqeraPlatform, type PlatformOptions } from "../standins/seqera-platform.ts";
import { ACCOUNT, ROOT, startPostRunWorld, type PostRunWorld } from "./support/post-run-world.ts";

const SCRIPT = join(ROOT, "test-sqs.ts");
const CRATE = readFileSync(join(ROOT, "fixtures/wrroc/nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json"), "utf8");
const BRANCH = "feature/hook-test";
const WORKSPACE = "organization1/workspace1";
const WORKSPACE_ID = "75887156211589";
const PRIMARY_CE = "3xkkzYH2nbD3nZjrzKm0oR";

let world: PostRunWorld;
const scratch = mkdtempSync(join(tmpdir(), "test-sqs-"));
const platforms: SeqeraPlatform[] = [];

before(async () => {
  world = await startPostRunWorld();
});
after(async () => {
  await Promise.all(platforms.map((p) => p.close()));
  await world?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.org" },
  }).trim();
}

let count = 0;
/** A clone of a pipeline repository on BRANCH, pushed to a bare origin; config.toml beside it; a queue and an outdir in moto. */
async function scenario(options: { gitignore?: string; queueExists?: boolean } = {}) {
  const dir = mkdtempSync(join(scratch, `case-${++count}-`));
  const origin = join(dir, "origin.git");
  const repo = join(dir, "pipeline");
  git(dir, "init", "-q", "--bare", origin);
  git(dir, "init", "-q", "-b", BRANCH, repo);
  writeFileSync(join(repo, "main.nf"), "workflow { println 'hello' }\n");
  writeFileSync(join(repo, ".gitignore"), options.gitignore ?? ".env\nwork/\n");
  git(repo, "add", "main.nf", ".gitignore");
  git(repo, "commit", "-qm", "pipeline");
  git(repo, "remote", "add", "origin", origin);
  git(repo, "push", "-q", "origin", BRANCH);

  const name = `PackagerQueue-test-sqs-${count}`;
  const queue = options.queueExists === false
    ? { awsUrl: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`, arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`, motoUrl: `${world.moto.endpoint}/${ACCOUNT}/${name}`, region: "us-east-1" }
    : await world.createQueue(name);
  const bucket = await world.createBucket();
  const outdir = `s3://${bucket}/test-sqs/run-${count}`;
  await world.putObject(bucket, `test-sqs/run-${count}/ro-crate-metadata.json`, CRATE);
  const config = join(dir, "config.toml");
  writeFileSync(
    config,
    `[sqs]\nqueue_url = "${queue.awsUrl}"\nqueue_arn = "${queue.arn}"\nregion = "us-east-1"\n\n[stack]\nname = "quilt"\ncatalog_url = "https://catalog.example.org"\naccount_id = "${ACCOUNT}"\n\n[roles]\nupdated = []\n`,
  );
  const envFile = join(repo, ".env");
  return { dir, repo, origin, queue, outdir, config, envFile };
}

async function startPlatform(options: Partial<PlatformOptions> = {}): Promise<SeqeraPlatform> {
  const platform = await SeqeraPlatform.start({ serve: { repo: DEFAULT_REPO, ref: BRANCH }, awsEnv: world.moto.env, stepMs: 100, ...options });
  platforms.push(platform);
  return platform;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function runTestSqs(cwd: string, args: string[], env: Record<string, string | undefined>, stdin = "", onStdout?: (text: string, child: ChildProcess) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    const home = mkdtempSync(join(scratch, "home-"));
    const child = spawn(SCRIPT, args, {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        NO_COLOR: "1",
        TEST_SQS_POLL_MS: "50",
        TEST_SQS_POLL_MAX_MS: "200",
        TEST_SQS_LOG_WAIT_MS: "3000",
        ...env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function savedAnswers(s: { envFile: string; outdir: string }, platform: SeqeraPlatform, extra = ""): void {
  writeFileSync(s.envFile, `TOWER_ACCESS_TOKEN=${platform.standin.token}\nTEST_SQS_WORKSPACE=${WORKSPACE}\nTEST_SQS_OUTDIR=${s.outdir}\n${extra}`, { mode: 0o600 });
}

const flagsFor = (s: { config: string; envFile: string }) => ["--config", s.config, "--env-file", s.envFile];
const launchBody = (platform: SeqeraPlatform) => (platform.launches[0]?.body as { launch: Record<string, unknown> }).launch;
const assertNoSecret = (result: Result, platform: SeqeraPlatform) => {
  for (const secret of [platform.standin.token, platform.standin.refreshToken]) {
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), "a token was printed");
  }
};

describe("test-sqs.ts on the simulated Seqera Platform", () => {
  it("--yes with saved answers: pushes, launches with the hook, waits, and the message is in the queue", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    writeFileSync(join(s.repo, "main.nf"), "workflow { println 'hello again' }\n");
    git(s.repo, "commit", "-qam", "not pushed yet");
    const head = git(s.repo, "rev-parse", "HEAD");

    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 0, result.stderr + result.stdout);

    assert.equal(git(s.repo, "ls-remote", "origin", `refs/heads/${BRANCH}`).split(/\s+/)[0], head, "the unpushed commit was pushed");
    assert.equal(platform.launches.length, 1);
    const [record] = platform.launches;
    assert.deepEqual(record?.problems, [], "the launch request conforms to the spec");
    assert.equal(record?.query.workspaceId, WORKSPACE_ID);
    const launch = launchBody(platform);
    assert.equal(launch.computeEnvId, PRIMARY_CE);
    assert.equal(launch.revision, BRANCH);
    assert.equal(launch.pipeline, `https://github.com/${DEFAULT_REPO}`);
    assert.deepEqual(launch.configProfiles, ["awsbatch"]);
    assert.equal(launch.workDir, "s3://work-bucket/scratch");
    assert.equal(launch.postRunScript, postRunLine({ repo: DEFAULT_REPO, ref: BRANCH }));
    assert.deepEqual(parseYaml(String(launch.paramsText)), { outdir: s.outdir, sqs_queue_url: s.queue.awsUrl, sqs_region: "us-east-1" });

    const [runId] = [...platform.runs.keys()];
    const messages = await world.receiveAll(s.queue);
    assert.equal(messages.length, 1, "one message in moto's queue");
    const body = JSON.parse(messages[0]?.Body ?? "{}") as { source_prefix: string; metadata: Record<string, unknown> };
    assert.equal(body.source_prefix, `${s.outdir}/`);
    assert.equal(body.metadata.tower_workflow_id, runId);
    assert.ok(platform.githubRequests.includes(`/${DEFAULT_REPO}/${BRANCH}/scripts/post-run-sqs.sh`));
    assert.ok(platform.githubRequests.includes(`/${DEFAULT_REPO}/${BRANCH}/dist/post_run_sqs.js`));

    assert.match(result.stdout, new RegExp(`Run id: +${runId}`));
    assert.match(result.stdout, new RegExp(`Run URL: ${platform.endpoint}/orgs/organization1/workspaces/workspace1/watch/${runId}`));
    assert.match(result.stdout, new RegExp(`SUCCESS: the post-run hook sent the packaging message \\(MessageId ${messages[0]?.MessageId}\\)`));
    assert.match(result.stderr, /region: +us-east-1/);
    assert.match(result.stderr, /work dir: +s3:\/\/work-bucket\/scratch/);
    assert.deepEqual(parseYaml(readFileSync(join(s.repo, "work/params.yaml"), "utf8")), { outdir: s.outdir, sqs_queue_url: s.queue.awsUrl, sqs_region: "us-east-1" });
    assertNoSecret(result, platform);
  });

  it("asks for the token without echoing it, then the answers; saves .env with mode 0600, kept out of git locally", async () => {
    const s = await scenario({ gitignore: "work/\n" });
    const platform = await startPlatform({ computeEnvRegion: "eu-west-1", logPageSize: 40 });
    const answers = [platform.standin.token, WORKSPACE, "ce2", s.outdir, "y"].join("\n") + "\n";
    const result = await runTestSqs(s.repo, flagsFor(s), { TOWER_API_ENDPOINT: platform.endpoint }, answers);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertNoSecret(result, platform);
    assert.match(result.stderr, /Seqera access token \(not shown\)/);
    assert.match(result.stderr, /WARNING: The compute environment runs in eu-west-1; the queue is in us-east-1/);
    assert.equal(statSync(s.envFile).mode & 0o777, 0o600);
    const saved = readFileSync(s.envFile, "utf8");
    assert.match(saved, new RegExp(`^TOWER_ACCESS_TOKEN=${platform.standin.token}$`, "m"));
    assert.match(saved, /^TEST_SQS_WORKSPACE=organization1\/workspace1$/m);
    assert.match(saved, /^TEST_SQS_COMPUTE_ENV=ce2$/m);
    assert.match(saved, new RegExp(`^TEST_SQS_OUTDIR=${s.outdir}$`, "m"));
    assert.equal(readFileSync(join(s.repo, ".gitignore"), "utf8"), "work/\n");
    assert.equal(git(s.repo, "check-ignore", ".env"), ".env");
    assert.equal(launchBody(platform).computeEnvId, "3xkkzYH2nbD3nZjrzKm0oS");
    const pages = platform.standin.requestsTo(/\/log$/).map((r) => Number(r.query.next ?? 0));
    assert.ok(pages.filter((n) => n > 0).length >= 9, `the log was read page by page (${pages.join(",")})`);
    assert.equal((await world.receiveAll(s.queue)).length, 1);
  });

  it("declining the launch changes nothing: no push, no .env, no run", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    writeFileSync(join(s.repo, "main.nf"), "workflow { println 'later' }\n");
    git(s.repo, "commit", "-qam", "local only");
    const pushed = git(s.repo, "ls-remote", "origin", `refs/heads/${BRANCH}`);
    const result = await runTestSqs(
      s.repo,
      ["--workspace", WORKSPACE, "--compute-env", "ce1", "--outdir", s.outdir, ...flagsFor(s)],
      { TOWER_API_ENDPOINT: platform.endpoint, TOWER_ACCESS_TOKEN: platform.standin.token },
      "y\nn\n",
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Push 1 commit\(s\) of feature\/hook-test to origin/);
    assert.match(result.stderr, /Nothing was launched/);
    assert.equal(git(s.repo, "ls-remote", "origin", `refs/heads/${BRANCH}`), pushed);
    assert.throws(() => statSync(s.envFile), /ENOENT/);
    assert.equal(platform.launches.length, 0);
  });

  it("a FAILED run: exit 1 with the run's error message; the hook skips, nothing is sent", async () => {
    const s = await scenario();
    const platform = await startPlatform({ finalStatus: "FAILED", errorMessage: "Process `HELLO` terminated with exit status 2" });
    savedAnswers(s, platform);
    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /ERROR: The run FAILED after .*: Process `HELLO` terminated with exit status 2/);
    await Promise.all([...platform.runs.values()].map((r) => r.done));
    assert.match([...platform.runs.values()][0]?.log ?? "", /SKIPPED: no packaging message/);
    assert.equal((await world.receiveAll(s.queue)).length, 0);
  });

  it("a run that does not finish in time: exit 1, says how to check it later", async () => {
    const s = await scenario();
    const platform = await startPlatform({ finalStatus: "RUNNING" });
    savedAnswers(s, platform);
    const started = Date.now();
    const result = await runTestSqs(s.repo, ["--yes", "--timeout", "1s", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(Date.now() - started < 15_000);
    assert.match(result.stderr, /The run is still RUNNING after 1s/);
    assert.match(result.stderr, /Check it later there/);
    assert.ok(platform.standin.requestsTo(/^\/workflow\/[^/]+$/).length >= 3, "polled several times");
  });

  it("Ctrl-C while waiting: says where to follow the run, which goes on", async () => {
    const s = await scenario();
    const platform = await startPlatform({ finalStatus: "RUNNING" });
    savedAnswers(s, platform);
    let interrupted = false;
    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint }, "", (stdout, child) => {
      if (!interrupted && /Run URL: /.test(stdout)) {
        interrupted = true;
        setTimeout(() => child.kill("SIGINT"), 300);
      }
    });
    assert.ok(interrupted);
    assert.equal(result.code, 1, result.stderr);
    const [runId] = [...platform.runs.keys()];
    assert.match(result.stderr, new RegExp(`The run goes on in Seqera Platform\\. Follow it at ${platform.endpoint}/orgs/organization1/workspaces/workspace1/watch/${runId}`));
    assert.match(result.stderr, /Cancelled by user/);
  });

  it("the hook fails (no such queue): exit 2 with the hook's error, read from the downloaded log when the API truncates it", async () => {
    const s = await scenario({ queueExists: false });
    const platform = await startPlatform({ truncateAfter: 50, logPageSize: 20 });
    savedAnswers(s, platform);
    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 2, result.stderr + result.stdout);
    assert.match(result.stdout, /FAILED: the run succeeded, but the post-run hook did not send the message/);
    assert.match(result.stdout, /What to do:/);
    assert.ok(platform.standin.requestsTo(/\/download$/).some((r) => r.query.fileName?.startsWith("nf-")), "downloaded nf-<id>.txt");
  });

  it("no result from the hook in the log: exit 3 with next steps", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    platform.standin.route("POST", /^\/workflow\/launch$/, () => ({ status: 200, body: { workflowId: platform.standin.addRun({ workflow: { status: "SUCCEEDED" } }).id } }));
    platform.standin.route("GET", /^\/workflow\/([^/]+)\/log$/, () => ({ status: 200, body: { log: { entries: ["N E X T F L O W", "Completed at: today"], truncated: false, pending: false } } }));
    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint, TEST_SQS_LOG_WAIT_MS: "300" });
    assert.equal(result.code, 3, result.stderr + result.stdout);
    assert.match(result.stdout, /UNKNOWN: the run succeeded, but its log shows no result from the post-run hook/);
    assert.match(result.stdout, /aws sqs receive-message --queue-url .* --visibility-timeout 0/);
  });

  it("a log the token may not read (403): exit 3, with the API's refusal as a warning", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    platform.standin.failNext("GET", /\/log$/, 403, 100, { message: "Operation not allowed" });
    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 3, result.stderr + result.stdout);
    assert.match(result.stderr, /WARNING: Could not read the run's log: .*HTTP 403.*Operation not allowed/);
    await Promise.all([...platform.runs.values()].map((r) => r.done));
    assert.equal((await world.receiveAll(s.queue)).length, 1, "the hook itself did send");
  });

  it("a refused token (401): exit 1, nothing launched, the token not printed", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    const result = await runTestSqs(s.repo, ["--yes", "--workspace", WORKSPACE, "--outdir", s.outdir, ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint, TOWER_ACCESS_TOKEN: "wrong-token-123" });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /refused the access token \(HTTP 401/);
    assert.equal(platform.launches.length, 0);
    assert.ok(!result.stderr.includes("wrong-token-123"));
  });

  it("no config.toml: exit 1, tells to run setup-sqs first, asks Seqera nothing", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    const result = await runTestSqs(s.repo, ["--yes", "--config", join(s.dir, "missing.toml"), "--env-file", s.envFile], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No configuration at .*missing\.toml/);
    assert.match(result.stderr, /Run \.\/setup-sqs\.ts first/);
    assert.equal(platform.standin.requests.length, 0);
  });

  it("uncommitted changes: exit 1 with the commands to fix it; nothing launched or pushed", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    writeFileSync(join(s.repo, "main.nf"), "workflow { println 'edited' }\n");
    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /uncommitted changes \(1 file\): main\.nf/);
    assert.match(result.stderr, /git stash/);
    assert.equal(platform.standin.requests.length, 0);
  });

  it("a branch missing on origin: exit 1 with the push command", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    git(s.repo, "switch", "-q", "-c", "local-only");
    const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /The branch local-only does not exist on origin/);
    assert.match(result.stderr, /git push -u origin local-only/);
    assert.equal(platform.launches.length, 0);
  });

  it("an unknown workspace name: exit 1 listing the user's workspaces; nothing launched", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    const result = await runTestSqs(s.repo, ["--yes", "--workspace", "organization1/nope", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /example-user has no workspace "organization1\/nope"/);
    assert.match(result.stderr, /organization1\/workspace1 \(75887156211589\)/);
    assert.equal(platform.launches.length, 0);
  });

  it("--yes without an outdir, or without a token, names what is missing and asks nothing", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    const result = await runTestSqs(s.repo, ["--yes", "--workspace", WORKSPACE, ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint, TOWER_ACCESS_TOKEN: platform.standin.token });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No answer for --outdir s3:\/\/bucket\/prefix: --yes does not ask/);
    assert.equal(platform.launches.length, 0);

    const noToken = await runTestSqs(s.repo, ["--yes", "--workspace", WORKSPACE, "--outdir", s.outdir, ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /No Seqera access token: TOWER_ACCESS_TOKEN is not set and .*\.env has none/);
    assert.equal(platform.standin.requestsTo(/^\/user-info$/).length, 1, "only the first run asked Seqera anything");
  });
});

describe("test-sqs.ts: input, git and outdir edge cases", () => {
  const flags = (s: { config: string; envFile: string; outdir: string }) => ["--workspace", WORKSPACE, "--compute-env", "ce1", "--outdir", s.outdir, ...flagsFor(s)];

  it("a pipe that closes right after the token line: the next prompt says the input ended (exit 1, never 13)", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    const env = { TOWER_API_ENDPOINT: platform.endpoint };
    const atLaunch = await runTestSqs(s.repo, flags(s), env, `${platform.standin.token}\n`);
    assert.equal(atLaunch.code, 1, atLaunch.stderr);
    assert.match(atLaunch.stderr, /No answer to "Launch this run\? \[Y\/n\]": the input ended\./);
    const atWorkspace = await runTestSqs(s.repo, ["--outdir", s.outdir, ...flagsFor(s)], env, `${platform.standin.token}\n`);
    assert.equal(atWorkspace.code, 1, atWorkspace.stderr);
    assert.match(atWorkspace.stderr, /No answer to "Workspace \(.*\): ": the input ended\.|No answer to "Workspace \(.*\):": the input ended\./);
    assert.equal(platform.launches.length, 0);
  });

  it("--revision skips the branch, clean-tree and origin checks (detached HEAD, no origin, unreachable origin)", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    const env = { TOWER_API_ENDPOINT: platform.endpoint };
    git(s.repo, "switch", "-q", "--detach");
    const detached = await runTestSqs(s.repo, flagsFor(s), env);
    assert.equal(detached.code, 1);
    assert.match(detached.stderr, /HEAD is detached/);
    assert.match(detached.stderr, /git switch -c /);
    assert.match(detached.stderr, new RegExp(`--revision ${git(s.repo, "rev-parse", "HEAD")}`));

    const onDetached = await runTestSqs(s.repo, ["--revision", BRANCH, ...flagsFor(s)], env, "\nn\n");
    assert.match(onDetached.stderr, /Nothing was launched/, onDetached.stderr);
    assert.match(onDetached.stderr, /WARNING: .*--revision/);

    git(s.repo, "switch", "-q", BRANCH);
    git(s.repo, "remote", "set-url", "origin", join(s.dir, "gone.git"));
    writeFileSync(join(s.repo, "main.nf"), "workflow { println 'edited' }\n");
    const unreachable = await runTestSqs(s.repo, ["--revision", "v1", ...flagsFor(s)], env, "\nn\n");
    assert.match(unreachable.stderr, /Nothing was launched/, unreachable.stderr);

    git(s.repo, "remote", "remove", "origin");
    git(s.repo, "switch", "-q", "-c", "elsewhere");
    const noOrigin = await runTestSqs(s.repo, ["--yes", "--revision", BRANCH, ...flagsFor(s)], env);
    assert.equal(noOrigin.code, 0, noOrigin.stderr + noOrigin.stdout);
    assert.equal(launchBody(platform).postRunScript, postRunLine({ repo: DEFAULT_REPO, ref: BRANCH }));
  });

  it("origin that never answers: git ls-remote times out with the command and what to do; git's helpers are stopped", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    savedAnswers(s, platform);
    const sockets = new Set<Socket>();
    const hanging = createServer(() => {}).on("connection", (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", r));
    try {
      git(s.repo, "remote", "set-url", "origin", `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/pipeline.git`);
      const started = Date.now();
      const result = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint, TEST_SQS_GIT_TIMEOUT_MS: "1000" });
      assert.equal(result.code, 1, result.stderr);
      assert.ok(Date.now() - started < 10_000);
      assert.match(result.stderr, /git ls-remote --heads origin refs\/heads\/feature\/hook-test did not finish within 1 s/);
      assert.match(result.stderr, /--revision/);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sockets.size, 0, "git-remote-http was stopped with git");
      assert.equal(platform.standin.requests.length, 0);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      hanging.close();
    }
  });

  it("an invalid --outdir or saved outdir stops before any API call", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    const env = { TOWER_API_ENDPOINT: platform.endpoint, TOWER_ACCESS_TOKEN: platform.standin.token };
    for (const outdir of ["s3://bkt with space/x", "s3://bkt/with\u0001control/x", "s3://Bad_Bucket/x", "s3://bkt//x", "/local/path"]) {
      const result = await runTestSqs(s.repo, ["--yes", "--workspace", WORKSPACE, "--outdir", outdir, ...flagsFor(s)], env);
      assert.equal(result.code, 1, `${outdir}: ${result.stderr}`);
      assert.match(result.stderr, /outdir/i);
    }
    writeFileSync(s.envFile, "TEST_SQS_OUTDIR=s3://Bad_Bucket/x\n");
    const saved = await runTestSqs(s.repo, ["--yes", "--workspace", WORKSPACE, ...flagsFor(s)], env);
    assert.equal(saved.code, 1, saved.stderr);
    assert.match(saved.stderr, /TEST_SQS_OUTDIR/);
    assert.equal(platform.standin.requests.length, 0, "no API call was made");
  });

  it("a successful run keeps .gitignore untouched (ignoring .env locally), so the next run passes the git check", async () => {
    const s = await scenario({ gitignore: "work/\n" });
    const platform = await startPlatform();
    const first = await runTestSqs(s.repo, flags(s), { TOWER_API_ENDPOINT: platform.endpoint }, `${platform.standin.token}\ny\n`);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(readFileSync(join(s.repo, ".gitignore"), "utf8"), "work/\n");
    assert.match(readFileSync(join(s.repo, ".git/info/exclude"), "utf8"), /^\/\.env$/m);
    assert.equal(git(s.repo, "status", "--porcelain"), "");
    const second = await runTestSqs(s.repo, ["--yes", ...flagsFor(s)], { TOWER_API_ENDPOINT: platform.endpoint }, "");
    assert.equal(second.code, 0, second.stderr + second.stdout);
  });

  it("clear messages: --env-file a directory; a repository without commits", async () => {
    const s = await scenario();
    const platform = await startPlatform();
    const env = { TOWER_API_ENDPOINT: platform.endpoint, TOWER_ACCESS_TOKEN: platform.standin.token };
    const dirEnv = await runTestSqs(s.repo, ["--yes", "--workspace", WORKSPACE, "--outdir", s.outdir, "--config", s.config, "--env-file", s.dir], env);
    assert.equal(dirEnv.code, 1);
    assert.doesNotMatch(dirEnv.stderr, /EISDIR/);
    assert.match(dirEnv.stderr, /is a directory/);
    assert.match(dirEnv.stderr, /--env-file/);

    const empty = join(s.dir, "empty");
    git(s.dir, "init", "-q", "-b", "main", empty);
    const noCommits = await runTestSqs(empty, ["--yes", ...flagsFor(s)], env);
    assert.equal(noCommits.code, 1);
    assert.doesNotMatch(noCommits.stderr, /ambiguous argument/);
    assert.match(noCommits.stderr, /no commits/);
    assert.match(noCommits.stderr, /git commit/);
  });
});
