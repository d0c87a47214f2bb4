import type { SeqeraApi } from "./seqera-api.ts";
import { UserError, describeError } from "./errors.ts";

/** The parts of GET /workflow/{id} (Workflow) this tool reads. Any of them may be null. */
export interface Workflow {
  id: string;
  runName?: string | null;
  projectName?: string | null;
  status?: string | null;
  sessionId?: string | null;
  params?: Record<string, unknown> | null;
  workDir?: string | null;
  submit?: string | null;
  start?: string | null;
  complete?: string | null;
  duration?: number | null;
  container?: string | null;
  repository?: string | null;
  revision?: string | null;
  commitId?: string | null;
  profile?: string | null;
  userName?: string | null;
  launchId?: string | null;
  exitStatus?: number | null;
  errorMessage?: string | null;
  manifest?: { name?: string | null; version?: string | null } | null;
  nextflow?: { version?: string | null } | null;
}

/** The parts of GET /workflow/{id}/launch (WorkflowLaunchResponse) this tool reads. */
export interface WorkflowLaunch {
  id?: string | null;
  pipeline?: string | null;
  revision?: string | null;
  configProfiles?: string[] | null;
  workDir?: string | null;
  computeEnv?: {
    id?: string | null;
    name?: string | null;
    platform?: string | null;
    config?: { region?: string | null } | null;
  } | null;
}

export const FINAL_FAILURE_STATUSES = new Set(["FAILED", "CANCELLED"]);

export interface RunDetails {
  workflow: Workflow;
  launch?: WorkflowLaunch;
  /** Why the launch could not be read, when it could not. */
  launchProblem?: string;
}

/**
 * Reads a run: GET /workflow/{id} (required) and GET /workflow/{id}/launch for pipeline, revision,
 * profiles and compute environment (best effort: these are not in the first answer).
 */
export async function fetchRunDetails(api: SeqeraApi, workflowId: string): Promise<RunDetails> {
  const id = encodeURIComponent(workflowId);
  const [described, launched] = await Promise.allSettled([
    api.get<{ workflow?: unknown } | null>(`/workflow/${id}`),
    api.get<{ launch?: unknown } | null>(`/workflow/${id}/launch`),
  ]);
  if (described.status === "rejected") throw described.reason;
  const workflow = readWorkflow(described.value?.workflow, workflowId, api.endpoint);
  const launch = launched.status === "fulfilled" ? readLaunch(launched.value?.launch) : undefined;
  if (launch) return { workflow, launch };
  return {
    workflow,
    launchProblem: launched.status === "rejected" ? describeError(launched.reason) : "the answer had no launch",
  };
}

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A text field as text; numbers are written out, anything else is dropped rather than printed as [object Object]. */
function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

const TEXT_FIELDS = [
  "runName", "projectName", "sessionId", "workDir", "submit", "start", "complete", "container",
  "repository", "revision", "commitId", "profile", "userName", "launchId", "errorMessage",
] as const;

/** The API's workflow, with each field of the type this tool expects (answers are not trusted blindly). */
export function readWorkflow(raw: unknown, workflowId: string, endpoint: string): Workflow {
  if (!isObject(raw)) {
    throw new UserError(
      `Seqera Platform answered GET /workflow/${workflowId} without a workflow.`,
      `Check TOWER_API_ENDPOINT (${endpoint}): it must be the Seqera Platform API, e.g. https://api.cloud.seqera.io or https://<host>/api.`,
    );
  }
  const workflow: Workflow = { id: textOf(raw.id) || workflowId };
  for (const key of TEXT_FIELDS) workflow[key] = textOf(raw[key]);
  workflow.status = textOf(raw.status)?.toUpperCase();
  workflow.duration = numberOf(raw.duration);
  workflow.exitStatus = numberOf(raw.exitStatus);
  workflow.params = readParams(raw.params);
  if (isObject(raw.manifest)) workflow.manifest = { name: textOf(raw.manifest.name), version: textOf(raw.manifest.version) };
  if (isObject(raw.nextflow)) workflow.nextflow = { version: textOf(raw.nextflow.version) };
  return workflow;
}

/** Params are a JSON object; some answers carry them as JSON text. */
function readParams(raw: unknown): Record<string, unknown> | null {
  if (isObject(raw)) return raw;
  if (typeof raw === "string") {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isObject(parsed)) return parsed;
    } catch {
      // not JSON: no params
    }
  }
  return null;
}

function readLaunch(raw: unknown): WorkflowLaunch | undefined {
  if (!isObject(raw)) return undefined;
  const env = isObject(raw.computeEnv) ? raw.computeEnv : undefined;
  const profiles = Array.isArray(raw.configProfiles) ? raw.configProfiles.filter((p): p is string => typeof p === "string") : undefined;
  return {
    id: textOf(raw.id),
    pipeline: textOf(raw.pipeline),
    revision: textOf(raw.revision),
    configProfiles: profiles,
    workDir: textOf(raw.workDir),
    computeEnv: env && {
      id: textOf(env.id),
      name: textOf(env.name),
      platform: textOf(env.platform),
      config: isObject(env.config) ? { region: textOf(env.config.region) } : undefined,
    },
  };
}
