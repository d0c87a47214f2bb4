import { createSqsToolServices, type ServicesFactory, type SqsToolServices } from "./aws-services.ts";
import { readConfig, type SqsConfig } from "./config-file.ts";
import { Logger, paint, useColour, type Output } from "./console.ts";
import { UserError, describeError } from "./errors.ts";
import { readRolePolicies } from "./forge-roles.ts";
import { describeVerdict, evaluateAccess } from "./iam-policy.ts";
import { KMS_ACTIONS, SEND_ACTIONS } from "./policy-grant.ts";
import { parseQueueAddress } from "./queue-address.ts";
import { findQueueKey, type QueueKey } from "./queue-details.ts";
import { QUEUE_OUTPUTS } from "./quilt-stack.ts";
import { explainAwsError } from "./request-errors.ts";

export interface CheckOptions {
  profile?: string;
  config: string;
  send: boolean;
  json: boolean;
  verbose: boolean;
}

export type CheckStatus = "pass" | "fail" | "warn" | "skip";

/** One check and what it actually found. A failed required check makes check-sqs exit 1. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  required: boolean;
  detail: string;
  hint?: string;
  data?: Record<string, unknown>;
}

export interface CheckReport {
  ok: boolean;
  config: string;
  checks: CheckResult[];
}

function fromError(error: unknown, region: string): { detail: string; hint?: string } {
  const explained = explainAwsError(error, region);
  return { detail: describeError(explained), ...(explained instanceof UserError && explained.hint ? { hint: explained.hint } : {}) };
}

async function checkQueue(services: SqsToolServices, config: SqsConfig, verbose: boolean): Promise<{ result: CheckResult; attributes?: Record<string, string> }> {
  const base = { id: "queue", title: "Queue answers", required: true };
  try {
    const attributes = await services.queue.getQueueAttributes(config.sqs.queue_url);
    if (attributes.QueueArn && attributes.QueueArn !== config.sqs.queue_arn) {
      return {
        attributes,
        result: { ...base, status: "fail", detail: `${config.sqs.queue_url} is the queue ${attributes.QueueArn}, but config.toml says ${config.sqs.queue_arn}`, hint: "Run setup-sqs.ts again to rewrite config.toml." },
      };
    }
    const waiting = attributes.ApproximateNumberOfMessages ?? "?";
    const encryption = attributes.KmsMasterKeyId ? `KMS key ${attributes.KmsMasterKeyId}` : attributes.SqsManagedSseEnabled === "true" ? "SQS-managed encryption" : "no encryption";
    return {
      attributes,
      result: {
        ...base,
        status: "pass",
        detail: `${attributes.QueueArn ?? config.sqs.queue_arn}: ${waiting} message(s) waiting, maximum message size ${attributes.MaximumMessageSize ?? "?"} bytes, ${encryption}`,
        ...(verbose ? { data: { attributes } } : {}),
      },
    };
  } catch (error) {
    return {
      result: {
        ...base,
        status: "fail",
        ...fromError(error, config.sqs.region),
        hint: `${fromError(error, config.sqs.region).hint ?? ""}\nLikely causes: the stack was replaced or deleted; the profile is in another account (--profile); the region in config.toml (${config.sqs.region}) is wrong.`.trim(),
      },
    };
  }
}

async function checkStack(services: SqsToolServices, config: SqsConfig, verbose: boolean): Promise<CheckResult> {
  const base = { id: "stack", title: `Stack ${config.stack.name}`, required: false };
  try {
    const stack = await services.cloudFormation.describeStack(config.stack.name);
    if (!stack || stack.status === "DELETE_COMPLETE") {
      return { ...base, status: "warn", detail: `the stack ${config.stack.name} no longer exists in ${config.sqs.region}`, hint: "If the catalog moved to a new stack, run setup-sqs.ts again." };
    }
    const data = verbose ? { data: { status: stack.status, outputs: stack.outputs } } : {};
    const named = QUEUE_OUTPUTS.flatMap((key) => (stack.outputs[key] ? [{ key, value: stack.outputs[key]! }] : []));
    const pointsHere = named.some(({ value }) => {
      try {
        const q = parseQueueAddress(value);
        return q.arn === config.sqs.queue_arn || q.url === config.sqs.queue_url;
      } catch {
        return false;
      }
    });
    if (!pointsHere) {
      return {
        ...base,
        status: "warn",
        detail: `${stack.status}, but its outputs name ${named.map((n) => `${n.key}=${n.value}`).join(", ") || "no packager queue"}, not ${config.sqs.queue_arn}`,
        hint: "Run setup-sqs.ts again to use the stack's current queue.",
        ...data,
      };
    }
    const healthy = /_COMPLETE$/.test(stack.status) && !/ROLLBACK|DELETE/.test(stack.status);
    return { ...base, status: healthy ? "pass" : "warn", detail: `${stack.status}; its outputs name this queue`, ...data };
  } catch (error) {
    return { ...base, status: "warn", ...fromError(error, config.sqs.region) };
  }
}

async function checkRoles(services: SqsToolServices, config: SqsConfig, key: QueueKey | undefined): Promise<CheckResult[]> {
  if (!config.roles.updated.length) {
    return [{ id: "roles", title: "Forge roles", required: false, status: "warn", detail: "config.toml lists no roles (roles.updated is empty)", hint: "Create a Batch Forge compute environment in Seqera Platform, then run setup-sqs.ts again." }];
  }
  const cache = new Map<string, Promise<string>>();
  return Promise.all(
    config.roles.updated.map(async (roleName): Promise<CheckResult> => {
      const base = { id: `role:${roleName}`, title: `Role ${roleName}`, required: true };
      try {
        const role = await readRolePolicies(services.iam, roleName, cache);
        if (!role) return { ...base, status: "fail", detail: "the role no longer exists", hint: "Run setup-sqs.ts again (the compute environment may have been recreated)." };
        const needs = SEND_ACTIONS.map((a) => [a, config.sqs.queue_arn] as const);
        if (key) needs.push(...KMS_ACTIONS.map((a) => [a, key.arn] as const));
        const verdicts = needs.map(([action, resource]) => evaluateAccess(role.policies, action, resource));
        const missing = verdicts.filter((v) => v.decision !== "allowed");
        const detail = verdicts.map(describeVerdict).join("; ");
        if (missing.length) {
          return {
            ...base,
            status: "fail",
            detail,
            hint: missing.some((v) => v.decision === "denied") ? "Remove the Deny statement in IAM, then run setup-sqs.ts again." : "Run setup-sqs.ts again to grant it.",
          };
        }
        return { ...base, status: verdicts.some((v) => v.conditionalDenies.length) ? "warn" : "pass", detail };
      } catch (error) {
        return { ...base, status: "fail", ...fromError(error, config.sqs.region) };
      }
    }),
  );
}

async function checkKey(services: SqsToolServices, config: SqsConfig, attributes: Record<string, string> | undefined): Promise<{ result: CheckResult; key?: QueueKey }> {
  const base = { id: "kms", title: "Queue encryption key", required: true };
  if (!attributes) {
    if (!config.sqs.kms_key_arn) return { result: { ...base, required: false, status: "skip", detail: "queue unreachable; config.toml names no KMS key" } };
    const key = { keyId: config.sqs.kms_key_arn, arn: config.sqs.kms_key_arn, customerManaged: true };
    return { key, result: { ...base, required: false, status: "skip", detail: `queue unreachable; checking roles against the key in config.toml, ${key.arn}` } };
  }
  try {
    const accountId = config.sqs.queue_arn.split(":")[4] ?? config.stack.account_id;
    const key = await findQueueKey(services.queue, attributes, config.sqs.region, accountId);
    if (!key) return { result: { ...base, required: false, status: "pass", detail: "the queue is not encrypted with a customer-managed KMS key: no KMS permission needed" } };
    const note = config.sqs.kms_key_arn && config.sqs.kms_key_arn !== key.arn ? ` (config.toml says ${config.sqs.kms_key_arn}: run setup-sqs.ts again)` : "";
    return { key, result: { ...base, status: "pass", detail: `customer-managed key ${key.arn}: roles need ${KMS_ACTIONS.join(", ")} on it${note}` } };
  } catch (error) {
    return { result: { ...base, status: "fail", ...fromError(error, config.sqs.region) } };
  }
}

async function checkSend(services: SqsToolServices, config: SqsConfig, queueOk: boolean): Promise<CheckResult> {
  const base = { id: "send", title: "Test message", required: true };
  if (!queueOk) return { ...base, required: false, status: "skip", detail: "not sent: the queue did not answer" };
  const body = JSON.stringify({ test: true, timestamp: new Date().toISOString(), source: "check-sqs" });
  try {
    const fifo = parseQueueAddress(config.sqs.queue_url).fifo;
    const messageId = await services.queue.sendMessage(config.sqs.queue_url, body, fifo);
    return { ...base, status: "pass", detail: `sent ${body} as message ${messageId}`, data: { messageId, body } };
  } catch (error) {
    return { ...base, status: "fail", ...fromError(error, config.sqs.region) };
  }
}

/** Runs every check against AWS; never throws for a failed check, only records it. */
export async function runChecks(services: SqsToolServices, config: SqsConfig, options: Pick<CheckOptions, "send" | "verbose">, configPath: string): Promise<CheckReport> {
  const [queue, stack] = await Promise.all([checkQueue(services, config, options.verbose), checkStack(services, config, options.verbose)]);
  const kms = await checkKey(services, config, queue.attributes);
  const roles = await checkRoles(services, config, kms.key);
  const send = options.send
    ? await checkSend(services, config, queue.result.status === "pass")
    : { id: "send", title: "Test message", required: false, status: "skip" as const, detail: "not sent (--no-send)" };
  const checks = [queue.result, stack, kms.result, ...roles, send];
  return { ok: !checks.some((c) => c.required && c.status === "fail"), config: configPath, checks };
}

