import { UserError } from "./errors.ts";
import { decodePolicyText } from "./iam-policy.ts";

/** The inline policy Seqera's Batch Forge gives its roles; setup adds its grants there. */
export const NEXTFLOW_POLICY = "nextflow-policy";
/** Statement ids owned by this tool (IAM allows only [A-Za-z0-9] in a Sid). */
export const SEND_SID = "QuiltPackagerQueueSend";
export const KMS_SID = "QuiltPackagerQueueKms";
export const SEND_ACTIONS = ["sqs:SendMessage"];
export const KMS_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"];
/** IAM's limit on the total size of a role's inline policies, whitespace not counted. */
export const INLINE_POLICY_SIZE_LIMIT = 10_240;

/** One grant this tool owns: the statement `sid` allows `actions` on `resources` (extended, never duplicated). */
export interface Grant {
  sid: string;
  actions: string[];
  resource: string;
}

/** What setup will write to one role's nextflow-policy, as data (so --dry-run only prints it). */
export interface PolicyChange {
  roleName: string;
  policyName: string;
  /** The current document text (decoded), undefined when the policy does not exist yet. */
  before?: string;
  /** The document to write, pretty-printed. */
  after: string;
  /** Human-readable summary of each change. */
  changes: string[];
  /** Total size of the role's inline policies after the change, whitespace not counted. */
  inlineSizeAfter: number;
}

/** IAM's size of a policy document: its JSON without whitespace outside strings. */
export function policySize(documentText: string): number {
  try {
    return JSON.stringify(JSON.parse(decodePolicyText(documentText))).length;
  } catch {
    return decodePolicyText(documentText).replace(/\s+/g, "").length;
  }
}

