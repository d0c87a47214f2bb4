/**
 * The post-run hook's real work, bundled into dist/post_run_sqs.js: reads the finished run from the
 * Seqera Platform API and its provenance crate, and sends one packaging message to the Quilt
 * catalog's SQS queue. Arguments are parsed with node:util (not yargs) to keep the bundle small.
 */
import { parseArgs } from "node:util";
import { Logger } from "../lib/console.ts";
import { EXIT_FAILURE, EXIT_OK, isMainModule, reportError } from "../lib/cli.ts";
import { runAsMain } from "../lib/run-main.ts";
import { UserError } from "../lib/errors.ts";
import { runPostRun, type PostRunOptions } from "../lib/post-run.ts";

export const USAGE = `Usage: node post_run_sqs.js [--dry-run] [--verbose] [--help]

Sends one Quilt packaging message for a finished Seqera Platform run to the catalog's SQS queue.
Seqera runs it as the pipeline's post-run script (see README.md).

Options:
  --dry-run      build and print the message, send nothing (a local outdir is allowed)
  -v, --verbose  print stack traces on errors
  -h, --help     show this help

Environment (set by Seqera Platform): TOWER_ACCESS_TOKEN, TOWER_WORKFLOW_ID, TOWER_WORKSPACE_ID,
TOWER_API_ENDPOINT (default https://api.cloud.seqera.io), TOWER_REFRESH_TOKEN, TOWER_CONFIG_FILE,
NXF_EXIT_STATUS, NXF_UUID, NXF_WORK, NXF_OUT_FILE, NXF_LOG_FILE, NXF_TML_FILE.
AWS: the SDK's default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID..., container and instance
roles); endpoint overrides AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_STS.

Pipeline params: outdir (s3://), sqs_queue_url (URL or ARN); optional sqs_region, sqs_package_name,
sqs_registry, sqs_workflow, sqs_send_on_failure, sqs_crate_wait (s, default 30), sqs_crate_poll (s, default 2).

Exit status: 0 sent (or skipped: failed run), 1 error.`;

/** Runs the hook; returns the exit code. `aws` is only injected by the demo. */
export async function main(
  argv: string[],
  { env = process.env, log = new Logger(), aws }: { env?: NodeJS.ProcessEnv; log?: Logger; aws?: PostRunOptions["aws"] } = {},
): Promise<number> {
  let values: { "dry-run"?: boolean; verbose?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { "dry-run": { type: "boolean" }, verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    reportError(new UserError((error as Error).message, "See --help."), log);
    return EXIT_FAILURE;
  }
  if (values.help) {
    log.result(USAGE);
    return EXIT_OK;
  }
  const dryRun = Boolean(values["dry-run"]);
  try {
    const outcome = await runPostRun({ env, log, dryRun, aws });
    switch (outcome.kind) {
      case "sent":
        log.banner(
          `SUCCESS: packaging message sent (MessageId ${outcome.messageId})`,
          [`Queue:      ${outcome.queueUrl}`, `Region:     ${outcome.region}`, `Message ID: ${outcome.messageId}`],
          "green",
          true,
        );
        break;
      case "dry-run":
        log.banner("DRY RUN: nothing was sent", [`Queue:  ${outcome.queueUrl}`, `Region: ${outcome.region}`], "yellow", true);
        break;
      case "skipped":
        log.banner("SKIPPED: no packaging message", [outcome.reason], "yellow", true);
        break;
    }
    return EXIT_OK;
  } catch (error) {
    const hint = error instanceof UserError ? error.hint : undefined;
    log.banner("ERROR: the packaging message was not sent", [String((error as Error)?.message ?? error), ...(hint ? [`What to do: ${hint}`] : [])], "red");
    if (values.verbose && error instanceof Error && error.stack) log.info(error.stack);
    else if (!(error instanceof UserError)) log.info("(set --verbose for a stack trace)");
    return EXIT_FAILURE;
  }
}

if (isMainModule(import.meta.url)) runAsMain("post_run_sqs.js", () => main(process.argv.slice(2)));
