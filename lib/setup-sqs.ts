import type { Readable } from "node:stream";
import { createSqsToolServices, type ServicesFactory, type SqsToolServices } from "./aws-services.ts";
import { catalogOrigin, findQuilt3Catalog, fetchCatalogRegion } from "./catalog-config.ts";
import { assertConfigWritable, formatConfig, writeConfig, type SqsConfig } from "./config-file.ts";
import { Logger, type Output } from "./console.ts";
import { UserError, describeError } from "./errors.ts";
import { findForgeRoles, readRolePolicies, type ForgeRole, type RolePolicies } from "./forge-roles.ts";
import { describeVerdict, evaluateAccess, hasCaveat, parsePolicyDocument, type AccessVerdict, type NamedPolicy } from "./iam-policy.ts";
import { KMS_ACTIONS, KMS_SID, SEND_ACTIONS, SEND_SID, planPolicyChange, type Grant, type PolicyChange } from "./policy-grant.ts";
import { createPrompter, type Prompter } from "./prompt.ts";
import { isRegion } from "./queue-address.ts";
import { findQueueKey, type QueueKey } from "./queue-details.ts";
import { explainAwsError } from "./request-errors.ts";
import { findQuiltStack, normalizeHost, queueFromStack } from "./quilt-stack.ts";

export interface SetupOptions {
  profile?: string;
  region?: string;
  catalog?: string;
  yes: boolean;
  dryRun: boolean;
  config: string;
  /** How long to wait for <catalog>/config.json. */
  catalogTimeoutMs?: number;
}

export interface CommandIo {
  input: Readable;
  output: Output;
  env: NodeJS.ProcessEnv;
}

/** What setup found about the queue and will write. */
export interface QueueTarget {
  catalogUrl: string;
  region: string;
  stackName: string;
  queueUrl: string;
  queueArn: string;
  queueOutput: string;
  accountId: string;
  key?: QueueKey;
}

/** One role's plan: nothing to do, a policy change, or blocked (an explicit Deny). */
export interface RolePlan {
  role: ForgeRole;
  verdicts: AccessVerdict[];
  change?: PolicyChange;
  policies: RolePolicies;
}

/** The permissions a role needs on the queue (and its customer-managed key). */
export function requiredAccess(target: Pick<QueueTarget, "queueArn" | "key">): Array<{ action: string; resource: string; grant: Grant }> {
  const send: Grant = { sid: SEND_SID, actions: SEND_ACTIONS, resource: target.queueArn };
  const needs = SEND_ACTIONS.map((action) => ({ action, resource: target.queueArn, grant: send }));
  if (target.key) {
    const kms: Grant = { sid: KMS_SID, actions: KMS_ACTIONS, resource: target.key.arn };
    needs.push(...KMS_ACTIONS.map((action) => ({ action, resource: target.key!.arn, grant: kms })));
  }
  return needs;
}

/** Evaluates every needed permission of one role. */
export function evaluateRole(policies: NamedPolicy[], target: Pick<QueueTarget, "queueArn" | "key">): AccessVerdict[] {
  return requiredAccess(target).map((need) => evaluateAccess(policies, need.action, need.resource));
}

/**
 * Plans one role: which grants its nextflow-policy needs. Throws a UserError when an explicit Deny
 * blocks a permission (a grant cannot help), when the tool's own statement was edited by hand (even
 * when no grant is needed), or when the change would exceed IAM's size limit.
 */
export function planRole(role: ForgeRole, policies: RolePolicies, target: Pick<QueueTarget, "queueArn" | "key">): RolePlan {
  const needs = requiredAccess(target);
  const verdicts = needs.map((need) => evaluateAccess(policies.policies, need.action, need.resource));
  const denied = verdicts.filter((v) => v.decision === "denied");
  if (denied.length) {
    throw new UserError(
      `Role ${role.name}: ${denied.map(describeVerdict).join("; ")}. A new Allow cannot override an explicit Deny; nothing was changed.`,
      "Remove or narrow that Deny statement in IAM, then run setup again.",
    );
  }
  const grants: Grant[] = [];
  needs.forEach((need, i) => {
    if (verdicts[i]!.decision !== "allowed" && !grants.includes(need.grant)) grants.push(need.grant);
  });
  const change = planPolicyChange(role.name, policies.inline, grants);
  return { role, verdicts, policies, ...(change ? { change } : {}) };
}

function catalogFrom(given: string, log: Logger): string {
  const { url, dropped } = catalogOrigin(given);
  if (dropped) log.info(`   using the catalog's origin ${url} (left out ${dropped})`);
  return url;
}

