import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { S3Client } from "@aws-sdk/client-s3";
import { createS3Client, createSqsClient, createStsClient, explainCredentialsError, type AwsOptions } from "./aws-clients.ts";
import type { Logger } from "./console.ts";
import { readCrate } from "./crate-reader.ts";
import { UserError, awsErrorName, describeError } from "./errors.ts";
import { classifyQueueError } from "./queue-details.ts";
import { explainAwsError } from "./request-errors.ts";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  checkPassThrough,
  commitMessageFor,
  fifoParameters,
  fitMessage,
  hasOnlySqsCharacters,
  registryBucket,
  sourcePrefixFor,
  type FittedMessage,
  type PackagerMessage,
} from "./packager-message.ts";
import { parseQueueAddress, resolveQueueRegion, type QueueAddress } from "./queue-address.ts";
import { buildRunMetadata, type Metadata, type MetadataSources } from "./run-metadata.ts";
import { SeqeraApi } from "./seqera-api.ts";
import { FINAL_FAILURE_STATUSES, fetchRunDetails, type RunDetails } from "./seqera-run.ts";
import { CrateError, matchRun, parseCrateText, type Json } from "./wrroc.ts";
import { readRunSettings, readSendOnFailure, type RunSettings } from "./run-settings.ts";

/** What the hook's user can change about AWS, for error hints. */
const HOOK_AWS_SETTINGS = "the queue URL's region, the compute environment's IAM role and network";

export type PostRunOutcome =
  | { kind: "sent"; messageId: string; queueUrl: string; region: string; body: string }
  | { kind: "dry-run"; queueUrl: string; region: string; body: string }
  | { kind: "skipped"; reason: string };

/** The AWS clients the post-run job uses, made on first use. */
export interface AwsServices {
  sqs(): SQSClient;
  s3(): S3Client;
  identity(): Promise<{ account?: string; arn?: string }>;
}

export function createAwsServices(options: AwsOptions): AwsServices {
  let sqs: SQSClient | undefined;
  let s3: S3Client | undefined;
  return {
    sqs: () => (sqs ??= createSqsClient(options)),
    s3: () => (s3 ??= createS3Client(options)),
    async identity() {
      const answer = await createStsClient(options).send(new GetCallerIdentityCommand({}));
      return { account: answer.Account, arn: answer.Arn };
    },
  };
}

export interface PostRunOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  dryRun?: boolean;
  /** Injection point for tests and the demo; defaults to the SDK's clients for the queue's region. */
  aws?: (options: AwsOptions) => AwsServices;
}

