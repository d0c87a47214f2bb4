import { UserError } from "./errors.ts";

/** Seqera Platform's public API; Enterprise installations serve it under https://<host>/api. */
export const DEFAULT_SEQERA_ENDPOINT = "https://api.cloud.seqera.io";

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Connection failures that happen before a request is sent. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

export interface SeqeraApiOptions {
  endpoint?: string;
  token: string;
  /** Used once, on a 401, to get a new access token (Seqera gives post-run scripts TOWER_REFRESH_TOKEN). */
  refreshToken?: string;
  workspaceId?: string;
  /** Per-request time-out. */
  timeoutMs?: number;
  /** Attempts per request, for 429/502/503/504 and connection errors. */
  maxAttempts?: number;
  /** First back-off delay; doubles per attempt, with jitter. */
  backoffMs?: number;
  onRetry?: (event: { path: string; attempt: number; reason: string; delayMs: number }) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** An API answer that is not 2xx, sorted into what the user can do about it. */
export class SeqeraApiError extends UserError {
  constructor(
    readonly status: number,
    message: string,
    hint: string,
  ) {
    super(message, hint);
  }
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Normalises TOWER_API_ENDPOINT: an http(s) URL without a trailing slash. */
export function normaliseEndpoint(endpoint: string | undefined): string {
  const value = (endpoint?.trim() || DEFAULT_SEQERA_ENDPOINT).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(
      `TOWER_API_ENDPOINT "${value}" is not a URL.`,
      `Use ${DEFAULT_SEQERA_ENDPOINT} for Seqera Cloud, or https://<your-host>/api for Seqera Enterprise.`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UserError(`TOWER_API_ENDPOINT "${value}" is not an http(s) URL.`, `Use ${DEFAULT_SEQERA_ENDPOINT}.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new UserError(
      "TOWER_API_ENDPOINT must be a plain URL, without user name, password, query or fragment.",
      `Use ${DEFAULT_SEQERA_ENDPOINT}, or https://<your-host>/api for Seqera Enterprise; the access token goes in TOWER_ACCESS_TOKEN.`,
    );
  }
  return value;
}

/**
 * A small client for the Seqera Platform REST API: bearer auth, a time-out on every call,
 * bounded retries with back-off, one token refresh on 401. The token never appears in errors.
 */
export class SeqeraApi {
  readonly endpoint: string;
  private token: string;
  private refreshToken: string | undefined;
  private readonly options: SeqeraApiOptions;

  constructor(options: SeqeraApiOptions) {
    this.options = options;
    this.endpoint = normaliseEndpoint(options.endpoint);
    // A token goes into an HTTP header; one with spaces or line breaks would be refused there, and
    // the HTTP library's message would quote it.
    if (!/^[\x21-\x7e]+$/.test(options.token)) {
      throw new UserError(
        "The Seqera access token contains characters a token cannot have (a space, a line break or a non-ASCII character).",
        "Copy the token again from Seqera Platform (user menu > Access tokens), without quotes or line breaks.",
      );
    }
    this.token = options.token;
    this.refreshToken = options.refreshToken || undefined;
  }

  get workspaceId(): string | undefined {
    return this.options.workspaceId || undefined;
  }

  /** The same client (options, retry reporting, current token) for another workspace. */
  inWorkspace(workspaceId: string | undefined): SeqeraApi {
    return new SeqeraApi({ ...this.options, token: this.token, refreshToken: this.refreshToken, workspaceId });
  }

  /** GET a JSON document; `workspaceId` is added to the query when the client has one. */
  async get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>("GET", path, { query });
  }

  async post<T>(path: string, body: unknown, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>("POST", path, { query, body });
  }

  async request<T>(
    method: string,
    path: string,
    { query = {}, body }: { query?: Record<string, string | number | undefined>; body?: unknown } = {},
  ): Promise<T> {
    const response = await this.respond(method, path, { query, body });
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SeqeraApiError(
        response.status,
        `Seqera Platform answered ${path} with something that is not JSON.`,
        `Check TOWER_API_ENDPOINT (${this.endpoint}): it must be the API URL, e.g. ${DEFAULT_SEQERA_ENDPOINT} or https://<host>/api, not the web app's.`,
      );
    }
  }

