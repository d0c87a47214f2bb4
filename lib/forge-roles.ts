import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { retryThrottled } from "./aws-retry.ts";
import { UserError, awsErrorName, describeError } from "./errors.ts";
import { decodePolicyText, parsePolicyDocument, type NamedPolicy } from "./iam-policy.ts";

/** The IAM calls setup and check make. Policy documents come back as IAM sends them (maybe URL-encoded). */
export interface IamApi {
  listRolesPage(marker?: string): Promise<{ roles: Array<{ name: string; arn: string }>; marker?: string }>;
  /** Names of the role's inline policies; undefined when the role does not exist. */
  listInlinePolicyNames(roleName: string): Promise<string[] | undefined>;
  getInlinePolicy(roleName: string, policyName: string): Promise<string | undefined>;
  listAttachedPolicyArns(roleName: string): Promise<string[]>;
  getManagedPolicyDocument(policyArn: string): Promise<string>;
  putInlinePolicy(roleName: string, policyName: string, document: string): Promise<void>;
}

/** A role made by Seqera's Batch Forge: TowerForge-<id>-FargateRole or TowerForge-<id>-InstanceRole. */
export interface ForgeRole {
  name: string;
  arn: string;
  forgeId: string;
  kind: "FargateRole" | "InstanceRole";
}

export const FORGE_ROLE_RE = /^TowerForge-(.+)-(FargateRole|InstanceRole)$/;

/** Sorts IAM SDK errors into messages that say what to do; `roleName` is the role the call was about. */
export function explainIamError(error: unknown, doing: string, roleName?: string): unknown {
  const name = awsErrorName(error);
  if (roleName && isNoSuchEntity(error)) {
    return new UserError(
      `The role ${roleName} disappeared while trying to ${doing}: was its compute environment deleted? (${describeError(error)})`,
      "Run setup again: it only looks at the Forge roles that exist now.",
      { cause: error },
    );
  }
  if (name === "AccessDenied" || name === "AccessDeniedException") {
    return new UserError(`Not allowed to ${doing}: ${describeError(error)}`, "Use an AWS profile with IAM permissions (iam:ListRoles, iam:GetRolePolicy, iam:PutRolePolicy, ...) via --profile.", { cause: error });
  }
  if (name === "LimitExceeded" || name === "LimitExceededException") {
    return new UserError(`IAM refused to ${doing}: ${describeError(error)}`, "The role's inline policies are too large: make room, then run setup again.", { cause: error });
  }
  if (name === "MalformedPolicyDocument" || name === "MalformedPolicyDocumentException") {
    return new UserError(`IAM rejected the policy while trying to ${doing}: ${describeError(error)}`, "Check the role's nextflow-policy in the IAM console; nothing else was changed.", { cause: error });
  }
  return error;
}

async function iamCall<T>(doing: string, call: () => Promise<T>, roleName?: string): Promise<T> {
  try {
    return await retryThrottled(call);
  } catch (error) {
    throw explainIamError(error, doing, roleName);
  }
}

function isNoSuchEntity(error: unknown): boolean {
  return awsErrorName(error) === "NoSuchEntity" || awsErrorName(error) === "NoSuchEntityException";
}

