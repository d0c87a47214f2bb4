import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { Readable } from "node:stream";
import { EXIT_FAILURE, EXIT_OK } from "./cli.ts";
import { readConfig } from "./config-file.ts";
import { Logger, type Output } from "./console.ts";
import { readEnvFile, saveEnvFile } from "./env-file.ts";
import { UserError } from "./errors.ts";
import { detachedHeadError, excludeLocally, githubRepoOf, GIT_TIMEOUTS, isGitTracked, planGit, pushBranch, readBranchOnOrigin, readGitState, type GitPlan, type GitState } from "./git-state.ts";
import { sourcePrefixFor } from "./packager-message.ts";
import { DEFAULT_REPO, postRunLine } from "./post-run-line.ts";
import { createPrompter, type Prompter } from "./prompt.ts";
import { parsePostRunOutcome, readRunLog, type PostRunOutcome } from "./run-log.ts";
import { DEFAULT_SCHEDULE, formatElapsed, StatusLine, waitForRun, type PollSchedule } from "./run-wait.ts";
import { askSecret } from "./secret-prompt.ts";
import { normaliseEndpoint, SeqeraApi, SeqeraApiError } from "./seqera-api.ts";
import { buildLaunchRequest, formatParamsYaml, launchWorkflow, runWebUrl, type LaunchPlan } from "./seqera-launch.ts";
import { describeWorkspace, readUser, resolveComputeEnv, resolveWorkspace, workspaceIdOf, type Workspace } from "./seqera-workspaces.ts";

/** Exit codes of test-sqs.ts (0 and 1 as every command). */
export const EXIT_HOOK_FAILED = 2;
export const EXIT_HOOK_UNKNOWN = 3;

/** Keys of the answers saved in .env. */
export const SAVED = {
  token: "TOWER_ACCESS_TOKEN",
  endpoint: "TOWER_API_ENDPOINT",
  workspace: "TEST_SQS_WORKSPACE",
  computeEnv: "TEST_SQS_COMPUTE_ENV",
  outdir: "TEST_SQS_OUTDIR",
} as const;

export const DEFAULT_PROFILE = "awsbatch";
export const DEFAULT_TIMEOUT_MS = 60 * 60_000;
export const DEFAULT_LOG_WAIT_MS = 5 * 60_000;

export interface TestSqsOptions {
  yes: boolean;
  workspace?: string;
  computeEnv?: string;
  outdir?: string;
  pipeline?: string;
  revision?: string;
  profile: string;
  timeoutMs: number;
  config: string;
  envFile: string;
}

export interface TestSqsIo {
  output: Output;
  env: NodeJS.ProcessEnv;
  input: Readable;
  cwd: string;
}

const FLAG_HINT = "Give the answers as flags (see --help), or save them in .env, and use --yes.";

/** Poll intervals, settable for tests: TEST_SQS_POLL_MS (first), TEST_SQS_POLL_MAX_MS, TEST_SQS_LOG_WAIT_MS. */
export function scheduleFromEnv(env: NodeJS.ProcessEnv): { schedule: PollSchedule; logWaitMs: number } {
  const number = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === "") return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new UserError(`${name}="${value}" is not a number of milliseconds.`, `Unset ${name}, or give a number.`);
    return parsed;
  };
  const initialMs = number("TEST_SQS_POLL_MS", DEFAULT_SCHEDULE.initialMs);
  return {
    schedule: { initialMs, maxMs: Math.max(initialMs, number("TEST_SQS_POLL_MAX_MS", DEFAULT_SCHEDULE.maxMs)) },
    logWaitMs: number("TEST_SQS_LOG_WAIT_MS", DEFAULT_LOG_WAIT_MS),
  };
}

