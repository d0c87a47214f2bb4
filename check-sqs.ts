#!/bin/sh
":" //; exec node --import "$(dirname "$(realpath "$0")")/node_modules/tsx/dist/loader.mjs" -- "$0" "$@"
// The line above runs this file with the project's own tsx, from any directory (npx would not find it elsewhere).
import yargs from "yargs";
import { runCommand, isMainModule } from "./lib/cli.ts";
import { runAsMain } from "./lib/run-main.ts";
import { runCheck } from "./lib/check-sqs.ts";
import { DEFAULT_CONFIG_PATH } from "./lib/config-file.ts";
import { Logger, processOutput, type Output } from "./lib/console.ts";
import { strictParser } from "./lib/cli-options.ts";

/** Parses the arguments and runs the checks; returns the exit code (also set as process.exitCode). */
export async function main(argv: string[], io: { output: Output; env: NodeJS.ProcessEnv } = { output: processOutput, env: process.env }): Promise<number> {
  const log = new Logger(io.output, io.env);
  const verbose = argv.includes("--verbose") || argv.includes("-v");
  return runCommand(async () => {
    const args = await strictParser(yargs(argv), "check-sqs.ts")
      .usage("$0 [options]\n\nVerify everything in config.toml against AWS (queue, stack, role permissions, KMS key) and send a test message.")
      .epilog(
        "Environment: the standard AWS variables (AWS_PROFILE, AWS_ACCESS_KEY_ID...), AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (CLOUDFORMATION, SQS, IAM, KMS), NO_COLOR.\n\n" +
          "Exit codes: 0 every required check holds; 1 a required check failed, config.toml is missing or malformed, an unknown flag, or Ctrl-C.",
      )
      .option("profile", { type: "string", describe: "AWS profile (default: the standard credential chain)" })
      .option("config", { type: "string", default: DEFAULT_CONFIG_PATH, describe: "the configuration file setup-sqs.ts wrote" })
      .option("send", { type: "boolean", default: true, describe: "send a test message (--no-send skips it)" })
      .option("json", { type: "boolean", default: false, describe: "print the results as JSON on stdout" })
      .option("verbose", { alias: "v", type: "boolean", default: false, describe: "also show queue attributes and stack outputs (and stack traces)" })
      .example("$0 --profile sales", "check and send a test message")
      .example("$0 --no-send --json", "check only, machine-readable")
      .parseAsync();
    if (args.help) return 0;
    return runCheck(
      { ...(args.profile ? { profile: args.profile } : {}), config: args.config, send: args.send, json: args.json, verbose: args.verbose },
      io,
    );
  }, log, verbose);
}

if (isMainModule(import.meta.url)) runAsMain("check-sqs.ts", () => main(process.argv.slice(2)));
