/**
 * A simulated Seqera Platform, built on the API stand-in (standins/seqera-api.ts) through its public
 * route()/addRun() API: it resolves users, workspaces and compute environments from the recorded
 * answers, accepts POST /workflow/launch (checked against the OpenAPI spec's schema), moves the run
 * SUBMITTED → RUNNING → its final status, and then really runs the launch's post-run line with bash,
 * in the environment Seqera gives post-run scripts (TOWER_*, NXF_*), plus the AWS environment of moto.
 *
 * How the post-run line reaches local files instead of GitHub: before running the line, the platform
 * rewrites its `https://raw.githubusercontent.com/` prefix to a local HTTP server, which serves this
 * working tree's scripts/post-run-sqs.sh, dist/post_run_sqs.js and dist/post_run_sqs.js.sha256 under
 * `/<repo>/<ref>/...` for the one repository and ref it was told to expect (anything else is a 404,
 * so a wrong ref in the line fails as it would on GitHub); and it sets the launcher's documented
 * override POST_RUN_SQS_BASE_URL to `<server>/<repo>/<ref>`, taking repo and ref from the line's own
 * POST_RUN_SQS_REPO= and POST_RUN_SQS_REF= assignments.
 *
 * The run's console log (GET /workflow/{id}/log, paged; GET /workflow/{id}/download?fileName=nf-{id}.txt)
 * is the recorded Nextflow console output followed by everything the post-run line printed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { checkAgainst, loadSchemas } from "./openapi-schema.ts";
import { readSeqeraFixture, SEQERA_FIXTURES, SeqeraStandin, type StandinRun } from "./seqera-api.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SCHEMAS = loadSchemas(join(SEQERA_FIXTURES, "seqera-api-1.181.0.yaml"));
const NEXTFLOW_LOG = readFileSync(join(SEQERA_FIXTURES, "workflow-stdout-download.txt"), "utf8");
const SERVED_FILES = ["scripts/post-run-sqs.sh", "dist/post_run_sqs.js", "dist/post_run_sqs.js.sha256"];

type JsonObject = Record<string, unknown>;

export interface PlatformOptions {
  /** The repository and ref the local "raw.githubusercontent.com" serves this working tree as. */
  serve: { repo: string; ref: string };
  /** AWS environment for the post-run line (moto's). */
  awsEnv: Record<string, string>;
  /** Time between status changes. */
  stepMs?: number;
  /** How runs end; RUNNING never ends. */
  finalStatus?: "SUCCEEDED" | "FAILED" | "CANCELLED" | "RUNNING";
  errorMessage?: string;
  /** Region and work dir of every compute environment. */
  computeEnvRegion?: string;
  workDir?: string;
  /** Lines per GET /workflow/{id}/log page. */
  logPageSize?: number;
  /** Above this many lines, the log endpoint says `truncated` and gives only the last page. */
  truncateAfter?: number;
}

export interface PlatformRun {
  id: string;
  standinRun: StandinRun;
  workspaceId: string | undefined;
  log: string;
  pending: boolean;
  /** The post-run line's exit code, once it has run. */
  postRunExit?: number;
  /** Settles when the run is final and its post-run line has finished. */
  done: Promise<void>;
}

export interface LaunchRecord {
  query: Record<string, string>;
  body: unknown;
  problems: string[];
}