/** Launches a run with the post-run hook, waits for it, and checks its log for the hook's result. */
export async function runTestSqs(options: TestSqsOptions, io: TestSqsIo): Promise<number> {
  const log = new Logger(io.output, io.env);
  const timing = scheduleFromEnv(io.env);
  const configPath = resolve(io.cwd, options.config);
  const envPath = resolve(io.cwd, options.envFile);

  log.step(`Reading ${options.config}`);
  const config = await readConfig(configPath);
  log.ok(`Queue ${config.sqs.queue_url} (${config.sqs.region})`);

  const saved = await readEnvFile(envPath);
  const givenOutdir = options.outdir?.trim() || saved[SAVED.outdir]?.trim();
  if (givenOutdir) checkOutdir(givenOutdir, options.outdir?.trim() ? "--outdir" : `${SAVED.outdir} in ${options.envFile}`);

  log.step("Checking git");
  const git = await readGitState(io.cwd);
  const { revision, gitPlan } = await checkGit(git, options.revision?.trim(), gitTimeoutFromEnv(io.env), log);
  const hookRepo = githubRepoOf(git.originUrl) ?? DEFAULT_REPO;
  const pipeline = options.pipeline?.trim() || `https://github.com/${hookRepo}`;

  const updates: Record<string, string> = {};
  let prompter: Prompter | undefined;
  const prompt = () => (prompter ??= createPrompter(io.input, io.output.err, FLAG_HINT));
  try {
    let token = io.env.TOWER_ACCESS_TOKEN?.trim() || saved[SAVED.token]?.trim();
    if (!token) {
      if (options.yes) {
        throw new UserError(`No Seqera access token: TOWER_ACCESS_TOKEN is not set and ${envPath} has none.`, `Set TOWER_ACCESS_TOKEN, or run once without --yes to be asked (it is saved in ${options.envFile}, mode 0600).`);
      }
      token = await askSecret("Seqera access token (not shown): ", io.input, io.output.err, FLAG_HINT);
      if (!token) throw new UserError("No access token given.", "Create one in Seqera Platform (user menu > Access tokens).");
      updates[SAVED.token] = token;
    }
    log.addSecret(token);
    const endpoint = normaliseEndpoint(io.env.TOWER_API_ENDPOINT || saved[SAVED.endpoint]);
    const api = new SeqeraApi({ endpoint, token, onRetry: (e) => log.info(`  (${e.path}: ${e.reason}; retrying in ${Math.round(e.delayMs / 1000)} s)`) });

    log.step(`Checking the Seqera login at ${endpoint}`);
    const user = await readUser(api).catch((error: unknown) => {
      if (error instanceof SeqeraApiError && error.status === 401) {
        throw new UserError(
          `${error.message.replace(/\.$/, "")}.`,
          `Create a new token in Seqera Platform (user menu > Access tokens) and put it in TOWER_ACCESS_TOKEN or in ${options.envFile} (or delete it there to be asked); check that TOWER_API_ENDPOINT (${endpoint}) is the installation that issued it.`,
        );
      }
      throw error;
    });
    log.ok(`Logged in as ${user.userName}`);
    const workspaceAnswer = await answer(options.workspace, saved[SAVED.workspace], options.yes, prompt, {
      question: "Workspace (Org/Workspace, numeric id, or personal)",
      missing: "--workspace (Org/Workspace, a numeric id, or personal)",
    });
    const workspace = await resolveWorkspace(api, user, workspaceAnswer);
    updates[SAVED.workspace] = workspaceAnswer;
    log.ok(`Workspace: ${describeWorkspace(workspace)}`);
    const scoped = api.inWorkspace(workspaceIdOf(workspace));

    const computeEnvAnswer =
      options.computeEnv ??
      saved[SAVED.computeEnv] ??
      (options.yes ? "" : await prompt().ask("Compute environment (name or id; empty for the workspace's primary)"));
    const computeEnv = await resolveComputeEnv(api, workspace, computeEnvAnswer);
    updates[SAVED.computeEnv] = computeEnvAnswer;
    log.ok(`Compute environment: ${computeEnv.name} (${computeEnv.id})${computeEnv.status && computeEnv.status !== "AVAILABLE" ? `, status ${computeEnv.status}` : ""}`);
    log.info(`  region:   ${computeEnv.region ?? "(not set)"}`);
    log.info(`  work dir: ${computeEnv.workDir ?? "(not set)"}`);
    if (!computeEnv.workDir) {
      throw new UserError(`The compute environment ${computeEnv.name} has no work directory.`, "Set one in Seqera Platform, or choose another compute environment with --compute-env.");
    }
    if (computeEnv.region && computeEnv.region !== config.sqs.region) {
      log.warn(`The compute environment runs in ${computeEnv.region}; the queue is in ${config.sqs.region}. The hook still sends there (the region comes from the queue URL), but the compute role must be allowed to: run ./setup-sqs.ts for that region's roles.`);
    }

    const outdir = await answer(options.outdir, saved[SAVED.outdir], options.yes, prompt, {
      question: "Output folder for the run (s3://bucket/prefix)",
      missing: "--outdir s3://bucket/prefix",
    });
    checkOutdir(outdir, "the answer");
    updates[SAVED.outdir] = outdir;

    const postRunScript = postRunLine({ repo: hookRepo, ref: revision });
    const plan: LaunchPlan = {
      pipeline,
      revision,
      profile: options.profile,
      computeEnvId: computeEnv.id,
      workDir: computeEnv.workDir,
      params: { outdir, sqs_queue_url: config.sqs.queue_url, sqs_region: config.sqs.region },
      postRunScript,
    };
    const request = buildLaunchRequest(plan);

    if (gitPlan?.action === "push") {
      const push = options.yes || (await prompt().confirm(`Push ${gitPlan.commits} commit(s) of ${git.branch} to origin (the run launches what origin has)?`, true));
      if (!push) throw new UserError(`${git.branch} has commits that origin lacks; the run would not launch them.`, `Push them (git push origin ${git.branch}) and run again.`);
    }

    log.info("");
    log.info("Launch configuration:");
    for (const [label, value] of [
      ["Workspace", describeWorkspace(workspace)],
      ["Compute env", `${computeEnv.name} (${computeEnv.id}), ${computeEnv.region ?? "region not set"}`],
      ["Pipeline", `${pipeline} @ ${revision}`],
      ["Profile", options.profile],
      ["Work dir", computeEnv.workDir],
      ["outdir", outdir],
      ["sqs_queue_url", config.sqs.queue_url],
      ["sqs_region", config.sqs.region],
      ["Post-run", postRunScript],
    ]) {
      log.info(`  ${`${label}:`.padEnd(15)}${value}`);
    }
    if (!options.yes && !(await prompt().confirm("Launch this run?", true))) {
      log.info("Nothing was launched.");
      return EXIT_FAILURE;
    }
    prompter?.close();
    prompter = undefined;

    await saveAnswers(envPath, updates, git.root, log);
    await saveParams(join(git.root, "work", "params.yaml"), plan.params, log);
    if (gitPlan?.action === "push") {
      log.step(`Pushing ${git.branch} to origin`);
      await pushBranch(git.root, git.branch!);
      log.ok("Pushed");
    }

    log.step("Launching");
    const runId = await launchWorkflow(scoped, request);
    const url = runWebUrl(endpoint, workspace, runId);
    log.result(`Run id:  ${runId}`);
    log.result(`Run URL: ${url}`);

    return await followRun({ api: scoped, runId, url, workspace, outdir, config, options, timing, log, io });
  } finally {
    prompter?.close();
  }
}

