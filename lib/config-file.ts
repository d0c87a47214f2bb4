import { randomBytes } from "node:crypto";
import { access, constants, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { TomlError, parse, stringify } from "smol-toml";
import { UserError, describeError } from "./errors.ts";
import { isRegion, parseQueueAddress, resolveQueueRegion, type QueueAddress } from "./queue-address.ts";

/** The default place of the file setup-sqs writes and the other tools read: ./config.toml. */
export const DEFAULT_CONFIG_PATH = "config.toml";

/** config.toml as setup-sqs writes it. */
export interface SqsConfig {
  sqs: {
    queue_url: string;
    queue_arn: string;
    region: string;
    /** ARN of the customer-managed KMS key the queue is encrypted with, when there is one. */
    kms_key_arn?: string;
  };
  stack: {
    name: string;
    catalog_url: string;
    account_id: string;
  };
  roles: {
    /** Forge roles that hold the permission to send to the queue (granted by setup or already there). */
    updated: string[];
  };
}

/** The TOML text of a configuration (smol-toml escapes every value). */
export function formatConfig(config: SqsConfig): string {
  const header = "# Written by setup-sqs.ts; read by check-sqs.ts and test-sqs.ts (the post-run hook reads the run's params, not this file).\n\n";
  const ordered = {
    sqs: { queue_url: config.sqs.queue_url, queue_arn: config.sqs.queue_arn, region: config.sqs.region, ...(config.sqs.kms_key_arn ? { kms_key_arn: config.sqs.kms_key_arn } : {}) },
    stack: { name: config.stack.name, catalog_url: config.stack.catalog_url, account_id: config.stack.account_id },
    roles: { updated: [...config.roles.updated] },
  };
  return `${header}${stringify(ordered)}\n`;
}

function requireString(table: Record<string, unknown>, section: string, key: string, path: string, optional = false): string | undefined {
  const value = table[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== "string" || !value.trim()) {
    throw new UserError(
      `${path}: ${value === undefined ? "missing" : "invalid"} key ${section}.${key}${value === undefined ? "" : " (expected a non-empty string)"}.`,
      "Run setup-sqs.ts again to rewrite the file, or fix that key (see config.toml.example).",
    );
  }
  return value;
}

function requireTable(root: Record<string, unknown>, section: string, path: string): Record<string, unknown> {
  const table = root[section];
  if (!table || typeof table !== "object" || Array.isArray(table)) {
    throw new UserError(`${path}: missing section [${section}].`, "Run setup-sqs.ts again to rewrite the file (see config.toml.example).");
  }
  return table as Record<string, unknown>;
}

/** Checks sqs.queue_url and sqs.region: a queue address, a region, and the same region as the queue's own. */
function checkQueueRegion(queueUrl: string, region: string, path: string): void {
  const fix = "Run setup-sqs.ts again to rewrite the file, or fix that key (see config.toml.example).";
  let queue: QueueAddress;
  try {
    queue = parseQueueAddress(queueUrl);
  } catch (error) {
    throw new UserError(`${path}: invalid key sqs.queue_url: ${describeError(error)}`, fix, { cause: error });
  }
  if (!isRegion(region)) throw new UserError(`${path}: invalid key sqs.region: "${region}" is not a region (a region looks like us-east-1).`, fix);
  try {
    resolveQueueRegion(queue, region);
  } catch (error) {
    throw new UserError(`${path}: key sqs.region = "${region}" contradicts sqs.queue_url, which is in ${queue.region}.`, `Set sqs.region = "${queue.region}", or run setup-sqs.ts again to rewrite the file.`, { cause: error });
  }
}

/** Parses and checks config.toml text; errors name the line or the key that is wrong. */
export function parseConfig(text: string, path = DEFAULT_CONFIG_PATH): SqsConfig {
  let root: Record<string, unknown>;
  try {
    root = parse(text) as Record<string, unknown>;
  } catch (error) {
    const where = error instanceof TomlError ? `line ${error.line}, column ${error.column}` : "";
    const first = (error as Error).message.split("\n")[0];
    throw new UserError(`${path} is not valid TOML${where ? ` (${where})` : ""}: ${first}`, "Fix that line, or run setup-sqs.ts again to rewrite the file.");
  }
  const sqs = requireTable(root, "sqs", path);
  const stack = requireTable(root, "stack", path);
  const roles = requireTable(root, "roles", path);
  const updated = roles.updated ?? [];
  if (!Array.isArray(updated) || !updated.every((r) => typeof r === "string")) {
    throw new UserError(`${path}: invalid key roles.updated (expected a list of role names).`, "Run setup-sqs.ts again to rewrite the file.");
  }
  const kmsKeyArn = requireString(sqs, "sqs", "kms_key_arn", path, true);
  const queueUrl = requireString(sqs, "sqs", "queue_url", path)!;
  const region = requireString(sqs, "sqs", "region", path)!;
  checkQueueRegion(queueUrl, region, path);
  return {
    sqs: {
      queue_url: queueUrl,
      queue_arn: requireString(sqs, "sqs", "queue_arn", path)!,
      region,
      ...(kmsKeyArn ? { kms_key_arn: kmsKeyArn } : {}),
    },
    stack: {
      name: requireString(stack, "stack", "name", path)!,
      catalog_url: requireString(stack, "stack", "catalog_url", path)!,
      account_id: requireString(stack, "stack", "account_id", path)!,
    },
    roles: { updated: updated as string[] },
  };
}

/** Reads config.toml; a missing file tells the user to run setup first. */
export async function readConfig(path = DEFAULT_CONFIG_PATH): Promise<SqsConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UserError(`No configuration at ${resolve(path)}.`, "Run ./setup-sqs.ts first (or give the file with --config PATH).");
    }
    throw new UserError(`Cannot read ${path}: ${(error as Error).message}`, "Check the file's permissions, or give another file with --config PATH.");
  }
  return parseConfig(text, path);
}