export class SeqeraPlatform {
  readonly launches: LaunchRecord[] = [];
  readonly runs = new Map<string, PlatformRun>();
  readonly githubRequests: string[] = [];
  private github: Server | undefined;
  githubOrigin = "";
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly standin: SeqeraStandin,
    readonly options: PlatformOptions,
  ) {
    const user = readSeqeraFixture<{ user: { id: number } }>("user-info.json");
    const workspaces = readSeqeraFixture<{ orgsAndWorkspaces: Array<{ workspaceId: number | null }> }>("user-workspaces.json");
    const workspaceIds = new Set(workspaces.orgsAndWorkspaces.filter((w) => w.workspaceId).map((w) => String(w.workspaceId)));
    const inWorkspace = (query: Record<string, string>) => query.workspaceId === undefined || workspaceIds.has(query.workspaceId);
    const forbidden = { status: 403, body: { message: "Forbidden" } };
    const computeEnvs = () => readSeqeraFixture<{ computeEnvs: JsonObject[] }>("list-compute-envs.json").computeEnvs;

    standin.route("GET", /^\/user-info$/, () => ({ status: 200, body: user }));
    standin.route("GET", /^\/user\/(\d+)\/workspaces$/, ({ params }) => (params[0] === String(user.user.id) ? { status: 200, body: workspaces } : forbidden));
    standin.route("GET", /^\/compute-envs$/, ({ query }) => (inWorkspace(query) ? { status: 200, body: { computeEnvs: computeEnvs() } } : forbidden));
    standin.route("GET", /^\/compute-envs\/([^/]+)$/, ({ params, query }) => {
      if (!inWorkspace(query)) return forbidden;
      const row = computeEnvs().find((c) => c.id === params[0]);
      if (!row) return { status: 404, body: { message: "Compute environment not found" } };
      const described = readSeqeraFixture<{ computeEnv: JsonObject & { config: JsonObject } }>("describe-compute-env.json");
      const config = { ...described.computeEnv.config, region: options.computeEnvRegion ?? "us-east-1", workDir: options.workDir ?? "s3://work-bucket/scratch" };
      return { status: 200, body: { computeEnv: { ...described.computeEnv, id: row.id, name: row.name, config } } };
    });
    standin.route("POST", /^\/workflow\/launch$/, ({ query, body }) => this.launch(query, body, inWorkspace(query)));
    standin.route("GET", /^\/workflow\/([^/]+)\/log$/, ({ params, query }) => {
      const run = this.findRun(params[0], query.workspaceId);
      return run ? { status: 200, body: { log: this.logPage(run, query.next) } } : { status: 404, body: { message: "Workflow not found" } };
    });
    standin.route("GET", /^\/workflow\/([^/]+)\/download$/, ({ params, query }) => {
      const run = this.findRun(params[0], query.workspaceId);
      if (!run || query.fileName !== `nf-${run.id}.txt`) return { status: 404, body: { message: "File not found" } };
      return { status: 200, body: run.log };
    });
  }

  static async start(options: PlatformOptions): Promise<SeqeraPlatform> {
    const standin = await new SeqeraStandin({ workspaceId: "75887156211589" }).start();
    const platform = new SeqeraPlatform(standin, options);
    await platform.startGithub();
    return platform;
  }

  get endpoint(): string {
    return this.standin.endpoint;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
    await this.standin.close();
    this.github?.closeAllConnections();
    await new Promise<void>((resolve) => (this.github ? this.github.close(() => resolve()) : resolve()));
  }

  private findRun(id: string | undefined, workspaceId: string | undefined): PlatformRun | undefined {
    const run = id ? this.runs.get(id) : undefined;
    return run && run.workspaceId === workspaceId ? run : undefined;
  }

  private launch(query: Record<string, string>, text: string | undefined, allowed: boolean) {
    let body: unknown;
    try {
      body = JSON.parse(text ?? "");
    } catch {
      return { status: 400, body: { message: "Request body is not JSON" } };
    }
    const problems = checkAgainst(body, "SubmitWorkflowLaunchRequest", SCHEMAS);
    this.launches.push({ query, body, problems });
    if (!allowed) return { status: 403, body: { message: "Forbidden" } };
    if (problems.length) return { status: 400, body: { message: `Invalid launch request: ${problems.join("; ")}` } };
    const launch = ((body as JsonObject).launch ?? {}) as JsonObject;
    const known = readSeqeraFixture<{ computeEnvs: JsonObject[] }>("list-compute-envs.json").computeEnvs.some((c) => c.id === launch.computeEnvId);
    const missing = ["computeEnvId", "pipeline", "workDir"].filter((k) => !launch[k]);
    if (missing.length) return { status: 400, body: { message: `Missing ${missing.join(", ")}` } };
    if (!known) return { status: 400, body: { message: `Unknown compute environment ${String(launch.computeEnvId)}` } };
    if (Buffer.byteLength(String(launch.postRunScript ?? "")) >= 1024) return { status: 400, body: { message: "Post-run script too long" } };
    let params: unknown = {};
    try {
      params = launch.paramsText ? parseYaml(String(launch.paramsText)) : {};
    } catch (error) {
      return { status: 400, body: { message: `Invalid params: ${(error as Error).message}` } };
    }
    if (!params || typeof params !== "object" || Array.isArray(params)) return { status: 400, body: { message: "Params must be a mapping" } };
    const standinRun = this.standin.addRun({
      workflow: {
        status: "SUBMITTED",
        start: null,
        complete: null,
        duration: null,
        exitStatus: null,
        success: null,
        errorMessage: null,
        repository: launch.pipeline,
        projectName: String(launch.pipeline).replace(/^https:\/\/github\.com\//, ""),
        revision: launch.revision ?? null,
        profile: (launch.configProfiles as string[] | undefined)?.join(",") ?? null,
        workDir: launch.workDir,
      },
      params: params as JsonObject,
      replaceParams: true,
      launch: { pipeline: launch.pipeline, revision: launch.revision, configProfiles: launch.configProfiles, paramsText: launch.paramsText, postRunScript: launch.postRunScript, workDir: launch.workDir },
    });
    standinRun.workspaceId = query.workspaceId;
    const run: PlatformRun = { id: standinRun.id, standinRun, workspaceId: query.workspaceId, log: "", pending: true, done: Promise.resolve() };
    this.runs.set(run.id, run);
    run.done = this.progress(run, String(launch.postRunScript ?? ""));
    return { status: 200, body: { workflowId: run.id } };
  }

  private after(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async progress(run: PlatformRun, postRunScript: string): Promise<void> {
    const step = this.options.stepMs ?? 150;
    const workflow = run.standinRun.describe.workflow;
    await this.after(step);
    workflow.status = "RUNNING";
    workflow.start = new Date().toISOString();
    run.log = NEXTFLOW_LOG;
    const final = this.options.finalStatus ?? "SUCCEEDED";
    if (final === "RUNNING") return;
    await this.after(step);
    Object.assign(workflow, {
      status: final,
      complete: new Date().toISOString(),
      exitStatus: final === "SUCCEEDED" ? 0 : 1,
      success: final === "SUCCEEDED",
      errorMessage: final === "SUCCEEDED" ? null : (this.options.errorMessage ?? "Process `FASTQC (1)` terminated with an error exit status (1)"),
    });
    if (postRunScript && final !== "CANCELLED") run.postRunExit = await this.runPostRun(run, postRunScript, final === "SUCCEEDED" ? 0 : 1);
    run.pending = false;
  }

  /** Runs the post-run line as Seqera does: bash -c, in the run's environment; its output goes into the run's log. */
  private runPostRun(run: PlatformRun, line: string, exitStatus: number): Promise<number> {
    const home = mkdtempSync(join(tmpdir(), "seqera-head-job-"));
    const repo = /POST_RUN_SQS_REPO=(\S+)/.exec(line)?.[1] ?? "missing-repo";
    const ref = /POST_RUN_SQS_REF=(\S+)/.exec(line)?.[1] ?? "missing-ref";
    const workflow = run.standinRun.describe.workflow;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      TMPDIR: home,
      AWS_CONFIG_FILE: join(home, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "aws-credentials"),
      ...this.options.awsEnv,
      TOWER_WORKFLOW_ID: run.id,
      TOWER_WORKSPACE_ID: run.workspaceId ?? "",
      TOWER_ACCESS_TOKEN: this.standin.token,
      TOWER_REFRESH_TOKEN: this.standin.refreshToken,
      TOWER_API_ENDPOINT: this.standin.endpoint,
      TOWER_CONFIG_FILE: join(home, "tower.config"),
      NXF_UUID: String(workflow.sessionId),
      NXF_EXIT_STATUS: String(exitStatus),
      NXF_WORK: String(workflow.workDir),
      NXF_OUT_FILE: `nf-${run.id}.txt`,
      NXF_LOG_FILE: `nf-${run.id}.log`,
      NXF_TML_FILE: `timeline-${run.id}.html`,
      POST_RUN_SQS_BASE_URL: `${this.githubOrigin}/${repo}/${ref}`,
    };
    const local = line.replaceAll("https://raw.githubusercontent.com/", `${this.githubOrigin}/`);
    return new Promise((resolve) => {
      const child = spawn("bash", ["-c", local], { env, stdio: ["ignore", "pipe", "pipe"], cwd: home });
      const append = (chunk: Buffer) => (run.log += chunk.toString("utf8"));
      child.stdout.on("data", append);
      child.stderr.on("data", append);
      child.once("error", (error) => {
        run.log += `bash: ${error.message}\n`;
        resolve(127);
      });
      child.once("close", (code) => resolve(code ?? 1));
    });
  }

  /** One page of the log: `entries` from line `next` on; `truncated` (last page only) when the log is too long. */
  private logPage(run: PlatformRun, next: string | undefined): JsonObject {
    const lines = run.log ? run.log.replace(/\n$/, "").split("\n") : [];
    const pageSize = this.options.logPageSize ?? 1000;
    const downloads = [{ fileName: `nf-${run.id}.txt`, displayText: "Execution log", saveName: `nf-${run.id}.txt` }];
    if (lines.length > (this.options.truncateAfter ?? Infinity)) {
      return { entries: lines.slice(-pageSize), truncated: true, pending: run.pending, downloads };
    }
    const from = Math.min(Number(next ?? 0) || 0, lines.length);
    const to = Math.min(from + pageSize, lines.length);
    return {
      entries: lines.slice(from, to),
      truncated: false,
      pending: run.pending,
      rewindToken: String(from),
      forwardToken: String(to),
      downloads,
    };
  }

  private async startGithub(): Promise<void> {
    const { repo, ref } = this.options.serve;
    this.github = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      this.githubRequests.push(path);
      const prefix = `/${repo}/${ref}/`;
      const file = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
      if (!file || !SERVED_FILES.includes(file)) {
        res.writeHead(404, { "content-type": "text/plain" }).end("404: Not Found");
        return;
      }
      const body = readFileSync(join(ROOT, file));
      res.writeHead(200, { "content-type": "text/plain", "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => this.github!.listen(0, "127.0.0.1", resolve));
    this.githubOrigin = `http://127.0.0.1:${(this.github.address() as AddressInfo).port}`;
  }
}
