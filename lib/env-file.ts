import { chmod, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { readTextIfExists } from "./config-file.ts";
import { UserError } from "./errors.ts";

/** The default file of saved answers (and the access token): ./.env, kept out of git. */
export const DEFAULT_ENV_PATH = ".env";

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** KEY=VALUE lines of a .env file; `#` comments, `export`, and single or double quotes are understood. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const match = LINE.exec(raw);
    if (!match) continue;
    values[match[1]!] = unquote(match[2]!.trim());
  }
  return values;
}

function unquote(value: string): string {
  if (value.startsWith('"')) {
    const end = value.lastIndexOf('"');
    const inner = end > 0 ? value.slice(1, end) : value.slice(1);
    return inner.replace(/\\(["\\nt$])/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
  }
  if (value.startsWith("'")) {
    const end = value.lastIndexOf("'");
    return end > 0 ? value.slice(1, end) : value.slice(1);
  }
  return value.replace(/\s+#.*$/, "");
}

/** A value as .env text: bare when safe, else double-quoted with escapes. */
export function formatEnvValue(value: string): string {
  if (/^[A-Za-z0-9_./:@%+,=-]*$/.test(value)) return value;
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`).replaceAll("\n", "\\n")}"`;
}

/**
 * The .env text with `updates` applied: existing keys are rewritten in place, new ones appended,
 * other lines (comments, other keys) kept as they were, and so are the file's line endings (LF or CRLF).
 */
export function updateEnvText(text: string, updates: Record<string, string>): string {
  const pending = new Map(Object.entries(updates));
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text ? text.replace(/\r?\n$/, "").split(/\r?\n/) : [];
  const out = lines.map((raw) => {
    const key = LINE.exec(raw)?.[1];
    if (key === undefined || !pending.has(key)) return raw;
    const line = `${key}=${formatEnvValue(pending.get(key)!)}`;
    pending.delete(key);
    return line;
  });
  for (const [key, value] of pending) out.push(`${key}=${formatEnvValue(value)}`);
  return `${out.join(eol)}${eol}`;
}

/** Reads a .env file; a missing file is empty. */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  const text = await readEnvText(path);
  return text === undefined ? {} : parseEnvFile(text);
}

function readEnvText(path: string): Promise<string | undefined> {
  return readTextIfExists(path).catch((error: NodeJS.ErrnoException) => {
    throw unreadable(path, error);
  });
}

function unreadable(path: string, error: NodeJS.ErrnoException): UserError {
  const hint = "Give --env-file the path of a file (it need not exist yet), such as .env in the clone's top folder.";
  if (error.code === "EISDIR") return new UserError(`${path} is a directory, not a .env file.`, hint);
  if (error.code === "EACCES") return new UserError(`${path} cannot be read (permission denied).`, `Make it readable by you (chmod 600 ${path}), or give --env-file another file.`, { cause: error });
  return new UserError(`Cannot read ${path}: ${error.message}`, hint, { cause: error });
}

/**
 * Saves `updates` into the .env file at `path`, readable by its owner only (mode 0600, also when the
 * file existed with wider permissions). Written to a temporary file created 0600, then renamed.
 */
export async function saveEnvFile(path: string, updates: Record<string, string>): Promise<void> {
  const text = updateEnvText((await readEnvText(path)) ?? "", updates);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
    } finally {
      await handle.close();
    }
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new UserError(`Cannot write ${path}: ${(error as Error).message}`, "Check that its directory is writable, or choose another file with --env-file PATH.", { cause: error });
  }
}
