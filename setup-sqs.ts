#!/bin/sh
":" //; exec node --import "$(dirname "$(realpath "$0")")/node_modules/tsx/dist/loader.mjs" -- "$0" "$@"
// The line above runs this file with the project's own tsx, from any directory (npx would not find it elsewhere).
import yargs from "yargs";
import { runCommand, isMainModule } from "./lib/cli.ts";
import { runAsMain } from "./lib/run-main.ts";
import { Logger, processOutput } from "./lib/console.ts";
import { DEFAULT_CONFIG_PATH } from "./lib/config-file.ts";
import { strictParser } from "./lib/cli-options.ts";
import { runSetup, type CommandIo } from "./lib/setup-sqs.ts";

/** Parses the arguments and runs setup; returns the exit code (also set as process.exitCode). */
export async function main(argv: string[], io: CommandIo = { input: process.stdin, output: processOutput, env: process.env }): Promise<number> {
  const log = new Logger(io.output, io.env);
  const verbose = argv.includes("--verbose") || argv.includes("-v");
  return runCommand(async () => {
    const args = await strictParser(yargs(argv), "setup-sqs.ts")
      .usage("$0 [options]\n\nFind the Quilt catalog's packager queue, give the Seqera Batch Forge roles permission to send to it, and write config.toml.")
      .epilog(
        "Environment: the standard AWS variables (AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_REGION...), AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (CLOUDFORMATION, SQS, IAM, KMS), XDG_DATA_HOME (quilt3's config.yml), NO_COLOR.\n\n" +
          "Exit codes: 0 done (also: no Forge roles, a grant declined, --dry-run); 1 stopped by an error (nothing half-done), an unknown flag, or Ctrl-C.",
      )
      .option("profile", { type: "string", describe: "AWS profile (default: the standard credential chain; asked for without --yes)" })
      .option("region", { type: "string", describe: "AWS region of the catalog (default: <catalog>/config.json, else asked)" })
      .option("catalog", { type: "string", describe: "catalog URL (default: the quilt3 configuration, else asked)" })
      .option("yes", { alias: "y", type: "boolean", default: false, describe: "no prompts: grant without asking; a missing catalog or region is an error" })
      .option("dry-run", { type: "boolean", default: false, describe: "show each planned policy change and config.toml; change nothing" })
      .option("config", { type: "string", default: DEFAULT_CONFIG_PATH, describe: "the configuration file to write" })
      .option("verbose", { alias: "v", type: "boolean", default: false, describe: "stack traces on unexpected errors" })
      .example("$0 --profile sales", "interactive")
      .example("$0 --profile sales --yes", "no prompts")
      .example("$0 --dry-run", "show what would change")
      .parseAsync();
    if (args.help) return 0;
    return runSetup(
      {
        ...(args.profile ? { profile: args.profile } : {}),
        ...(args.region ? { region: args.region } : {}),
        ...(args.catalog ? { catalog: args.catalog } : {}),
        yes: args.yes,
        dryRun: args["dry-run"],
        config: args.config,
      },
      io,
    );
  }, log, verbose);
}

if (isMainModule(import.meta.url)) runAsMain("setup-sqs.ts", () => main(process.argv.slice(2)));
