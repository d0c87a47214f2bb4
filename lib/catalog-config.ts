import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { UserError, describeError } from "./errors.ts";
import { isRegion } from "./queue-address.ts";

/** A catalog URL with a scheme (https:// added when missing) and without trailing slashes. */
export function normalizeCatalogUrl(input: string): string {
  let text = input.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `https://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`"${input}" is not a catalog URL.`, "Give it as https://<your catalog host>, e.g. --catalog https://quilt.example.com");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UserError(`"${input}" is not an http(s) URL.`, "Give the catalog as https://<your catalog host>.");
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/** Where quilt3 keeps config.yml (appdirs' user data dir for the app "Quilt"). */
export function quilt3ConfigPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME || homedir();
  if (platform === "darwin") return join(home, "Library", "Application Support", "Quilt", "config.yml");
  if (platform === "win32") return join(env.LOCALAPPDATA || join(home, "AppData", "Local"), "QuiltData", "Quilt", "config.yml");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "Quilt", "config.yml");
}

/** The `navigator_url` of a quilt3 config.yml (a flat YAML mapping); undefined when unset or null. */
export function parseNavigatorUrl(yamlText: string): string | undefined {
  for (const line of yamlText.split(/\r?\n/)) {
    const match = /^navigator_url\s*:\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    let value = match[1]!.replace(/\s+#.*$/, "");
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    if (!value || value === "null" || value === "~") return undefined;
    return value;
  }
  return undefined;
}

/** What `quilt3 config` prints when a catalog is set: its URL; undefined when quilt3 is missing or unset. */
export function runQuilt3Config(env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("quilt3", ["config"], { env, timeout: timeoutMs }, (error, stdout) => {
      if (error) return resolve(undefined);
      const url = stdout.split(/\s+/).find((w) => /^https?:\/\//.test(w));
      resolve(url);
    });
  });
}

/**
 * The catalog quilt3 is configured for: `quilt3 config` when quilt3 is installed, else its
 * config.yml. Returns the URL and where it came from, or undefined.
 */
export async function findQuilt3Catalog(env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; source: string } | undefined> {
  const fromCommand = await runQuilt3Config(env);
  if (fromCommand) return { url: fromCommand, source: "quilt3 config" };
  const path = quilt3ConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const url = parseNavigatorUrl(text);
  return url ? { url, source: path } : undefined;
}

/**
 * The region a catalog runs in: the `region` key of `<catalog>/config.json`. Throws a UserError
 * on a time-out, an HTTP error or an answer that is not JSON with a region.
 */
export async function fetchCatalogRegion(catalogUrl: string, timeoutMs = 10_000, fetchImpl: typeof fetch = fetch): Promise<string> {
  const url = `${catalogUrl.replace(/\/+$/, "")}/config.json`;
  const hint = "Give the region with --region (e.g. --region us-east-1), or check the catalog URL.";
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
    text = await response.text();
  } catch (error) {
    const why = (error as Error)?.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : describeError(error);
    throw new UserError(`Could not read ${url}: ${why}.`, hint, { cause: error });
  }
  if (!response.ok) throw new UserError(`${url} answered HTTP ${response.status}.`, hint);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new UserError(`${url} did not answer JSON (it starts with ${JSON.stringify(text.slice(0, 40))}); is this a Quilt catalog?`, hint);
  }
  const region = (config as { region?: unknown } | null)?.region;
  if (typeof region !== "string" || !isRegion(region)) {
    throw new UserError(`${url} has no valid "region" key.`, hint);
  }
  return region;
}