/** A flag, else a saved answer, else a prompt; with --yes a missing answer is an error naming the flag. */
async function answer(
  flag: string | undefined,
  saved: string | undefined,
  yes: boolean,
  prompt: () => Prompter,
  what: { question: string; missing: string },
): Promise<string> {
  const given = flag?.trim() || saved?.trim();
  if (given) return given;
  if (yes) throw new UserError(`No answer for ${what.missing}: --yes does not ask.`, `Give ${what.missing}, or run once without --yes to be asked (the answer is saved in .env).`);
  const value = (await prompt().ask(what.question)).trim();
  if (!value) throw new UserError(`No answer for ${what.missing}.`, FLAG_HINT);
  return value;
}

/**
 * The revision to launch and what git must do first. Launching the current branch needs it
 * committed and on origin; another --revision (or any on a detached HEAD) is launched as it is.
 */
async function checkGit(git: GitState, revisionFlag: string | undefined, networkTimeoutMs: number, log: Logger): Promise<{ revision: string; gitPlan: GitPlan | undefined }> {
  const revision = revisionFlag || git.branch;
  if (!revision) throw detachedHeadError(git.head);
  if (revision === git.branch) {
    const gitPlan = planGit(await readBranchOnOrigin(git, networkTimeoutMs));
    log.ok(`Branch ${git.branch}: clean${gitPlan.action === "push" ? `, ${gitPlan.commits} commit(s) not pushed yet` : ", pushed"}`);
    return { revision, gitPlan };
  }
  log.warn(`--revision ${revision} is not the current branch (${git.branch ?? "HEAD is detached"}): not checking that it is committed and pushed; the run launches what the repository has at ${revision}.`);
  if (!git.originUrl) log.warn(`This clone has no origin: the hook is fetched from ${DEFAULT_REPO} at ${revision}.`);
  return { revision, gitPlan: undefined };
}