/** The post-run job: read the run and its crate, build the packaging message, send it to the queue. */
export async function runPostRun({ env, log, dryRun = false, aws = createAwsServices }: PostRunOptions): Promise<PostRunOutcome> {
  const token = requireEnv(env, "TOWER_ACCESS_TOKEN", "Seqera Platform sets it for post-run scripts; locally, create a token in Seqera Platform (user menu > Access tokens).");
  const workflowId = requireEnv(env, "TOWER_WORKFLOW_ID", "Seqera Platform sets it for post-run scripts; locally, export the run's id.");
  log.addSecret(token);
  log.addSecret(env.TOWER_REFRESH_TOKEN);
  const api = new SeqeraApi({
    endpoint: env.TOWER_API_ENDPOINT,
    token,
    refreshToken: env.TOWER_REFRESH_TOKEN,
    workspaceId: env.TOWER_WORKSPACE_ID,
    onRetry: ({ path, attempt, reason, delayMs }) =>
      log.warn(`Seqera API ${path}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`),
  });

  log.step(`Reading run ${workflowId} from ${api.endpoint}`);
  const run = await fetchRunDetails(api, workflowId);
  const { workflow } = run;
  log.info(`  ${workflow.runName ?? "(unnamed)"} of ${workflow.projectName ?? "(unknown pipeline)"}: ${workflow.status ?? "status unknown"}`);
  if (run.launchProblem) log.warn(`Could not read the run's launch (pipeline, profiles, compute environment): ${run.launchProblem}`);

  const skip = failurePolicy(env, run, readSendOnFailure(workflow.params ?? null));
  if (skip) return { kind: "skipped", reason: skip };
  const settings = readRunSettings(workflow.params ?? null);

  const queue = parseQueueAddress(settings.queue);
  const region = resolveQueueRegion(queue, settings.region, env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
  const sourcePrefix = sourcePrefixFor(settings.outdir, { allowLocal: dryRun });
  checkPassThrough({ package_name: settings.packageName, registry: settings.registry });

  const services = aws({ region, env });
  // Independent AWS calls go out together. The crate may take a while to appear; when the identity
  // or the queue fails for good meanwhile, waiting for it stops at once.
  const stopWaiting = new AbortController();
  const crateRead = readRunCrate(settings, services, workflow.sessionId ?? env.NXF_UUID ?? undefined, log, dryRun, stopWaiting.signal);
  const [identity, limits] = await Promise.allSettled([
    dryRun ? Promise.resolve(undefined) : services.identity(),
    readQueueLimits(services.sqs(), queue, log, dryRun),
  ]);
  try {
    if (identity.status === "rejected") {
      // Missing credentials stop here; anything else about STS (no route to it from a VPC with only
      // SQS and S3 endpoints, say) only loses the informational identity line.
      const explained = explainCredentialsError(identity.reason);
      if (explained !== identity.reason) throw explained;
      log.warn(`Could not read the AWS identity (STS): ${describeError(explainAwsError(identity.reason, region, HOOK_AWS_SETTINGS))}`);
    } else if (identity.value) log.info(`  AWS identity: account ${identity.value.account ?? "?"}, ${identity.value.arn ?? "?"}`);
    if (limits.status === "rejected") throw limits.reason;
  } catch (error) {
    stopWaiting.abort();
    await crateRead.catch(() => undefined);
    throw error;
  }
  const crate = await crateRead;
  const message: PackagerMessage = {
    source_prefix: sourcePrefix,
    ...(settings.registry ? { registry: registryBucket(settings.registry) } : {}),
    ...(settings.packageName ? { package_name: settings.packageName } : {}),
    ...(settings.workflow ? { workflow: settings.workflow } : {}),
    metadata: redactJson(buildRunMetadata({ env, run, ...crate }), log) as Metadata,
    commit_message: commitMessageFor(workflow),
  };

  const fitted = fitMessage(message, limits.value.maxBytes);
  if (fitted.dropped.length) {
    log.warn(`The message was over the queue's ${limits.value.maxBytes}-byte limit; dropped metadata: ${fitted.dropped.join(", ")}`);
  }
  if (!hasOnlySqsCharacters(fitted.body)) throw new Error("internal: the message body holds characters SQS refuses");
  printBody(fitted, log);

  if (dryRun) return { kind: "dry-run", queueUrl: queue.url, region, body: fitted.body };
  const messageId = await send(services.sqs(), queue, fitted, limits.value, sourcePrefix, run, region);
  return { kind: "sent", messageId, queueUrl: queue.url, region, body: fitted.body };
}

function requireEnv(env: NodeJS.ProcessEnv, name: string, hint: string): string {
  const value = env[name]?.trim();
  if (!value) throw new UserError(`${name} is not set.`, hint);
  return value;
}

/** Why nothing is sent for a failed run, or undefined to go on. */
function failurePolicy(env: NodeJS.ProcessEnv, { workflow }: RunDetails, sendOnFailure: boolean): string | undefined {
  const exitStatus = env.NXF_EXIT_STATUS?.trim();
  const failedExit = exitStatus !== undefined && exitStatus !== "" && exitStatus !== "0";
  const failedStatus = FINAL_FAILURE_STATUSES.has(String(workflow.status ?? "").toUpperCase());
  if (!failedExit && !failedStatus) return undefined;
  const why = [failedStatus ? `status ${workflow.status}` : "", failedExit ? `NXF_EXIT_STATUS=${exitStatus}` : ""].filter(Boolean).join(", ");
  if (sendOnFailure) return undefined;
  return `the run did not succeed (${why}); nothing was sent. Set the param sqs_send_on_failure=true to package failed runs too.`;
}

async function readRunCrate(
  settings: RunSettings,
  services: AwsServices,
  sessionId: string | undefined,
  log: Logger,
  dryRun: boolean,
  signal: AbortSignal,
): Promise<Pick<MetadataSources, "crate" | "crateProblem">> {
  log.step(`Reading the run's provenance crate (waiting up to ${settings.crateWaitSeconds} s)`);
  let announced = false;
  const read = await readCrate(settings.outdir, {
    waitSeconds: settings.crateWaitSeconds,
    pollSeconds: settings.cratePollSeconds,
    s3: services.s3,
    signal,
    onWait: ({ location }) => {
      if (!announced) log.info(`  ${location} is not there yet; waiting`);
      announced = true;
    },
  });
  if (signal.aborted) return { crateProblem: "not read: the hook stopped" };
  if (!read.found && read.bucketMissing && !dryRun) {
    throw new UserError(
      `The outdir's bucket does not exist (${read.location}): there is nothing for the catalog to package.`,
      "Check the outdir param: the bucket name, and that it is in this AWS account.",
    );
  }
  if (!read.found) {
    log.warn(`No provenance crate: ${read.reason}. Sending without crate metadata (is the nf-prov plugin enabled with format "wrroc"?).`);
    return { crateProblem: read.reason };
  }
  try {
    const summary = parseCrateText(read.text);
    const match = matchRun(summary, sessionId);
    if (match.status === "stale") {
      log.warn(
        `The crate at ${read.location} describes run ${match.crateRunIds.join(", ")}, not this run (session ${sessionId}): it is stale, from an earlier run. Its metadata is left out.`,
      );
    } else if (match.status === "ambiguous") {
      log.warn(`The crate at ${read.location} describes ${match.crateRunIds.length} runs and this run's session id is unknown; its run metadata is left out.`);
    } else if (match.status === "no-run") {
      log.warn(`The crate at ${read.location} describes no run; only its workflow metadata is used.`);
    } else {
      log.info(`  ${read.location}: run ${match.run.runId}${match.status === "unverified" ? " (unverified: no session id to compare)" : ""}`);
    }
    return { crate: { summary, match } };
  } catch (error) {
    // The crate is someone else's file: whatever is wrong with it must not stop the packaging.
    const why = error instanceof CrateError ? error.message : `unreadable: ${describeError(error)}`;
    log.warn(`${read.location} is not a usable crate (${why}); sending without crate metadata.`);
    return { crateProblem: `${read.location}: ${why}` };
  }
}

interface QueueLimits {
  maxBytes: number;
  fifo: boolean;
}

/** MaximumMessageSize and FIFO settings; where the role may not read them, the SQS defaults. */
async function readQueueLimits(sqs: SQSClient, queue: QueueAddress, log: Logger, dryRun: boolean): Promise<QueueLimits> {
  try {
    const { Attributes: attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ["MaximumMessageSize", "FifoQueue"],
      }),
    );
    const maxBytes = Number(attributes.MaximumMessageSize);
    return {
      maxBytes: Number.isInteger(maxBytes) && maxBytes > 0 ? maxBytes : DEFAULT_MAX_MESSAGE_BYTES,
      fifo: attributes.FifoQueue === "true" || queue.fifo,
    };
  } catch (error) {
    const name = awsErrorName(error);
    if (!dryRun) {
      if (classifyQueueError(error) === "missing") throw queueMissing(queue, error);
      const credentials = explainCredentialsError(error);
      if (credentials !== error) throw credentials;
    }
    log.info(`  Could not read the queue's attributes (${name ?? describeError(error)}); assuming a ${DEFAULT_MAX_MESSAGE_BYTES}-byte limit.`);
    return { maxBytes: DEFAULT_MAX_MESSAGE_BYTES, fifo: queue.fifo };
  }
}