  /** GET a text document (e.g. /workflow/{id}/download?fileName=nf-{id}.txt), with the same retries, refresh and errors. */
  async getText(path: string, query: Record<string, string | number | undefined> = {}): Promise<string> {
    const response = await this.respond("GET", path, { query, accept: "text/plain, */*" });
    return response.text();
  }

  /** A 2xx response, after retries and at most one token refresh; anything else is thrown as a SeqeraApiError. */
  private async respond(
    method: string,
    path: string,
    { query = {}, body, accept }: { query?: Record<string, string | number | undefined>; body?: unknown; accept?: string },
  ): Promise<Response> {
    const url = new URL(`${this.endpoint}${path}`);
    const params = { workspaceId: this.workspaceId, ...query };
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
    let retriedAfter401 = false;
    for (;;) {
      const usedToken = this.token;
      const response = await this.send(method, url, path, body, accept);
      if (response.status === 401 && !retriedAfter401 && (this.token !== usedToken || this.canRefresh())) {
        retriedAfter401 = true;
        await response.body?.cancel();
        if (this.token === usedToken) await this.refreshOnce();
        continue;
      }
      if (!response.ok) throw await this.explain(response, path);
      return response;
    }
  }

  /** One request with retries on 429/502/503/504, time-outs and connection errors. */
  private async send(method: string, url: URL, path: string, body: unknown, accept = "application/json"): Promise<Response> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 5);
    const sleep = this.options.sleep ?? sleepFor;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(url, {
          method,
          headers: {
            Authorization: `Bearer ${this.token}`,
            Accept: accept,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 20_000),
        });
        // A POST that got 502/503/504 may have been carried out (a launch would start twice): only
        // 429, which says the request was refused, is retried for it.
        const retryable = method === "GET" ? RETRYABLE_STATUS.has(response.status) : response.status === 429;
        if (!retryable) {
          // The body is read here, inside the time-out and the retries: a stalled body is retried too.
          const text = await response.text();
          const empty = response.status === 204 || response.status === 205 || response.status === 304;
          return new Response(empty ? null : text, { status: response.status, statusText: response.statusText, headers: response.headers });
        }
        reason = `HTTP ${response.status}`;
        retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        await response.body?.cancel();
        if (attempt >= maxAttempts) {
          throw new SeqeraApiError(
            response.status,
            `Seqera Platform kept answering ${path} with HTTP ${response.status} (${attempt} attempts).`,
            response.status === 429
              ? "The API rate limit (20 calls per second per token) was hit; wait a minute and run again."
              : `The API at ${this.endpoint} is unavailable; check https://status.seqera.io and run again later.`,
          );
        }
      } catch (error) {
        if (error instanceof SeqeraApiError) throw error;
        reason = connectionProblem(error);
        // Likewise a POST is retried only when it cannot have arrived (no connection was made).
        const unsent = method === "GET" || NOT_SENT.has(reason);
        if (attempt >= maxAttempts || !unsent) {
          throw new UserError(
            `Could not reach Seqera Platform at ${this.endpoint} (${reason}, ${attempt} attempt${attempt === 1 ? "" : "s"}).`,
            "Check TOWER_API_ENDPOINT and the network (proxy, firewall) of the machine that runs this script.",
            { cause: error },
          );
        }
      }
      const base = (this.options.backoffMs ?? 500) * 2 ** (attempt - 1);
      const delayMs = Math.min(retryAfterMs ?? base + Math.random() * base * 0.5, 30_000);
      this.options.onRetry?.({ path, attempt, reason, delayMs });
      await sleep(delayMs);
    }
  }

  private refreshing: Promise<void> | undefined;

  private canRefresh(): boolean {
    return this.refreshing !== undefined || this.refreshToken !== undefined;
  }

  /** One refresh for the client's lifetime, shared by concurrent requests that all met the 401. */
  private refreshOnce(): Promise<void> {
    this.refreshing ??= this.refreshAccessToken();
    return this.refreshing;
  }

  /** POST /oauth/access_token with the refresh token; the new tokens come back as JWT and JWT_REFRESH_TOKEN cookies. */
  private async refreshAccessToken(): Promise<void> {
    const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.refreshToken ?? "" });
    this.refreshToken = undefined;
    let response: Response;
    try {
      response = await fetch(`${this.endpoint}/oauth/access_token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 20_000),
        redirect: "manual",
      });
    } catch (error) {
      throw new UserError(
        `The access token was refused and refreshing it failed (${connectionProblem(error)}).`,
        "Check TOWER_API_ENDPOINT and the network, then run again.",
        { cause: error },
      );
    }
    await response.body?.cancel();
    const cookies = readCookies(response.headers);
    const token = cookies.get("JWT");
    if (!token) {
      throw new SeqeraApiError(
        401,
        `The access token was refused, and refreshing it with TOWER_REFRESH_TOKEN failed (HTTP ${response.status}).`,
        "The token has expired or been revoked: create a new access token in Seqera Platform (Your tokens) and use it.",
      );
    }
    this.token = token;
    this.refreshToken = cookies.get("JWT_REFRESH_TOKEN") || undefined;
  }

  private async explain(response: Response, path: string): Promise<SeqeraApiError> {
    const detail = await apiMessage(response);
    const suffix = detail ? `: ${detail}` : "";
    switch (response.status) {
      case 401:
        return new SeqeraApiError(
          401,
          `Seqera Platform refused the access token (HTTP 401 on ${path})${suffix}.`,
          "The token is missing, mistyped, expired or revoked. Create a new one in Seqera Platform (user menu > Access tokens)" +
            (this.options.refreshToken ? "" : " (or set TOWER_REFRESH_TOKEN)") +
            ", and check that TOWER_API_ENDPOINT is the installation that issued it.",
        );
      case 403:
        return new SeqeraApiError(
          403,
          `The access token may not read ${path} (HTTP 403)${suffix}.`,
          `The token's user is not a member of workspace ${this.workspaceId ?? "(personal)"} or lacks the role to view runs there; check TOWER_WORKSPACE_ID and the user's role.`,
        );
      case 404:
        return new SeqeraApiError(
          404,
          `Seqera Platform has no ${path}${this.workspaceId ? ` in workspace ${this.workspaceId}` : ""} (HTTP 404)${suffix}.`,
          path.startsWith("/workflow/")
            ? "Check TOWER_WORKFLOW_ID and TOWER_WORKSPACE_ID (a run is only visible in its own workspace) and that TOWER_API_ENDPOINT is the right installation."
            : `Check that TOWER_API_ENDPOINT (${this.endpoint}) is the Seqera Platform API (https://api.cloud.seqera.io, or https://<host>/api for Enterprise) and the workspace id.`,
        );
      default:
        return new SeqeraApiError(
          response.status,
          `Seqera Platform answered ${path} with HTTP ${response.status}${suffix}.`,
          "Run again; if it persists, check https://status.seqera.io.",
        );
    }
  }
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function connectionProblem(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "timed out";
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

/** The `message` field of an API error body, if it has one (bodies never hold the token). */
async function apiMessage(response: Response): Promise<string | undefined> {
  try {
    const text = (await response.text()).slice(0, 2000);
    const body = JSON.parse(text) as { message?: unknown };
    return typeof body.message === "string" ? body.message : undefined;
  } catch {
    return undefined;
  }
}

function readCookies(headers: Headers): Map<string, string> {
  const cookies = new Map<string, string>();
  const lines = typeof headers.getSetCookie === "function" ? headers.getSetCookie() : [headers.get("set-cookie") ?? ""];
  for (const line of lines) {
    const [pair] = line.split(";");
    const eq = pair?.indexOf("=") ?? -1;
    if (pair && eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return cookies;
}
