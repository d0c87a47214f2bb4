import type { Readable } from "node:stream";
import { explainCredentialsError } from "./aws-clients.ts";
import { createSqsToolServices, type ServicesFactory, type SqsToolServices } from "./aws-services.ts";
import { findQuilt3Catalog, fetchCatalogRegion, normalizeCatalogUrl } from "./catalog-config.ts";
import { assertConfigWritable, formatConfig, writeConfig, type SqsConfig } from "./config-file.ts";
import { Logger, type Output } from "./console.ts";
import { UserError, describeError } from "./errors.ts";
import { findForgeRoles, readRolePolicies, type ForgeRole, type RolePolicies } from "./forge-roles.ts";
import { describeVerdict, evaluateAccess, parsePolicyDocument, type AccessVerdict, type NamedPolicy } from "./iam-policy.ts";
import { KMS_ACTIONS, KMS_SID, SEND_ACTIONS, SEND_SID, planPolicyChange, type Grant, type PolicyChange } from "./policy-grant.ts";
import { createPrompter, type Prompter } from "./prompt.ts";
import { isRegion } from "./queue-address.ts";
import { findQueueKey, type QueueKey } from "./queue-details.ts";
import { findQuiltStack, queueFromStack } from "./quilt-stack.ts";

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
 * blocks a permission (a grant cannot help) or when the change would exceed IAM's size limit.
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
  const change = grants.length ? planPolicyChange(role.name, policies.inline, grants) : undefined;
  return { role, verdicts, policies, ...(change ? { change } : {}) };
}

async function askCatalog(options: SetupOptions, prompter: Prompter, log: Logger, env: NodeJS.ProcessEnv): Promise<string> {
  if (options.catalog) return normalizeCatalogUrl(options.catalog);
  const fromQuilt3 = await findQuilt3Catalog(env);
  if (fromQuilt3) {
    log.info(`   from ${fromQuilt3.source}`);
    return normalizeCatalogUrl(fromQuilt3.url);
  }
  if (options.yes) {
    throw new UserError(
      "No catalog URL: --catalog was not given and quilt3 has no catalog configured.",
      "Give it with --catalog https://<your catalog host> (or run `quilt3 config https://<your catalog host>` once).",
    );
  }
  for (;;) {
    const answer = await prompter.ask("Quilt catalog URL (e.g. https://quilt.example.com)");
    if (answer) return normalizeCatalogUrl(answer);
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
  log.ok(`stack ${stack.name} (${stack.scanned} stacks in ${stack.pages} page${stack.pages === 1 ? "" : "s"})`);
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

function printNextSteps(log: Logger, target: QueueTarget, configPath: string, dryRun: boolean): void {
  log.result("Next steps");
  if (dryRun) {
    log.result("  1. Run again without --dry-run to make these changes.");
    return;
  }
  log.result(`  1. Launch pipelines with --params.sqs_queue_url '${target.queueUrl}'`);
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
    const region = await askRegion(options, catalogUrl, prompter, log);
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

    const withPermission: string[] = [];
    for (const plan of plans) {
      for (const verdict of plan.verdicts) {
        if (verdict.conditionalAllows.length && verdict.decision !== "allowed") log.warn(`${plan.role.name}: ${describeVerdict(verdict)}.`);
        if (verdict.conditionalDenies.length) log.warn(`${plan.role.name}: ${describeVerdict(verdict)}.`);
      }
      if (!plan.change) {
        log.ok(`${plan.role.name} already has ${plan.verdicts.map((v) => v.action).join(", ")} (${plan.verdicts.map(describeVerdict).join("; ")})`);
        withPermission.push(plan.role.name);
        continue;
      }
      const change = plan.change;
      log.result(`${options.dryRun ? "Would change" : "Change"} role ${change.roleName}, inline policy ${change.policyName} (${change.inlineSizeAfter} of 10240 characters):`);
      for (const line of change.changes) log.result(`  - ${line}`);
      if (options.dryRun) {
        log.result(`  New document:\n${change.after.replace(/^/gm, "    ")}`);
        withPermission.push(change.roleName);
        continue;
      }
      const go = options.yes || (await prompter.confirm(`Grant ${change.roleName} these permissions?`, true));
      if (!go) {
        log.warn(`Skipped ${change.roleName}: it cannot send to the queue until you run setup again and accept.`);
        continue;
      }
      await applyChange(services, plan, target);
      log.ok(`${change.roleName}: ${change.policyName} updated and verified`);
      withPermission.push(change.roleName);
    }

    const config = configFor(target, withPermission);
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
    throw error instanceof UserError ? error : explainCredentialsError(error);
  } finally {
    prompter.close();
  }
}