function queueMissing(queue: QueueAddress, cause: unknown): UserError {
  return new UserError(
    `The queue ${queue.url} does not exist (or is in another account or region).`,
    "Check the sqs_queue_url param against the output PackagerQueueUrl of the catalog's CloudFormation stack (./setup-sqs.ts finds it).",
    { cause },
  );
}

async function send(
  sqs: SQSClient,
  queue: QueueAddress,
  fitted: FittedMessage,
  limits: QueueLimits,
  sourcePrefix: string,
  { workflow }: RunDetails,
  region: string,
): Promise<string> {
  const fifo = limits.fifo ? fifoParameters(sourcePrefix, workflow) : undefined;
  try {
    const answer = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: fitted.body,
        // The deduplication id is sent even with content-based deduplication on: a retried hook may
        // build a different body (the crate appeared meanwhile) for the same run.
        ...(fifo ? { MessageGroupId: fifo.MessageGroupId, MessageDeduplicationId: fifo.MessageDeduplicationId } : {}),
      }),
    );
    return answer.MessageId ?? "(no id returned)";
  } catch (error) {
    const name = awsErrorName(error);
    const kind = classifyQueueError(error);
    if (kind === "missing") throw queueMissing(queue, error);
    if (kind === "denied") {
      throw new UserError(
        `Not allowed to send to ${queue.url} (${name}): ${describeError(error)}`,
        "Grant the compute environment's role sqs:SendMessage on the queue: run ./setup-sqs.ts, then ./check-sqs.ts.",
        { cause: error },
      );
    }
    if (kind === "kms") {
      throw new UserError(
        `The queue's KMS key refused the message (${name}): ${describeError(error)}`,
        "Grant the compute environment's role kms:GenerateDataKey and kms:Decrypt on the queue's key (./setup-sqs.ts does), and check that the key is enabled.",
        { cause: error },
      );
    }
    throw explainAwsError(error, region, HOOK_AWS_SETTINGS);
  }
}

function printBody(fitted: FittedMessage, log: Logger): void {
  log.result(`Message body (${fitted.bytes} bytes):`);
  log.result(JSON.stringify(fitted.message, null, 2));
}

/** The value with the logger's secrets masked in every string and key (a param may hold a token). */
function redactJson(value: Json, log: Logger): Json {
  if (typeof value === "string") return log.redact(value);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, log));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [log.redact(key), redactJson(item, log)]));
  }
  return value;
}
