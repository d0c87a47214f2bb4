import { UserError } from "./errors.ts";
import { SeqeraApi } from "./seqera-api.ts";

/** The workspace a run is launched in: an organisation's workspace, or the user's personal one. */
export type Workspace =
  | { kind: "org"; id: string; orgName: string; workspaceName: string }
  | { kind: "personal"; userName: string };

export const PERSONAL_WORKSPACE = "personal";

interface UserInfo {
  user: { id: number; userName: string };
}
export interface WorkspaceRow {
  orgId: number;
  orgName: string;
  workspaceId: number | null;
  workspaceName: string | null;
}

/**
 * Finds `value` (a numeric workspace id, `Org/Workspace`, or "personal") among the user's
 * workspaces, as the official CLI does: GET /user-info, then GET /user/{id}/workspaces (pure part).
 */
export function matchWorkspace(value: string, userName: string, rows: WorkspaceRow[]): Workspace {
  const wanted = value.trim();
  if (wanted.toLowerCase() === PERSONAL_WORKSPACE) return { kind: "personal", userName };
  const workspaces = rows.filter((r) => r.workspaceId !== null && r.workspaceName);
  const found = /^\d+$/.test(wanted)
    ? workspaces.find((r) => String(r.workspaceId) === wanted)
    : workspaces.find((r) => `${r.orgName}/${r.workspaceName}` === wanted);
  if (found) return { kind: "org", id: String(found.workspaceId), orgName: found.orgName, workspaceName: found.workspaceName! };
  const names = workspaces.map((r) => `${r.orgName}/${r.workspaceName} (${r.workspaceId})`);
  const format = /^\d+$/.test(wanted) || /^[^/]+\/[^/]+$/.test(wanted) ? "" : " Give it as Org/Workspace or as its numeric id.";
  throw new UserError(
    `${userName} has no workspace "${wanted}".${format}`,
    names.length
      ? `Your workspaces: ${names.join(", ")}; or "${PERSONAL_WORKSPACE}" for your personal workspace.`
      : `You are not a member of any organisation workspace; use "${PERSONAL_WORKSPACE}", or ask an organisation owner to add you.`,
  );
}

export type SeqeraUser = UserInfo["user"];

/** GET /user-info: who the token belongs to (also the login check). */
export async function readUser(api: SeqeraApi): Promise<SeqeraUser> {
  return (await api.get<UserInfo>("/user-info", { workspaceId: undefined })).user;
}

/** Resolves a workspace name or id for `user` through the API (GET /user/{id}/workspaces). */
export async function resolveWorkspace(api: SeqeraApi, user: SeqeraUser, value: string): Promise<Workspace> {
  if (value.trim().toLowerCase() === PERSONAL_WORKSPACE) return { kind: "personal", userName: user.userName };
  const { orgsAndWorkspaces } = await api.get<{ orgsAndWorkspaces: WorkspaceRow[] }>(`/user/${user.id}/workspaces`, { workspaceId: undefined });
  return matchWorkspace(value, user.userName, orgsAndWorkspaces ?? []);
}

export function workspaceIdOf(workspace: Workspace): string | undefined {
  return workspace.kind === "org" ? workspace.id : undefined;
}

export function describeWorkspace(workspace: Workspace): string {
  return workspace.kind === "org" ? `${workspace.orgName}/${workspace.workspaceName} (${workspace.id})` : `personal workspace of ${workspace.userName}`;
}

export interface ComputeEnvRow {
  id: string;
  name: string;
  platform?: string;
  status?: string;
  primary?: boolean | null;
}

export interface ComputeEnv {
  id: string;
  name: string;
  platform?: string;
  status?: string;
  region?: string;
  workDir?: string;
}

/** Picks the compute environment named (or with the id) `value`, or the workspace's primary one (pure part). */
export function matchComputeEnv(value: string | undefined, rows: ComputeEnvRow[], where: string): ComputeEnvRow {
  const listing = rows.map((r) => `${r.name} (${r.id})${r.primary ? " [primary]" : ""}`).join(", ");
  if (!value?.trim()) {
    const primary = rows.find((r) => r.primary);
    if (primary) return primary;
    throw new UserError(
      `The ${where} has no primary compute environment.`,
      rows.length ? `Give one with --compute-env: ${listing}.` : "Create one in Seqera Platform (Compute Environments), then give it with --compute-env.",
    );
  }
  const wanted = value.trim();
  const found = rows.find((r) => r.id === wanted) ?? rows.find((r) => r.name === wanted);
  if (found) return found;
  throw new UserError(
    `The ${where} has no compute environment "${wanted}".`,
    rows.length ? `Its compute environments: ${listing}.` : "It has none: create one in Seqera Platform (Compute Environments).",
  );
}

/** GET /compute-envs then GET /compute-envs/{id}: the environment with its region and work dir. */
export async function resolveComputeEnv(api: SeqeraApi, workspace: Workspace, value: string | undefined): Promise<ComputeEnv> {
  const workspaceId = workspaceIdOf(workspace);
  const { computeEnvs } = await api.get<{ computeEnvs: ComputeEnvRow[] }>("/compute-envs", { workspaceId });
  const row = matchComputeEnv(value, computeEnvs ?? [], describeWorkspace(workspace));
  const { computeEnv } = await api.get<{ computeEnv: { id: string; name: string; platform?: string; status?: string; config?: { region?: string | null; workDir?: string | null } } }>(
    `/compute-envs/${encodeURIComponent(row.id)}`,
    { workspaceId },
  );
  return {
    id: computeEnv.id ?? row.id,
    name: computeEnv.name ?? row.name,
    ...(computeEnv.platform ?? row.platform ? { platform: computeEnv.platform ?? row.platform } : {}),
    ...(computeEnv.status ?? row.status ? { status: computeEnv.status ?? row.status } : {}),
    ...(computeEnv.config?.region ? { region: computeEnv.config.region } : {}),
    ...(computeEnv.config?.workDir ? { workDir: computeEnv.config.workDir } : {}),
  };
}
