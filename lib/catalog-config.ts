import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { UserError, describeError } from "./errors.ts";
import { explainRequestError } from "./request-errors.ts";
import { isRegion } from "./queue-address.ts";

/**
 * A catalog's origin (scheme, host and port; https:// added when missing) from whatever was given,
 * e.g. a URL pasted from the browser; `dropped` is the path, query or fragment left out.
 */
export function catalogOrigin(input: string): { url: string; dropped?: string } {
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
  const rest = `${url.pathname.replace(/^\/+$/, "")}${url.search}${url.hash}`;
  return { url: url.origin, ...(rest ? { dropped: rest } : {}) };
}

/** A catalog URL reduced to its origin: scheme (https:// added when missing), host and port. */
export function normalizeCatalogUrl(input: string): string {
  return catalogOrigin(input).url;
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

/** The most of `<catalog>/config.json` read: the real file is a few kilobytes. */
export const CATALOG_CONFIG_MAX_BYTES = 1024 * 1024;

/** A response body as text, or undefined when it is over `maxBytes` (the read stops there). */
async function readCapped(response: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The region a catalog runs in: the `region` key of `<catalog>/config.json`, read within `timeoutMs`
 * (answer and body together) and at most CATALOG_CONFIG_MAX_BYTES. Throws a UserError on a time-out,
 * a network failure, an HTTP error, a body too large or an answer that is not JSON with a region.
 */
export async function fetchCatalogRegion(catalogUrl: string, timeoutMs = 10_000, fetchImpl: typeof fetch = fetch): Promise<string> {
  const url = `${catalogUrl.replace(/\/+$/, "")}/config.json`;
  const hint = "Give the region with --region (e.g. --region us-east-1), or check the catalog URL.";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { name: "TimeoutError" })), timeoutMs);
  let response: Response;
  let text: string | undefined;
  try {
    response = await fetchImpl(url, { signal: controller.signal, headers: { accept: "application/json" } });
    text = response.ok ? await readCapped(response, CATALOG_CONFIG_MAX_BYTES) : "";
    if (!response.ok) await response.body?.cancel().catch(() => undefined);
  } catch (error) {
    if (controller.signal.aborted || (error as Error)?.name === "TimeoutError") {
      throw new UserError(`Could not read ${url}: no answer within ${timeoutMs / 1000} s.`, hint, { cause: error });
    }
    throw explainRequestError(error, url, hint) ?? new UserError(`Could not read ${url}: ${describeError(error)}.`, hint, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw new UserError(`${url} answered HTTP ${response.status}.`, hint);
  if (text === undefined) {
    throw new UserError(`${url} answered more than ${CATALOG_CONFIG_MAX_BYTES / 1024 / 1024} MB; a catalog's config.json is a few kilobytes. Is this a Quilt catalog?`, hint);
  }
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