/** The current text of a file, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Writes config.toml atomically: a temporary file in the same directory, then a rename, so a
 * reader never sees half a file. Returns false when the file already held exactly this text.
 */
export async function writeConfig(config: SqsConfig, path = DEFAULT_CONFIG_PATH): Promise<boolean> {
  const text = formatConfig(config);
  if ((await readTextIfExists(path)) === text) return false;
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text, { encoding: "utf8", mode: 0o644, flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new UserError(`Cannot write ${path}: ${(error as Error).message}`, "Check that its directory exists and is writable, or choose another file with --config PATH.", { cause: error });
  }
  return true;
}

/**
 * Fails early, before anything else changes, when config.toml could not be written later: an empty
 * path, a directory, a parent that is missing or not a directory, or a file or parent not writable.
 */
export async function assertConfigWritable(path: string): Promise<void> {
  const refuse = (why: string, hint: string, cause?: unknown): never => {
    throw new UserError(`Cannot write the configuration to "${path}": ${why}; nothing was changed.`, hint, cause === undefined ? undefined : { cause });
  };
  const another = "choose another file with --config PATH (default: config.toml in the current directory).";
  const elseAnother = (first: string) => `${first}, or ${another}`;
  if (!path.trim()) refuse("the path is empty", elseAnother("Give a file name"));
  const target = resolve(path);
  const existing = await stat(target).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" || error.code === "ENOTDIR" ? undefined : refuse(`cannot look at it (${error.code ?? error.message})`, elseAnother("Check the path"), error)));
  if (existing?.isDirectory()) refuse("it is a directory", `Give a file name, e.g. --config ${join(path, DEFAULT_CONFIG_PATH)}`);
  if (existing && !existing.isFile()) refuse("it is not a regular file", elseAnother("Give a regular file"));
  const dir = dirname(target);
  const parent = await stat(dir).catch((error: NodeJS.ErrnoException) =>
    refuse(error.code === "ENOENT" || error.code === "ENOTDIR" ? `its directory ${dir} does not exist` : `cannot look at its directory (${error.code ?? error.message})`, elseAnother("Create the directory"), error),
  );
  if (!parent.isDirectory()) refuse(`${dir} is not a directory`, elseAnother("Check the path"));
  await access(dir, constants.W_OK).catch((error) => refuse(`its directory ${dir} is not writable`, elseAnother("Fix the directory's permissions"), error));
  if (existing) await access(target, constants.W_OK).catch((error) => refuse("the file is not writable", elseAnother("Fix the file's permissions"), error));
}