async function askCatalog(options: SetupOptions, prompter: Prompter, log: Logger, env: NodeJS.ProcessEnv): Promise<string> {
  if (options.catalog) return catalogFrom(options.catalog, log);
  const fromQuilt3 = await findQuilt3Catalog(env);
  if (fromQuilt3) {
    log.info(`   from ${fromQuilt3.source}`);
    return catalogFrom(fromQuilt3.url, log);
  }
  if (options.yes) {
    throw new UserError(
      "No catalog URL: --catalog was not given and quilt3 has no catalog configured.",
      "Give it with --catalog https://<your catalog host> (or run `quilt3 config https://<your catalog host>` once).",
    );
  }
  for (;;) {
    const answer = await prompter.ask("Quilt catalog URL (e.g. https://quilt.example.com)");
    if (answer) return catalogFrom(answer, log);
  }
}

async function askRegion(options: SetupOptions, catalogUrl: string, prompter: Prompter, log: Logger): Promise<string> {
  if (options.region) {
    if (!isRegion(options.region)) throw new UserError(`Invalid region "${options.region}".`, "A region looks like us-east-1 or eu-west-2.");
    return options.region;
  }
  try {
    const region = await fetchCatalogRegion(catalogUrl, options.catalogTimeoutMs ?? 10_000);
    log.info(`   from ${catalogUrl}/config.json`);
    return region;
  } catch (error) {
    if (options.yes || !(error instanceof UserError)) throw error;
    log.warn(describeError(error));
  }
  for (;;) {
    const answer = await prompter.ask("AWS region of the catalog (e.g. us-east-1)");
    if (isRegion(answer)) return answer;
    log.warn(`"${answer}" is not a region.`);
  }
}

/** Finds the stack, the queue and its key: everything setup learns before looking at roles. */
export async function discoverQueue(services: SqsToolServices, catalogUrl: string, region: string, log: Logger): Promise<QueueTarget> {
  log.step(`Finding the Quilt stack of ${catalogUrl} in ${region}`);
  const stack = await findQuiltStack(services.cloudFormation, catalogUrl, region);
  log.ok(`stack ${stack.name} (${stack.scanned} stack${stack.scanned === 1 ? "" : "s"} in ${stack.pages} page${stack.pages === 1 ? "" : "s"})`);
  if (stack.others.length) log.warn(`also serving ${normalizeHost(catalogUrl)}, left aside: ${stack.others.map((s) => `${s.name} (${s.status})`).join(", ")}`);
  const { queue, output } = queueFromStack(stack);
  log.step(`Reading the packager queue (stack output ${output})`);
  const attributes = await services.queue.getQueueAttributes(queue.url);
  const queueArn = attributes.QueueArn ?? queue.arn;
  if (!queueArn) throw new UserError(`The queue ${queue.url} did not say its ARN.`, "Check the queue in the SQS console.");
  const accountId = queueArn.split(":")[4] ?? queue.accountId;
  const key = await findQueueKey(services.queue, attributes, region, accountId);
  log.ok(`queue ${queueArn}${key ? `, encrypted with the customer-managed KMS key ${key.arn}` : ""}`);
  return { catalogUrl, region, stackName: stack.name, queueUrl: queue.url, queueArn, queueOutput: output, accountId, ...(key ? { key } : {}) };
}

function printSummary(log: Logger, target: QueueTarget, plans: RolePlan[]): void {
  log.result("");
  log.result("Summary");
  log.result(`  Catalog:    ${target.catalogUrl}`);
  log.result(`  Stack:      ${target.stackName}`);
  log.result(`  Region:     ${target.region}`);
  log.result(`  Account:    ${target.accountId}`);
  log.result(`  Queue URL:  ${target.queueUrl}`);
  log.result(`  Queue ARN:  ${target.queueArn}`);
  if (target.key) log.result(`  KMS key:    ${target.key.arn} (customer-managed: roles also need ${KMS_ACTIONS.join(", ")})`);
  log.result(`  Roles:      ${plans.length ? plans.map((p) => p.role.name).join(", ") : "(none)"}`);
  log.result("");
}

function configFor(target: QueueTarget, roles: string[]): SqsConfig {
  return {
    sqs: { queue_url: target.queueUrl, queue_arn: target.queueArn, region: target.region, ...(target.key ? { kms_key_arn: target.key.arn } : {}) },
    stack: { name: target.stackName, catalog_url: target.catalogUrl, account_id: target.accountId },
    roles: { updated: roles },
  };
}

