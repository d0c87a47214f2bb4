#!/bin/sh
":" //; exec node --import "$(dirname "$(realpath "$0")")/node_modules/tsx/dist/loader.mjs" -- "$0" "$@"
// The line above runs this file with the project's own tsx, from any directory (npx would not find it elsewhere).
// The "--" keeps Node 20 from taking this script's --env-file flag as its own.
import yargs from "yargs";
import { runCommand, isMainModule } from "./lib/cli.ts";
import { strictParser } from "./lib/cli-options.ts";
import { DEFAULT_CONFIG_PATH } from "./lib/config-file.ts";
import { Logger, processOutput } from "./lib/console.ts";
import { DEFAULT_ENV_PATH } from "./lib/env-file.ts";
import { UserError } from "./lib/errors.ts";
import { runAsMain } from "./lib/run-main.ts";
import { parseDuration } from "./lib/run-wait.ts";
import { DEFAULT_PROFILE, DEFAULT_TIMEOUT_MS, runTestSqs, type TestSqsIo } from "./lib/test-sqs.ts";

/** Parses the arguments, launches the test run and verifies the hook; returns the exit code (also set as process.exitCode). */
export async function main(
  argv: string[],
  io: TestSqsIo = { input: process.stdin, output: processOutput, env: process.env, cwd: process.cwd() },
): Promise<number> {
  const log = new Logger(io.output, io.env);
  const verbose = argv.includes("--verbose") || argv.includes("-v");
  return runCommand(async () => {
    const args = await strictParser(yargs(argv), "test-sqs.ts")
      .usage(
        "$0 [options]\n\nLaunch a real run on Seqera Platform with the post-run hook, wait for it, and check in the run's log that the hook sent the packaging message to the queue in config.toml.",
      )
      .epilog(
        "Environment: TOWER_ACCESS_TOKEN (else from --env-file, else asked without echo), TOWER_API_ENDPOINT (default https://api.cloud.seqera.io; Enterprise https://<host>/api), NO_COLOR; for tests TEST_SQS_POLL_MS, TEST_SQS_POLL_MAX_MS, TEST_SQS_LOG_WAIT_MS, TEST_SQS_GIT_TIMEOUT_MS.\n\n" +
          "Exit codes: 0 message sent (the hook's SUCCESS line with its message id); 1 error, failed or cancelled run, or time-out; 2 the run succeeded but the hook failed; 3 the run succeeded but its log shows no result from the hook.",
      )
      .option("yes", { alias: "y", type: "boolean", default: false, describe: "no prompts: use flags and saved answers, push and launch without asking" })
      .option("workspace", { type: "string", describe: "Org/Workspace, a numeric workspace id, or personal (saved in .env)" })
      .option("compute-env", { type: "string", describe: "compute environment name or id (default: the workspace's primary; saved in .env)" })
      .option("outdir", { type: "string", describe: "the run's output folder, s3://bucket/prefix (saved in .env)" })
      .option("pipeline", { type: "string", describe: "pipeline repository URL (default: https://github.com/<origin's GitHub repo>, else https://github.com/data-yaml/seqera-smoke-test)" })
      .option("revision", { type: "string", describe: "branch, tag or commit to launch (default: the current git branch)" })
      .option("profile", { type: "string", default: DEFAULT_PROFILE, describe: "Nextflow config profile" })
      .option("timeout", { type: "string", default: "60m", describe: "how long to wait for the run: 90s, 45m, 2h (a bare number is minutes)" })
      .option("config", { type: "string", default: DEFAULT_CONFIG_PATH, describe: "the configuration file setup-sqs.ts wrote" })
      .option("env-file", { type: "string", default: DEFAULT_ENV_PATH, describe: "where the token and answers are read and saved (mode 0600)" })
      .option("verbose", { alias: "v", type: "boolean", default: false, describe: "stack traces on unexpected errors" })
      .example("$0", "asks for what is missing, saves the answers")
      .example("$0 --yes", "uses saved answers, asks nothing")
      .example("$0 -y --workspace MyOrg/Prod --outdir s3://bucket/out", "answers as flags")
      .parseAsync();
    if (args.help) return 0;
    const timeoutMs = parseDuration(args.timeout);
    if (timeoutMs === undefined || timeoutMs <= 0) {
      throw new UserError(`--timeout "${args.timeout}" is not a duration.`, "Give it as 90s, 45m, 2h or 1h30m (a bare number is minutes).");
    }
    return runTestSqs(
      {
        yes: args.yes,
        ...(args.workspace !== undefined ? { workspace: args.workspace } : {}),
        ...(args.computeEnv !== undefined ? { computeEnv: args.computeEnv } : {}),
        ...(args.outdir !== undefined ? { outdir: args.outdir } : {}),
        ...(args.pipeline !== undefined ? { pipeline: args.pipeline } : {}),
        ...(args.revision !== undefined ? { revision: args.revision } : {}),
        profile: args.profile,
        timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
        config: args.config,
        envFile: args.envFile,
      },
      io,
    );
  }, log, verbose);
}

if (isMainModule(import.meta.url)) runAsMain("test-sqs.ts", () => main(process.argv.slice(2)));
