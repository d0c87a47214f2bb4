import type { SeqeraApi } from "./seqera-api.ts";
import { describeError } from "./errors.ts";

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
    api.get<{ workflow?: Workflow }>(`/workflow/${id}`),
    api.get<{ launch?: WorkflowLaunch }>(`/workflow/${id}/launch`),
  ]);
  if (described.status === "rejected") throw described.reason;
  const workflow = described.value?.workflow;
  if (!workflow) throw new Error(`GET /workflow/${workflowId} returned no workflow`);
  if (launched.status === "fulfilled" && launched.value?.launch) return { workflow, launch: launched.value.launch };
  return {
    workflow,
    launchProblem: launched.status === "rejected" ? describeError(launched.reason) : "the answer had no launch",
  };
}