/** The network time-out of git, settable for tests: TEST_SQS_GIT_TIMEOUT_MS. */
function gitTimeoutFromEnv(env: NodeJS.ProcessEnv): number {
  const value = Number(env.TEST_SQS_GIT_TIMEOUT_MS);
  return env.TEST_SQS_GIT_TIMEOUT_MS && Number.isFinite(value) && value > 0 ? value : GIT_TIMEOUTS.networkMs;
}

/**
 * Checks an outdir by the post-run hook's own rules (an s3:// folder in a valid bucket, no "//",
 * no control characters), and that it has no spaces; `source` says where it came from.
 */
export function checkOutdir(outdir: string, source: string): void {
  const hint = `${source.startsWith("--") ? "Give --outdir as" : `Correct or delete ${source}, or give --outdir`} s3://<bucket>/<folder> with a valid S3 bucket name.`;
  try {
    sourcePrefixFor(outdir);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`${error.message.replace(/\.$/, "")} (from ${source}).`, hint, { cause: error });
    throw error;
  }
}

async function saveAnswers(envPath: string, updates: Record<string, string>, gitRoot: string, log: Logger): Promise<void> {
  await saveEnvFile(envPath, updates);
  const inside = !relative(gitRoot, envPath).startsWith("..");
  if (inside && (await isGitTracked(gitRoot, envPath))) {
    log.warn(`git tracks ${relative(gitRoot, envPath)}: the access token in it would be committed. Stop tracking it (git rm --cached ${relative(gitRoot, envPath)}) and commit that.`);
  }
  const excluded = inside ? await excludeLocally(gitRoot, envPath) : undefined;
  log.ok(`Answers saved in ${envPath} (mode 0600)${excluded ? `; git ignores it through ${relative(gitRoot, excluded)} (not committed)` : ""}`);
}

async function saveParams(path: string, params: Record<string, string>, log: Logger): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, formatParamsYaml(params), "utf8");
  log.ok(`Params saved in ${path}`);
}

interface FollowContext {
  api: SeqeraApi;
  runId: string;
  url: string;
  workspace: Workspace;
  outdir: string;
  config: { sqs: { queue_url: string; region: string } };
  options: TestSqsOptions;
  timing: { schedule: PollSchedule; logWaitMs: number };
  log: Logger;
  io: TestSqsIo;
}

/** Waits for the run, then reads its log for the hook's banner; Ctrl-C meanwhile says how to follow the run. */
async function followRun(ctx: FollowContext): Promise<number> {
  const { log, runId, url } = ctx;
  const line = new StatusLine(ctx.io.output.err);
  const onSigint = () => {
    line.done();
    log.info("");
    log.info(`The run goes on in Seqera Platform. Follow it at ${url}`);
    log.info(`(run id ${runId}); cancel it there if you no longer need it.`);
  };
  process.prependOnceListener("SIGINT", onSigint);
  let last = { status: "SUBMITTED", at: Date.now(), elapsed: 0 };
  const ticker = (ctx.io.output.err as { isTTY?: boolean }).isTTY
    ? setInterval(() => line.show(last.status, last.elapsed + Date.now() - last.at), 1000)
    : undefined;
  try {
    log.step(`Waiting for the run (time-out ${formatElapsed(ctx.options.timeoutMs)})`);
    const result = await waitForRun(ctx.api, runId, {
      schedule: ctx.timing.schedule,
      timeoutMs: ctx.options.timeoutMs,
      onStatus: (status, elapsed) => {
        last = { status, at: Date.now(), elapsed };
        line.show(status, elapsed);
      },
    });
    if (ticker) clearInterval(ticker);
    line.done();
    if (result.kind === "timeout") {
      log.error(`The run is still ${result.run?.status ?? "not finished"} after ${formatElapsed(result.elapsedMs)}.`);
      log.info(`  It goes on in Seqera Platform: ${url}`);
      log.info(`  Check it later there; its log shows the post-run hook's SUCCESS or ERROR banner at the end. Or run again with a longer --timeout.`);
      return EXIT_FAILURE;
    }
    if (result.run.status !== "SUCCEEDED") {
      log.error(`The run ${result.run.status} after ${formatElapsed(result.elapsedMs)}${result.run.errorMessage ? `: ${result.run.errorMessage}` : "."}`);
      log.info(`  See its log and tasks: ${url}`);
      log.info("  The hook does not send a message for failed runs (unless the param sqs_send_on_failure is true).");
      return EXIT_FAILURE;
    }
    log.ok(`The run SUCCEEDED after ${formatElapsed(result.elapsedMs)}`);
    return await verifyHook(ctx);
  } finally {
    if (ticker) clearInterval(ticker);
    process.removeListener("SIGINT", onSigint);
  }
}

