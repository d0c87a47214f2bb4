import type { RunDetails } from "./seqera-run.ts";
import type { CrateSummary, Json, RunMatch } from "./wrroc.ts";

/**
 * The environment variables Seqera Platform really gives a post-run script, minus the secrets
 * (TOWER_ACCESS_TOKEN and TOWER_REFRESH_TOKEN never leave the process).
 */
export const RUN_ENVIRONMENT_VARIABLES = [
  "TOWER_WORKFLOW_ID",
  "TOWER_WORKSPACE_ID",
  "TOWER_API_ENDPOINT",
  "TOWER_CONFIG_FILE",
  "NXF_UUID",
  "NXF_EXIT_STATUS",
  "NXF_WORK",
  "NXF_OUT_FILE",
  "NXF_LOG_FILE",
  "NXF_TML_FILE",
] as const;

export type Metadata = { [key: string]: Json };

/** Deeper structures than this are summarised: params nested thousands deep would overflow the stack. */
const MAX_DEPTH = 32;

/** Drops null, undefined, empty strings, empty lists and empty objects, at every depth. */
export function compact(value: unknown, depth = 0): Json | undefined {
  if (depth > MAX_DEPTH && value !== null && typeof value === "object") return `(nested deeper than ${MAX_DEPTH} levels: left out)`;
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value.trim() === "" ? undefined : value;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "boolean") return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => compact(item, depth + 1)).filter((v): v is Json => v !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => [k, compact(v, depth + 1)] as const)
      .filter((entry): entry is readonly [string, Json] => entry[1] !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return undefined;
}

function environmentMetadata(env: NodeJS.ProcessEnv): Metadata {
  const out: Metadata = {};
  for (const name of RUN_ENVIRONMENT_VARIABLES) {
    const value = env[name];
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}

function apiMetadata({ workflow, launch }: RunDetails): Metadata {
  return {
    api_run_name: workflow.runName,
    api_project_name: workflow.projectName,
    api_status: workflow.status,
    api_session_id: workflow.sessionId,
    api_work_dir: workflow.workDir,
    api_submit: workflow.submit,
    api_start: workflow.start,
    api_complete: workflow.complete,
    api_duration_ms: workflow.duration,
    api_exit_status: workflow.exitStatus,
    api_error_message: workflow.errorMessage,
    api_container: workflow.container,
    api_repository: workflow.repository,
    api_revision: workflow.revision,
    api_commit_id: workflow.commitId,
    api_user_name: workflow.userName,
    api_nextflow_version: workflow.nextflow?.version,
    api_manifest_name: workflow.manifest?.name,
    api_manifest_version: workflow.manifest?.version,
    api_launch_id: launch?.id ?? workflow.launchId,
    api_launch_pipeline: launch?.pipeline,
    api_launch_revision: launch?.revision,
    api_launch_config_profiles: launch?.configProfiles,
    api_compute_env_id: launch?.computeEnv?.id,
    api_compute_env_name: launch?.computeEnv?.name,
    api_compute_env_platform: launch?.computeEnv?.platform,
    api_compute_env_region: launch?.computeEnv?.config?.region,
    api_params: workflow.params as Json,
  } as Metadata;
}

/** What the crate says, keyed `wrroc_*`; run-specific fields only when the crate's run is this run. */
function crateMetadata(crate: CrateSummary, match: RunMatch): Metadata {
  const author = crate.authors[0];
  const workflowLevel: Metadata = {
    wrroc_status: match.status,
    wrroc_name: crate.name,
    wrroc_date_published: crate.datePublished,
    wrroc_license: crate.licenses.length > 1 ? crate.licenses : crate.licenses[0],
    wrroc_author_name: author?.name,
    wrroc_author_orcid: author?.orcid,
    wrroc_main_workflow: crate.mainWorkflow?.id,
    wrroc_workflow_name: crate.mainWorkflow?.name,
    wrroc_workflow_version: crate.mainWorkflow?.version,
    wrroc_runtime_platform: crate.runtimePlatform,
    wrroc_programming_language: crate.programmingLanguage,
  } as Metadata;
  if (match.status === "stale" || match.status === "ambiguous") {
    return { wrroc_status: match.status, wrroc_crate_run_ids: match.crateRunIds };
  }
  if (match.status === "no-run") return workflowLevel;
  const run = match.run;
  return {
    ...workflowLevel,
    wrroc_run_id: run.runId,
    wrroc_run_name: run.name,
    wrroc_start_time: run.startTime,
    wrroc_end_time: run.endTime,
    wrroc_action_status: run.status,
    wrroc_agent_name: run.agents[0]?.name,
    wrroc_agent_orcid: run.agents[0]?.orcid,
  } as Metadata;
}

export interface MetadataSources {
  env: NodeJS.ProcessEnv;
  run: RunDetails;
  crate?: { summary: CrateSummary; match: RunMatch };
  /** Why there is no crate metadata, when there is none (missing, unreadable, not a crate). */
  crateProblem?: string;
}

/** The message's `metadata`: run environment, API run metadata (with resolved params) and crate metadata, empty values left out. */
export function buildRunMetadata({ env, run, crate, crateProblem }: MetadataSources): Metadata {
  const crateFields: Metadata = crate ? crateMetadata(crate.summary, crate.match) : { wrroc_status: "missing", wrroc_problem: crateProblem ?? null };
  return (compact({ ...environmentMetadata(env), ...apiMetadata(run), ...crateFields }) ?? {}) as Metadata;
}
