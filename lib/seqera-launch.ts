import { UserError } from "./errors.ts";
import { POST_RUN_SCRIPT_LIMIT_BYTES } from "./post-run-line.ts";
import { DEFAULT_SEQERA_ENDPOINT, type SeqeraApi } from "./seqera-api.ts";
import type { Workspace } from "./seqera-workspaces.ts";

/** Everything a test launch needs, worked out before anything is sent. */
export interface LaunchPlan {
  pipeline: string;
  revision: string;
  profile: string;
  computeEnvId: string;
  workDir: string;
  params: { outdir: string; sqs_queue_url: string; sqs_region: string };
  postRunScript: string;
}

/** The run's params as YAML (one `key: "value"` line each; JSON strings are valid YAML scalars). */
export function formatParamsYaml(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join("\n")
    .concat("\n");
}

/**
 * The body of POST /workflow/launch (SubmitWorkflowLaunchRequest). Refuses a post-run script that
 * Seqera would not take (1,024 bytes or more).
 */
export function buildLaunchRequest(plan: LaunchPlan): { launch: Record<string, unknown> } {
  const bytes = Buffer.byteLength(plan.postRunScript, "utf8");
  if (bytes >= POST_RUN_SCRIPT_LIMIT_BYTES) {
    throw new UserError(`The post-run script is ${bytes} bytes; Seqera Platform takes less than ${POST_RUN_SCRIPT_LIMIT_BYTES}.`, "Use a shorter branch name.");
  }
  return {
    launch: {
      computeEnvId: plan.computeEnvId,
      pipeline: plan.pipeline,
      revision: plan.revision,
      workDir: plan.workDir,
      configProfiles: [plan.profile],
      paramsText: formatParamsYaml(plan.params),
      postRunScript: plan.postRunScript,
      pullLatest: true,
      resume: false,
    },
  };
}

/** POST /workflow/launch; returns the new run's id. */
export async function launchWorkflow(api: SeqeraApi, request: { launch: Record<string, unknown> }): Promise<string> {
  const answer = await api.post<{ workflowId?: string }>("/workflow/launch", request);
  if (!answer?.workflowId) {
    throw new UserError("Seqera Platform accepted the launch but returned no run id.", "Look for the run in the workspace's Runs page.");
  }
  return answer.workflowId;
}

/** The web app's base URL for an API endpoint: api.cloud.seqera.io → cloud.seqera.io; https://host/api → https://host. */
export function webAppUrl(endpoint: string = DEFAULT_SEQERA_ENDPOINT): string {
  const url = new URL(endpoint.replace(/\/+$/, ""));
  if (url.hostname.startsWith("api.")) url.hostname = url.hostname.slice(4);
  url.pathname = url.pathname.replace(/\/api$/, "");
  return url.toString().replace(/\/+$/, "");
}

/** Where a run can be watched in the Seqera web app. */
export function runWebUrl(endpoint: string, workspace: Workspace, runId: string): string {
  const base = webAppUrl(endpoint);
  const id = encodeURIComponent(runId);
  return workspace.kind === "org"
    ? `${base}/orgs/${encodeURIComponent(workspace.orgName)}/workspaces/${encodeURIComponent(workspace.workspaceName)}/watch/${id}`
    : `${base}/user/${encodeURIComponent(workspace.userName)}/watch/${id}`;
}