/** Writes the planned policy, reads it back and checks that the role now has every permission. */
async function applyChange(services: SqsToolServices, plan: RolePlan, target: QueueTarget): Promise<void> {
  const change = plan.change!;
  await services.iam.putInlinePolicy(change.roleName, change.policyName, change.after);
  const written = await services.iam.getInlinePolicy(change.roleName, change.policyName);
  const where = `${change.policyName} of role ${change.roleName}`;
  if (written === undefined) throw new UserError(`After writing ${where}, IAM does not return it.`, "Check the role in the IAM console and run setup again.");
  const policies: NamedPolicy[] = [
    ...plan.policies.policies.filter((p) => !(p.kind === "inline" && p.name === change.policyName)),
    { name: change.policyName, kind: "inline", document: parsePolicyDocument(written, where) },
  ];
  const failed = evaluateRole(policies, target).filter((v) => v.decision !== "allowed");
  if (failed.length) {
    throw new UserError(`After writing ${where}, it still does not grant: ${failed.map(describeVerdict).join("; ")}.`, "Check the role in the IAM console and run setup again.");
  }
}

/**
 * Runs `work` with Ctrl-C deferred: the first Ctrl-C only sets the flag `work` checks between steps
 * (so no policy write is cut in half and what was done can be reported); a second one calls `onForce`.
 */
async function withCtrlCDeferred<T>(onFirst: () => void, onForce: () => void, work: (interrupted: () => boolean) => Promise<T>): Promise<T> {
  const saved = process.rawListeners("SIGINT") as Array<(...args: unknown[]) => void>;
  process.removeAllListeners("SIGINT");
  let count = 0;
  const onSigint = () => (++count === 1 ? onFirst() : onForce());
  process.on("SIGINT", onSigint);
  try {
    return await work(() => count > 0);
  } finally {
    process.removeListener("SIGINT", onSigint);
    for (const listener of saved) process.on("SIGINT", listener);
  }
}

/** What went wrong while writing policies, and which roles were changed before it. */
interface ApplyOutcome {
  changed: string[];
  failure?: unknown;
}

/** Writes each accepted plan in turn; stops at the first failure or Ctrl-C and says what was done. */
async function applyChanges(services: SqsToolServices, plans: RolePlan[], target: QueueTarget, log: Logger): Promise<ApplyOutcome> {
  const changed: string[] = [];
  if (!plans.length) return { changed };
  const doneSoFar = () => (changed.length ? `already changed: ${changed.join(", ")}` : "no role changed yet");
  return withCtrlCDeferred(
    () => log.warn(`Ctrl-C: stopping after the current policy write (${doneSoFar()}); Ctrl-C again to stop at once.`),
    () => {
      log.error(`Cancelled by user while writing policies; ${doneSoFar()}. config.toml was not written. Run setup again: it only does what is still missing.`);
      process.exit(1);
    },
    async (interrupted) => {
      for (const plan of plans) {
        if (interrupted()) return { changed, failure: new UserError("Cancelled by user while writing policies.") };
        try {
          await applyChange(services, plan, target);
        } catch (error) {
          return { changed, failure: error };
        }
        changed.push(plan.role.name);
        log.ok(`${plan.role.name}: ${plan.change!.policyName} updated and verified`);
      }
      return { changed };
    },
  );
}

/**
 * The error for a setup stopped partway through the policy writes: what failed, which roles were
 * already changed, whether config.toml was written for what is in place, and what to do.
 */
async function explainPartialSetup(failure: unknown, changed: string[], config: SqsConfig, configPath: string, region: string): Promise<UserError> {
  const explained = explainAwsError(failure, region);
  const base = explained instanceof UserError ? explained : new UserError(describeError(explained), undefined, { cause: failure });
  let configNote: string;
  try {
    const written = await writeConfig(config, configPath);
    const roles = config.roles.updated.join(", ") || "no role";
    configNote = `${configPath} was ${written ? "written" : "already up to date"} for what is in place now (roles holding the permission: ${roles}).`;
  } catch (error) {
    configNote = `${configPath} was not written: ${describeError(error)}`;
  }
  const done = changed.length ? `Roles already changed before it stopped: ${changed.join(", ")}.` : "No role was changed.";
  const hint = [base.hint, "Then run setup again: it is idempotent and only does what is still missing."].filter(Boolean).join("\n");
  return new UserError(`${base.message} ${done} ${configNote}`, hint, { cause: failure });
}