/** Reads the run's log until the hook's banner shows (or the log is complete and the grace period is over). */
async function verifyHook(ctx: FollowContext): Promise<number> {
  const { log } = ctx;
  log.step("Reading the run's log for the post-run hook's result");
  const started = Date.now();
  let interval = ctx.timing.schedule.initialMs;
  let outcome: PostRunOutcome = { kind: "unknown" };
  for (;;) {
    try {
      outcome = parsePostRunOutcome((await readRunLog(ctx.api, ctx.runId)).text);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      log.warn(`Could not read the run's log: ${error.message}`);
      break;
    }
    if (outcome.kind !== "unknown" || Date.now() - started >= ctx.timing.logWaitMs) break;
    await new Promise((r) => setTimeout(r, Math.min(interval, ctx.timing.logWaitMs)));
    interval = Math.min(interval * 1.5, ctx.timing.schedule.maxMs);
  }
  return reportOutcome(outcome, ctx);
}

function reportOutcome(outcome: PostRunOutcome, ctx: FollowContext): number {
  const { log, url, config, outdir } = ctx;
  const queue = outcome.kind === "sent" && outcome.queueUrl ? outcome.queueUrl : config.sqs.queue_url;
  const region = outcome.kind === "sent" && outcome.region ? outcome.region : config.sqs.region;
  // --visibility-timeout 0 leaves what it shows on the queue for the catalog's packager.
  const receive = `aws sqs receive-message --queue-url ${queue} --region ${region} --max-number-of-messages 10 --visibility-timeout 0`;
  switch (outcome.kind) {
    case "sent":
      log.banner(`SUCCESS: the post-run hook sent the packaging message (MessageId ${outcome.messageId})`, [`Queue:      ${queue}`, `Region:     ${region}`, `Message ID: ${outcome.messageId}`], "green", true);
      log.result("Next steps:");
      log.result(`  View the run and its tasks: ${url}`);
      log.result(`  See the output:             aws s3 ls ${outdir.replace(/\/?$/, "/")}`);
      log.result(`  Peek at the queue:          ${receive}`);
      log.result("  The catalog packages the folder within minutes; look for it in the catalog.");
      return EXIT_OK;
    case "failed":
    case "skipped": {
      const reason = outcome.kind === "failed" ? outcome.reason : `the hook skipped the message${outcome.reason ? `: ${outcome.reason}` : ""}`;
      log.banner("FAILED: the run succeeded, but the post-run hook did not send the message", [reason, ...(outcome.kind === "failed" && outcome.whatToDo ? [`What to do: ${outcome.whatToDo}`] : [])], "red", true);
      log.result("Next steps:");
      log.result(`  Read the whole log: ${url}`);
      log.result("  Check the queue and the compute roles' permission: ./check-sqs.ts (and ./setup-sqs.ts to grant it).");
      return EXIT_HOOK_FAILED;
    }
    case "unknown":
      log.banner("UNKNOWN: the run succeeded, but its log shows no result from the post-run hook", [
        "The log available through the API has no SUCCESS or ERROR line of the hook (it may not include the post-run script's output, or the hook has not run).",
      ], "yellow", true);
      log.result("Next steps:");
      log.result(`  Open the run and read the end of its execution log: ${url}`);
      log.result(`  See whether the message arrived: ${receive}`);
      log.result("  Check the post-run script field of the launch: it must hold the curl line printed above.");
      return EXIT_HOOK_UNKNOWN;
  }
}