const SYMBOLS: Record<CheckStatus, { mark: string; style: "green" | "red" | "yellow" | "dim" }> = {
  pass: { mark: "✓", style: "green" },
  fail: { mark: "✗", style: "red" },
  warn: { mark: "!", style: "yellow" },
  skip: { mark: "-", style: "dim" },
};

function printReport(report: CheckReport, config: SqsConfig, output: Output, env: NodeJS.ProcessEnv, verbose: boolean): void {
  const log = new Logger(output, env);
  const colour = useColour(output.out, env);
  log.result("Configuration");
  log.result(`  File:       ${report.config}`);
  log.result(`  Queue URL:  ${config.sqs.queue_url}`);
  log.result(`  Queue ARN:  ${config.sqs.queue_arn}`);
  log.result(`  Region:     ${config.sqs.region}`);
  if (config.sqs.kms_key_arn) log.result(`  KMS key:    ${config.sqs.kms_key_arn}`);
  log.result(`  Stack:      ${config.stack.name} (account ${config.stack.account_id})`);
  log.result(`  Catalog:    ${config.stack.catalog_url}`);
  log.result(`  Roles:      ${config.roles.updated.join(", ") || "(none)"}`);
  log.result("");
  log.result("Checks");
  for (const check of report.checks) {
    const symbol = SYMBOLS[check.status];
    log.result(`  ${paint(symbol.mark, symbol.style, colour)} ${check.title}: ${check.detail}`);
    if (check.hint && (check.status === "fail" || check.status === "warn")) log.result(`      ${check.hint.replaceAll("\n", "\n      ")}`);
    if (verbose && check.data) {
      for (const [name, value] of Object.entries(check.data)) {
        if (value && typeof value === "object") {
          log.result(`      ${name}:`);
          for (const [k, v] of Object.entries(value)) log.result(`        ${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`);
        } else log.result(`      ${name}: ${String(value)}`);
      }
    }
  }
  log.result("");
  const failed = report.checks.filter((c) => c.required && c.status === "fail");
  if (report.ok) {
    log.result(paint("All required checks passed.", "green", colour));
    log.result("");
    log.result("Next steps");
    log.result(`  Launch pipelines with --sqs_queue_url '${config.sqs.queue_url}' and the post-run line (README)`);
    log.result(`  Messages waiting (the catalog's packager takes them; receiving them yourself would take them from it):`);
    log.result(`    aws sqs get-queue-attributes --queue-url '${config.sqs.queue_url}' --region ${config.sqs.region} --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible`);
  } else {
    log.result(paint(`${failed.length} required check${failed.length === 1 ? "" : "s"} failed: ${failed.map((c) => c.title).join(", ")}.`, "red", colour));
  }
}