function printNextSteps(log: Logger, target: QueueTarget, configPath: string, dryRun: boolean): void {
  log.result("Next steps");
  if (dryRun) {
    log.result("  1. Run again without --dry-run to make these changes.");
    return;
  }
  log.result(`  1. Launch pipelines with --sqs_queue_url '${target.queueUrl}'`);
  log.result("  2. Set the post-run script of the launch (see README: post-run hook).");
  log.result(`  3. Verify everything: ./check-sqs.ts${configPath === "config.toml" ? "" : ` --config ${configPath}`}`);
}

/**
 * setup-sqs: find the catalog's queue, grant the Forge roles permission to send to it, write
 * config.toml. Returns the exit code.
 */
export async function runSetup(options: SetupOptions, io: CommandIo, factory: ServicesFactory = createSqsToolServices): Promise<number> {
  const log = new Logger(io.output, io.env);
  const prompter = createPrompter(io.input, io.output.err, "Give the answers as flags (--profile, --catalog, --region) and --yes to run without prompts.");
  let region: string | undefined;
  try {
    if (!options.dryRun) await assertConfigWritable(options.config);
    let profile = options.profile;
    if (!profile && !options.yes) {
      profile = (await prompter.ask("AWS profile (Enter for the default credential chain)")) || undefined;
    }
    log.step("Catalog");
    const catalogUrl = await askCatalog(options, prompter, log, io.env);
    log.ok(catalogUrl);
    log.step("Region");
    region = await askRegion(options, catalogUrl, prompter, log);
    log.ok(region);

    const services = factory(region, profile, io.env);
    await services.checkCredentials();
    const target = await discoverQueue(services, catalogUrl, region, log);

    log.step("Finding the Seqera Batch Forge roles");
    const found = await findForgeRoles(services.iam);
    log.ok(`${found.roles.length} Forge role${found.roles.length === 1 ? "" : "s"} among ${found.scanned} roles (${found.pages} page${found.pages === 1 ? "" : "s"})`);
    const managedCache = new Map<string, Promise<string>>();
    const policies = await Promise.all(found.roles.map((role) => readRolePolicies(services.iam, role.name, managedCache)));
    const plans = found.roles.flatMap((role, i) => (policies[i] ? [planRole(role, policies[i]!, target)] : []));

    printSummary(log, target, plans);
    if (!plans.length) {
      log.warn("No Seqera Batch Forge roles (TowerForge-<id>-FargateRole / -InstanceRole) in this account.");
      log.info("  Create an AWS Batch compute environment with Batch Forge in Seqera Platform, then run setup again.");
    }

    const holding = new Set<string>();
    const accepted: RolePlan[] = [];
    for (const plan of plans) {
      for (const verdict of plan.verdicts) if (hasCaveat(verdict)) log.warn(`${plan.role.name}: ${describeVerdict(verdict)}.`);
      if (!plan.change) {
        const plain = plan.verdicts.filter((v) => !hasCaveat(v)).map(describeVerdict);
        log.ok(`${plan.role.name} already has ${plan.verdicts.map((v) => v.action).join(", ")}${plain.length ? ` (${plain.join("; ")})` : ""}`);
        holding.add(plan.role.name);
        continue;
      }
      const change = plan.change;
      log.result(`${options.dryRun ? "Would change" : "Change"} role ${change.roleName}, inline policy ${change.policyName} (${change.inlineSizeAfter} of 10240 characters):`);
      for (const line of change.changes) log.result(`  - ${line}`);
      if (options.dryRun) {
        log.result(`  New document:\n${change.after.replace(/^/gm, "    ")}`);
        holding.add(change.roleName);
        continue;
      }
      if (options.yes || (await prompter.confirm(`Grant ${change.roleName} these permissions?`, true))) accepted.push(plan);
      else log.warn(`Skipped ${change.roleName}: it cannot send to the queue until you run setup again and accept.`);
    }

    const { changed, failure } = await applyChanges(services, accepted, target, log);
    for (const role of changed) holding.add(role);
    const config = configFor(target, plans.map((p) => p.role.name).filter((name) => holding.has(name)));
    if (failure) throw await explainPartialSetup(failure, changed, config, options.config, region);
    if (options.dryRun) {
      log.result(`\nWould write ${options.config}:\n${formatConfig(config).trimEnd().replace(/^/gm, "    ")}`);
      log.result("Dry run: nothing was changed.");
    } else {
      const written = await writeConfig(config, options.config);
      log.ok(written ? `Wrote ${options.config}` : `${options.config} is already up to date`);
    }
    log.result("");
    printNextSteps(log, target, options.config, options.dryRun);
    return 0;
  } catch (error) {
    throw explainAwsError(error, region);
  } finally {
    prompter.close();
  }
}

