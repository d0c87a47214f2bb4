import { DescribeStacksCommand, type CloudFormationClient, type Stack } from "@aws-sdk/client-cloudformation";
import { retryThrottled } from "./aws-retry.ts";
import { UserError, awsErrorName, describeError } from "./errors.ts";
import { parseQueueAddress, type QueueAddress } from "./queue-address.ts";

/** A CloudFormation stack with what discovery needs. */
export interface StackInfo {
  name: string;
  id: string;
  status: string;
  outputs: Record<string, string>;
}

/** The CloudFormation calls stack discovery makes. */
export interface CloudFormationApi {
  /** One page of DescribeStacks over all stacks of the region. */
  describeStacksPage(nextToken?: string): Promise<{ stacks: StackInfo[]; nextToken?: string }>;
  /** One stack by name or id; undefined when it does not exist. */
  describeStack(name: string): Promise<StackInfo | undefined>;
}

function toStackInfo(stack: Stack): StackInfo {
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  return { name: stack.StackName ?? "", id: stack.StackId ?? "", status: String(stack.StackStatus ?? ""), outputs };
}

/** Sorts CloudFormation SDK errors into messages that say what to do. */
export function explainCloudFormationError(error: unknown, region: string): unknown {
  const name = awsErrorName(error);
  if (name === "AccessDenied" || name === "AccessDeniedException") {
    return new UserError(
      `Not allowed to read CloudFormation stacks in ${region}: ${describeError(error)}`,
      "Use an AWS profile that may call cloudformation:DescribeStacks (--profile).",
      { cause: error },
    );
  }
  return error;
}

/** The CloudFormationApi over the AWS SDK. */
export function createCloudFormationApi(client: CloudFormationClient, region: string): CloudFormationApi {
  return {
    async describeStacksPage(nextToken) {
      try {
        const answer = await retryThrottled(() => client.send(new DescribeStacksCommand(nextToken ? { NextToken: nextToken } : {})));
        return { stacks: (answer.Stacks ?? []).map(toStackInfo), nextToken: answer.NextToken || undefined };
      } catch (error) {
        throw explainCloudFormationError(error, region);
      }
    },
    async describeStack(name) {
      try {
        const answer = await retryThrottled(() => client.send(new DescribeStacksCommand({ StackName: name })));
        const stack = answer.Stacks?.[0];
        return stack ? toStackInfo(stack) : undefined;
      } catch (error) {
        if (awsErrorName(error) === "ValidationError" && /does not exist/i.test(describeError(error))) return undefined;
        throw explainCloudFormationError(error, region);
      }
    },
  };
}

/** A catalog URL or QuiltWebHost value reduced to its host: no scheme, path, trailing slash or case. */
export function normalizeHost(value: string): string {
  const text = value.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, "");
  return text.split(/[/?#]/, 1)[0]!.replace(/\.$/, "");
}

/** Stacks that are gone or going: deleted, or being deleted. */
export function isDeleted(stack: StackInfo): boolean {
  return stack.status === "DELETE_COMPLETE" || stack.status === "DELETE_IN_PROGRESS";
}

/** Every stack of the region that is not deleted or being deleted, page by page (DescribeStacks returns outputs, so no call per stack). */
export async function listStacks(api: CloudFormationApi): Promise<{ stacks: StackInfo[]; pages: number }> {
  const stacks: StackInfo[] = [];
  let token: string | undefined;
  let pages = 0;
  const seen = new Set<string>();
  do {
    const page = await api.describeStacksPage(token);
    pages++;
    stacks.push(...page.stacks.filter((s) => !isDeleted(s)));
    token = page.nextToken;
    if (token && seen.has(token)) break;
    if (token) seen.add(token);
  } while (token);
  return { stacks, pages };
}

/**
 * The Quilt stack of a catalog: the stack whose output QuiltWebHost is the catalog's host. Stacks
 * being deleted are ignored; a live stack is preferred over ones whose deletion failed, which come
 * back as `others` so the caller can mention them. Zero or several candidates are errors that list
 * what was found.
 */
export async function findQuiltStack(
  api: CloudFormationApi,
  catalogUrl: string,
  region: string,
): Promise<StackInfo & { pages: number; scanned: number; others: StackInfo[] }> {
  const { stacks, pages } = await listStacks(api);
  const host = normalizeHost(catalogUrl);
  const quiltStacks = stacks.filter((s) => s.outputs.QuiltWebHost !== undefined);
  const matches = quiltStacks.filter((s) => normalizeHost(s.outputs.QuiltWebHost!) === host);
  const live = matches.filter((s) => s.status !== "DELETE_FAILED");
  const candidates = live.length ? live : matches;
  if (candidates.length === 1) {
    return { ...candidates[0]!, pages, scanned: stacks.length, others: matches.filter((s) => s !== candidates[0]) };
  }
  if (candidates.length > 1) {
    throw new UserError(
      `${candidates.length} stacks in ${region} serve the catalog ${host}: ${matches.map((s) => `${s.name} (${s.status})`).join(", ")}.`,
      "Delete the stale stack, or check that you have the right catalog URL (--catalog).",
    );
  }
  const found = quiltStacks.length
    ? `Quilt stacks there: ${quiltStacks.map((s) => `${s.name} → ${s.outputs.QuiltWebHost}`).join(", ")}.`
    : `None of its ${stacks.length} stacks has a QuiltWebHost output.`;
  throw new UserError(
    `No CloudFormation stack in ${region} has QuiltWebHost = ${host}. ${found}`,
    "Check the catalog URL (--catalog) and the region (--region), and that your AWS profile (--profile) is in the catalog's account.",
  );
}

/** The stack outputs that name the packager queue, in order of preference. */
export const QUEUE_OUTPUTS = ["PackagerQueueUrl", "PackagerQueueArn", "PackagerQueue"] as const;

/** The packager queue a Quilt stack names in its outputs (URL or ARN, whichever output holds it). */
export function queueFromStack(stack: StackInfo): { queue: QueueAddress; output: string } {
  for (const key of QUEUE_OUTPUTS) {
    const value = stack.outputs[key]?.trim();
    if (value) return { queue: parseQueueAddress(value), output: key };
  }
  throw new UserError(
    `The stack ${stack.name} has none of the outputs ${QUEUE_OUTPUTS.join(", ")}; its outputs are: ${Object.keys(stack.outputs).join(", ") || "(none)"}.`,
    "Upgrade the Quilt stack to a version with the packager queue, or check that this is the catalog's stack.",
  );
}