/** check-sqs: re-verifies config.toml against AWS. Returns 0 when every required check holds, else 1. */
export async function runCheck(options: CheckOptions, io: { output: Output; env: NodeJS.ProcessEnv }, factory: ServicesFactory = createSqsToolServices): Promise<number> {
  /** A stop before the checks (config, credentials): as JSON with --json, else thrown for runCommand to print. */
  const stop = (id: string, title: string, error: unknown): number => {
    if (!options.json || !(error instanceof UserError)) throw error;
    const check: CheckResult = { id, title, required: true, status: "fail", detail: error.message, ...(error.hint ? { hint: error.hint } : {}) };
    io.output.out.write(`${JSON.stringify({ ok: false, config: options.config, checks: [check] }, null, 2)}\n`);
    return 1;
  };
  let config: SqsConfig;
  try {
    config = await readConfig(options.config);
  } catch (error) {
    return stop("config", "Configuration", error);
  }
  const services = factory(config.sqs.region, options.profile, io.env);
  try {
    await services.checkCredentials();
  } catch (error) {
    return stop("credentials", "AWS credentials", error);
  }
  const report = await runChecks(services, config, options, options.config);
  if (options.json) io.output.out.write(`${JSON.stringify(report, null, 2)}\n`);
  else printReport(report, config, io.output, io.env, options.verbose);
  return report.ok ? 0 : 1;
}
