import { DEFAULT_CRATE_POLL_SECONDS, DEFAULT_CRATE_WAIT_SECONDS } from "./crate-reader.ts";
import { UserError } from "./errors.ts";

/** What the post-run job takes from the run's pipeline params. */
export interface RunSettings {
  outdir: string;
  /** sqs_queue_url: a queue URL or ARN. */
  queue: string;
  /** sqs_region: only an override, for queue URLs that do not name their region. */
  region?: string;
  packageName?: string;
  registry?: string;
  workflow?: string;
  crateWaitSeconds: number;
  cratePollSeconds: number;
}

type Params = Record<string, unknown> | null;

function paramText(params: Params, name: string): string | undefined {
  const value = params?.[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value.trim() || undefined;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new UserError(`The param ${name} must be a single value, not ${JSON.stringify(value).slice(0, 80)}.`, `Launch with --${name} <value>.`);
}

function requiredParam(params: Params, name: string, example: string): string {
  const value = paramText(params, name);
  if (value) return value;
  throw new UserError(
    `The run has no "${name}" param${params ? "" : " (the API returned no params for it)"}.`,
    `Launch the pipeline with it, e.g. --${name} ${example} (or "${name}: ${example}" in the launch form's params).`,
  );
}

function flagParam(params: Params, name: string): boolean {
  const value = paramText(params, name);
  if (value === undefined) return false;
  if (/^(true|yes|1|on)$/i.test(value)) return true;
  if (/^(false|no|0|off)$/i.test(value)) return false;
  throw new UserError(`The param ${name} is "${value}"; expected true or false.`, `Launch with --${name} true or --${name} false.`);
}

function secondsParam(params: Params, name: string, fallback: number, max: number): number {
  const value = paramText(params, name);
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > max) {
    throw new UserError(`The param ${name} is "${value}"; expected a number of seconds from 0 to ${max}.`, `Launch with e.g. --${name} ${fallback}.`);
  }
  return seconds;
}

/** Reads and checks the params; a missing or malformed one is a UserError that says how to set it. */
export function readRunSettings(params: Params): RunSettings {
  return {
    outdir: requiredParam(params, "outdir", "s3://my-bucket/results").replace(/^s3:\/\//i, "s3://"),
    queue: requiredParam(params, "sqs_queue_url", "https://sqs.us-east-1.amazonaws.com/123456789012/my-PackagerQueue"),
    region: paramText(params, "sqs_region"),
    packageName: paramText(params, "sqs_package_name"),
    registry: paramText(params, "sqs_registry"),
    workflow: paramText(params, "sqs_workflow"),
    crateWaitSeconds: secondsParam(params, "sqs_crate_wait", DEFAULT_CRATE_WAIT_SECONDS, 3600),
    cratePollSeconds: secondsParam(params, "sqs_crate_poll", DEFAULT_CRATE_POLL_SECONDS, 300),
  };
}

/** sqs_send_on_failure, read on its own: a failed run may lack the other params. */
export function readSendOnFailure(params: Params): boolean {
  return flagParam(params, "sqs_send_on_failure");
}
