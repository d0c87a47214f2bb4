import { randomBytes } from "node:crypto";
import { access, constants, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { TomlError, parse, stringify } from "smol-toml";
import { UserError } from "./errors.ts";

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
  const header = "# Written by setup-sqs.ts; read by check-sqs.ts, test-sqs.ts and the post-run tools.\n\n";
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
  return {
    sqs: {
      queue_url: requireString(sqs, "sqs", "queue_url", path)!,
      queue_arn: requireString(sqs, "sqs", "queue_arn", path)!,
      region: requireString(sqs, "sqs", "region", path)!,
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

/** Fails early, before anything else changes, when config.toml could not be written later. */
export async function assertConfigWritable(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  try {
    await access(dir, constants.W_OK);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "its directory does not exist" : "its directory is not writable";
    throw new UserError(`Cannot write ${path}: ${why}; nothing was changed.`, "Create the directory, or choose another file with --config PATH.", { cause: error });
  }
}
