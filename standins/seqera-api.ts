/**
 * A local stand-in of the Seqera Platform REST API, answering over real HTTP with the answers recorded
 * from the official `tw` CLI's test resources (fixtures/seqera/). It checks bearer auth, honours
 * workspaceId, refreshes tokens like Seqera does (JWT cookies), and can be told to fail.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const SEQERA_FIXTURES = fileURLToPath(new URL("../fixtures/seqera/", import.meta.url));

export function readSeqeraFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(SEQERA_FIXTURES, name), "utf8")) as T;
}

type JsonObject = Record<string, unknown>;

export interface StandinRun {
  id: string;
  workspaceId?: string;
  /** The GET /workflow/{id} answer. */
  describe: { workflow: JsonObject } & JsonObject;
  /** The GET /workflow/{id}/launch answer. */
  launch: { launch: JsonObject };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
  body?: string;
}

export type RouteHandler = (
  request: RecordedRequest & { params: string[] },
  standin: SeqeraStandin,
) => { status: number; body?: unknown; headers?: Record<string, string | string[]> } | Promise<{ status: number; body?: unknown; headers?: Record<string, string | string[]> }>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: RouteHandler;
  auth: boolean;
}

interface Fault {
  method: string;
  pattern: RegExp;
  status: number;
  remaining: number;
  body?: unknown;
}

export interface SeqeraStandinOptions {
  /** Serve under a path prefix, as Seqera Enterprise does (e.g. "/api"). */
  prefix?: string;
  workspaceId?: string;
}

export class SeqeraStandin {
  /** The API URL to give as TOWER_API_ENDPOINT. */
  endpoint = "";
  token = `standin-token-${randomBytes(8).toString("hex")}`;
  refreshToken = `standin-refresh-${randomBytes(8).toString("hex")}`;
  readonly workspaceId: string;
  readonly runs = new Map<string, StandinRun>();
  readonly requests: RecordedRequest[] = [];
  private readonly routes: Route[] = [];
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  private readonly prefix: string;

  constructor(options: SeqeraStandinOptions = {}) {
    this.prefix = (options.prefix ?? "").replace(/\/+$/, "");
    this.workspaceId = options.workspaceId ?? "40230138858677";
    this.route("GET", /^\/workflow\/([^/]+)$/, ({ params, query }) => {
      const run = this.findRun(params[0], query.workspaceId);
      return run ? { status: 200, body: run.describe } : notFound(`Workflow not found`);
    });
    this.route("GET", /^\/workflow\/([^/]+)\/launch$/, ({ params, query }) => {
      const run = this.findRun(params[0], query.workspaceId);
      return run ? { status: 200, body: run.launch } : notFound(`Workflow not found`);
    });
    this.route(
      "POST",
      /^\/oauth\/access_token$/,
      ({ body }) => {
        const form = new URLSearchParams(body ?? "");
        if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== this.refreshToken) {
          return { status: 401, body: { message: "Invalid refresh token" } };
        }
        this.token = `standin-token-${randomBytes(8).toString("hex")}`;
        this.refreshToken = `standin-refresh-${randomBytes(8).toString("hex")}`;
        return {
          status: 200,
          body: {},
          headers: { "set-cookie": [`JWT=${this.token}; Path=/; HttpOnly`, `JWT_REFRESH_TOKEN=${this.refreshToken}; Path=/; HttpOnly`] },
        };
      },
      false,
    );
  }

  /** Adds a route (paths without the prefix); routes added later win. */
  route(method: string, pattern: RegExp, handler: RouteHandler, auth = true): void {
    this.routes.unshift({ method, pattern, handler, auth });
  }

  /**
   * Adds a run made from the recorded nf-core/rnaseq run, with `workflow` fields overridden
   * (params are merged into the recorded ones unless `replaceParams`).
   */
  addRun(overrides: { id?: string; workflow?: JsonObject; params?: JsonObject | null; replaceParams?: boolean; launch?: JsonObject } = {}): StandinRun {
    const describe = readSeqeraFixture<StandinRun["describe"]>("describe-workflow-nfcore-rnaseq-succeeded.json");
    const launch = readSeqeraFixture<StandinRun["launch"]>("describe-workflow-launch.json");
    const id = overrides.id ?? `standin${randomBytes(4).toString("hex")}`;
    const recordedParams = describe.workflow.params as JsonObject;
    const params =
      overrides.params === null ? null : overrides.replaceParams ? overrides.params : { ...recordedParams, ...(overrides.params ?? {}) };
    describe.workflow = { ...describe.workflow, id, ...overrides.workflow, params };
    launch.launch = { ...launch.launch, ...overrides.launch };
    const run: StandinRun = { id, workspaceId: this.workspaceId, describe, launch };
    this.runs.set(id, run);
    return run;
  }

  /** The next `times` requests matching method and path get `status` (429, 503, 404...). */
  failNext(method: string, pattern: RegExp, status: number, times = 1, body?: unknown): void {
    this.faults.push({ method, pattern, status, remaining: times, body });
  }

  /** Makes the current access token invalid, as when a launch token expires; the refresh token still works. */
  expireToken(): void {
    this.token = `standin-token-${randomBytes(8).toString("hex")}`;
  }

  /** Requests to a path (without prefix), e.g. requestsTo(/\/workflow\//). */
  requestsTo(pattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => pattern.test(r.path));
  }

  private findRun(id: string | undefined, workspaceId: string | undefined): StandinRun | undefined {
    const run = id ? this.runs.get(id) : undefined;
    if (!run) return undefined;
    return run.workspaceId && workspaceId !== run.workspaceId ? undefined : run;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        send(res, 500, { message: String(error) });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    if (!address || typeof address !== "object") throw new Error("stand-in did not bind");
    this.endpoint = `http://127.0.0.1:${address.port}${this.prefix}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://standin");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks).toString("utf8") : undefined;
    if (!url.pathname.startsWith(this.prefix)) return send(res, 404, { message: "Not found" });
    const path = url.pathname.slice(this.prefix.length) || "/";
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      body,
    };
    this.requests.push(recorded);

    const fault = this.faults.find((f) => f.remaining > 0 && f.method === recorded.method && f.pattern.test(path));
    if (fault) {
      fault.remaining--;
      return send(res, fault.status, fault.body ?? { message: `stand-in fault ${fault.status}` });
    }
    for (const route of this.routes) {
      const match = route.method === recorded.method ? route.pattern.exec(path) : null;
      if (!match) continue;
      if (route.auth && recorded.authorization !== `Bearer ${this.token}`) {
        return send(res, 401, { message: "Unauthorized" });
      }
      const answer = await route.handler({ ...recorded, params: match.slice(1) }, this);
      return send(res, answer.status, answer.body, answer.headers);
    }
    send(res, 404, { message: `No route for ${recorded.method} ${path}` });
  }
}

function notFound(message: string) {
  return { status: 404, body: { message } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json", ...headers });
  res.end(text);
}

export async function startSeqeraStandin(options: SeqeraStandinOptions = {}): Promise<SeqeraStandin> {
  return new SeqeraStandin(options).start();
}