/** The IamApi over the AWS SDK. */
export function createIamApi(client: IAMClient): IamApi {
  return {
    async listRolesPage(marker) {
      const answer = await iamCall("list IAM roles", () => client.send(new ListRolesCommand(marker ? { Marker: marker } : {})));
      return {
        roles: (answer.Roles ?? []).map((r) => ({ name: r.RoleName ?? "", arn: r.Arn ?? "" })),
        marker: answer.IsTruncated ? answer.Marker : undefined,
      };
    },
    async listInlinePolicyNames(roleName) {
      const names: string[] = [];
      let marker: string | undefined;
      try {
        do {
          const answer = await iamCall(`list the inline policies of role ${roleName}`, () =>
            client.send(new ListRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) })),
          );
          names.push(...(answer.PolicyNames ?? []));
          marker = answer.IsTruncated ? answer.Marker : undefined;
        } while (marker);
      } catch (error) {
        if (isNoSuchEntity(error)) return undefined;
        throw error;
      }
      return names;
    },
    async getInlinePolicy(roleName, policyName) {
      try {
        const answer = await iamCall(`read the policy ${policyName} of role ${roleName}`, () =>
          client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
        );
        return answer.PolicyDocument;
      } catch (error) {
        if (isNoSuchEntity(error)) return undefined;
        throw error;
      }
    },
    async listAttachedPolicyArns(roleName) {
      const arns: string[] = [];
      let marker: string | undefined;
      do {
        const answer = await iamCall(`list the managed policies of role ${roleName}`, () =>
          client.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) })),
        );
        arns.push(...(answer.AttachedPolicies ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : [])));
        marker = answer.IsTruncated ? answer.Marker : undefined;
      } while (marker);
      return arns;
    },
    async getManagedPolicyDocument(policyArn) {
      const policy = await iamCall(`read the managed policy ${policyArn}`, () => client.send(new GetPolicyCommand({ PolicyArn: policyArn })));
      const versionId = policy.Policy?.DefaultVersionId ?? "v1";
      const version = await iamCall(`read the managed policy ${policyArn}`, () =>
        client.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: versionId })),
      );
      return version.PolicyVersion?.Document ?? "{}";
    },
    async putInlinePolicy(roleName, policyName, document) {
      await iamCall(
        `write the policy ${policyName} of role ${roleName}`,
        () => client.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document })),
        roleName,
      );
    },
  };
}

/** The Forge roles among all IAM roles, paging through ListRoles with its Marker. */
export async function findForgeRoles(api: IamApi): Promise<{ roles: ForgeRole[]; scanned: number; pages: number }> {
  const roles: ForgeRole[] = [];
  let marker: string | undefined;
  let scanned = 0;
  let pages = 0;
  do {
    const page = await api.listRolesPage(marker);
    pages++;
    scanned += page.roles.length;
    for (const role of page.roles) {
      const match = FORGE_ROLE_RE.exec(role.name);
      if (match) roles.push({ name: role.name, arn: role.arn, forgeId: match[1]!, kind: match[2] as ForgeRole["kind"] });
    }
    marker = page.marker;
  } while (marker);
  roles.sort((a, b) => a.name.localeCompare(b.name));
  return { roles, scanned, pages };
}

/** A role's policies: inline documents by name (decoded text) and all policies parsed for evaluation. */
export interface RolePolicies {
  roleName: string;
  inline: Map<string, string>;
  policies: NamedPolicy[];
}

/**
 * Reads every inline and attached managed policy of a role. `managedCache` shares managed policy
 * documents between roles (Forge roles often share them). Undefined when the role does not exist.
 */
export async function readRolePolicies(api: IamApi, roleName: string, managedCache = new Map<string, Promise<string>>()): Promise<RolePolicies | undefined> {
  const [names, arns] = await Promise.all([
    api.listInlinePolicyNames(roleName),
    api.listAttachedPolicyArns(roleName).catch((error) => {
      if (isNoSuchEntity(error)) return undefined;
      throw error;
    }),
  ]);
  if (names === undefined || arns === undefined) return undefined;
  const inline = new Map<string, string>();
  const inlineTexts = await Promise.all(names.map((n) => api.getInlinePolicy(roleName, n)));
  names.forEach((n, i) => {
    const text = inlineTexts[i];
    if (text !== undefined) inline.set(n, decodePolicyText(text));
  });
  const managedTexts = await Promise.all(
    arns.map((arn) => {
      let cached = managedCache.get(arn);
      if (!cached) {
        cached = api.getManagedPolicyDocument(arn);
        managedCache.set(arn, cached);
      }
      return cached;
    }),
  );
  const policies: NamedPolicy[] = [
    ...[...inline].map(([name, text]): NamedPolicy => ({ name, kind: "inline", document: parsePolicyDocument(text, `${name} of role ${roleName}`) })),
    ...arns.map((arn, i): NamedPolicy => ({ name: arn, kind: "managed", document: parsePolicyDocument(managedTexts[i]!, arn) })),
  ];
  return { roleName, inline, policies };
}