function asList(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function singleOrList(values: string[]): string | string[] {
  return values.length === 1 ? (values[0] as string) : values;
}

const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d+";

/** What each statement of this tool may hold: exactly its actions, and resources of its own kind. */
const OWNED_STATEMENTS: Record<string, { actions: string[]; resource: RegExp; kind: string }> = {
  [SEND_SID]: { actions: SEND_ACTIONS, resource: new RegExp(`^arn:aws[a-z-]*:sqs:${REGION}:\\d{12}:[A-Za-z0-9_-]{1,80}(?:\\.fifo)?$`), kind: "SQS queue ARNs" },
  [KMS_SID]: { actions: KMS_ACTIONS, resource: new RegExp(`^arn:aws[a-z-]*:kms:${REGION}:\\d{12}:key/[A-Za-z0-9-]+$`), kind: "KMS key ARNs" },
};
const OWNED_KEYS = ["Sid", "Effect", "Action", "Resource"];

function stringList(value: unknown): string[] | undefined {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  return undefined;
}

/**
 * Why a statement carrying one of this tool's Sids is not one the tool writes (Allow, exactly the
 * tool's actions, only ARNs of its kind, nothing else); undefined when it is one, or not the tool's.
 */
export function describeHandEdit(statement: Record<string, unknown>): string | undefined {
  const owned = typeof statement.Sid === "string" ? OWNED_STATEMENTS[statement.Sid] : undefined;
  if (!owned) return undefined;
  const extra = Object.keys(statement).filter((key) => !OWNED_KEYS.includes(key));
  if (extra.length) return `it has ${extra.join(", ")}`;
  if (statement.Effect !== "Allow") return `its Effect is ${JSON.stringify(statement.Effect ?? null)}, not "Allow"`;
  const actions = stringList(statement.Action)?.map((a) => a.toLowerCase());
  const wanted = owned.actions.map((a) => a.toLowerCase());
  if (!actions || actions.some((a) => !wanted.includes(a)) || wanted.some((a) => !actions.includes(a))) {
    return `its Action is ${JSON.stringify(statement.Action ?? null)}, not ${JSON.stringify(singleOrList(owned.actions))}`;
  }
  const resources = stringList(statement.Resource);
  if (!resources?.length) return `its Resource is ${JSON.stringify(statement.Resource ?? null)}, not a list of ${owned.kind}`;
  const foreign = resources.filter((r) => !owned.resource.test(r));
  if (foreign.length) return `its Resource holds ${foreign.join(", ")}: only ${owned.kind} belong there`;
  return undefined;
}

/**
 * Plans the new document of a role's nextflow-policy so that it holds every grant: the statement
 * with the grant's Sid gets the grant's resource added, otherwise one statement is appended. A single
 * `Statement` object becomes a list; no other statement is touched. The tool's own statements are
 * checked even when no grant is needed: one edited by hand (or two with the same Sid) is an error.
 * Returns undefined when the document already holds every grant.
 */
export function planPolicyDocument(
  existingText: string | undefined,
  grants: Grant[],
  where: string,
): { document: Record<string, unknown>; changes: string[] } | undefined {
  let document: Record<string, unknown>;
  if (existingText === undefined) {
    document = { Version: "2012-10-17", Statement: [] };
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decodePolicyText(existingText));
    } catch (error) {
      throw new UserError(`${where} is not valid JSON (${(error as Error).message}); setup will not rewrite it.`, "Fix the policy in the IAM console, then run setup again.");
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new UserError(`${where} is not a JSON object; setup will not rewrite it.`, "Fix the policy in the IAM console, then run setup again.");
    }
    document = structuredClone(parsed) as Record<string, unknown>;
  }
  const statements: Array<Record<string, unknown>> =
    document.Statement === undefined ? [] : Array.isArray(document.Statement) ? document.Statement : [document.Statement as Record<string, unknown>];
  const ownedBySid = new Map<string, Array<Record<string, unknown>>>();
  for (const statement of statements) {
    if (!statement || typeof statement !== "object" || typeof statement.Sid !== "string" || !OWNED_STATEMENTS[statement.Sid]) continue;
    ownedBySid.set(statement.Sid, [...(ownedBySid.get(statement.Sid) ?? []), statement]);
    const why = describeHandEdit(statement);
    if (why) {
      throw new UserError(
        `${where}: the statement with Sid ${statement.Sid} (setup-sqs writes it) was edited by hand: ${why}. Setup will not merge into it; nothing was changed.`,
        `Move what was added to a statement with another Sid (or delete the statement ${statement.Sid}) in the IAM console, then run setup again: it writes its own statement anew.`,
      );
    }
  }
  for (const [sid, owned] of ownedBySid) {
    if (owned.length > 1) {
      throw new UserError(`${where} has ${owned.length} statements with Sid ${sid}; nothing was changed.`, `Remove all but one of them in the IAM console, then run setup again.`);
    }
  }
  const changes: string[] = [];
  for (const grant of grants) {
    const statement = ownedBySid.get(grant.sid)?.[0];
    if (!statement) {
      statements.push({ Sid: grant.sid, Effect: "Allow", Action: singleOrList(grant.actions), Resource: grant.resource });
      changes.push(`add statement ${grant.sid}: Allow ${grant.actions.join(", ")} on ${grant.resource}`);
      continue;
    }
    const resources = asList(statement.Resource);
    if (!resources.includes(grant.resource)) {
      statement.Resource = singleOrList([...resources, grant.resource]);
      changes.push(`extend statement ${grant.sid} with resource ${grant.resource}`);
    }
  }
  if (!changes.length) return undefined;
  if (existingText === undefined) changes.unshift(`create inline policy ${NEXTFLOW_POLICY}`);
  else if (!Array.isArray(document.Statement)) changes.push("turn the single Statement object into a list");
  document.Statement = statements;
  return { document, changes };
}

/**
 * Plans one role's policy change and checks it against IAM's inline size limit before anything
 * is written. `inlinePolicies` are all of the role's inline policy documents by name.
 */
export function planPolicyChange(roleName: string, inlinePolicies: Map<string, string>, grants: Grant[]): PolicyChange | undefined {
  const before = inlinePolicies.get(NEXTFLOW_POLICY);
  const where = `The inline policy ${NEXTFLOW_POLICY} of role ${roleName}`;
  const planned = planPolicyDocument(before, grants, where);
  if (!planned) return undefined;
  const after = JSON.stringify(planned.document, null, 2);
  let inlineSizeAfter = policySize(after);
  for (const [name, text] of inlinePolicies) if (name !== NEXTFLOW_POLICY) inlineSizeAfter += policySize(text);
  if (inlineSizeAfter > INLINE_POLICY_SIZE_LIMIT) {
    throw new UserError(
      `Role ${roleName}: its inline policies would total ${inlineSizeAfter} characters, over IAM's limit of ${INLINE_POLICY_SIZE_LIMIT}; nothing was changed.`,
      `Make room in the role's inline policies (or move statements to a managed policy), or grant ${grants.flatMap((g) => g.actions).join(", ")} through a managed policy, then run setup again.`,
    );
  }
  return { roleName, policyName: NEXTFLOW_POLICY, before: before === undefined ? undefined : decodePolicyText(before), after, changes: planned.changes, inlineSizeAfter };
}
