import { UserError } from "./errors.ts";

/** One IAM policy statement, normalised: every list-or-string field is a list, absent fields undefined. */
export interface PolicyStatement {
  sid?: string;
  effect: "Allow" | "Deny";
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  hasCondition: boolean;
}

export interface PolicyDocument {
  statements: PolicyStatement[];
  /** The parsed JSON, untouched, for callers that rewrite the document. */
  raw: Record<string, unknown>;
}

/** A policy that applies to a role: inline (by name) or attached managed (by ARN). */
export interface NamedPolicy {
  name: string;
  kind: "inline" | "managed";
  document: PolicyDocument;
}

/** Where a statement sits, for messages: `nextflow-policy` statement 2 (Sid X). */
export interface StatementRef {
  policy: string;
  kind: "inline" | "managed";
  index: number;
  sid?: string;
}

export type Decision = "allowed" | "denied" | "conditional" | "not-allowed";

/** The outcome of evaluating a role's policies for one action on one resource. */
export interface AccessVerdict {
  action: string;
  resource: string;
  /** allowed: a plain Allow and no plain Deny; denied: a plain Deny; conditional: only Allows with conditions. */
  decision: Decision;
  allowedBy: StatementRef[];
  deniedBy: StatementRef[];
  conditionalAllows: StatementRef[];
  conditionalDenies: StatementRef[];
}

/**
 * The JSON text of a policy document as IAM returns it: GetRolePolicy and GetPolicyVersion answer
 * URL-encoded (RFC 3986) documents, other sources plain JSON.
 */
export function decodePolicyText(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return trimmed;
  try {
    return decodeURIComponent(trimmed).trim();
  } catch {
    return trimmed;
  }
}

function toList(value: unknown, field: string, source: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw new UserError(`The policy ${source} has a ${field} that is neither a string nor a list of strings.`, "Fix the policy document in IAM.");
}

/**
 * Parses a policy document (plain or URL-encoded JSON text, or an already parsed object).
 * `Statement`, `Action`, `Resource` and their Not- forms may be single values or lists.
 */
export function parsePolicyDocument(input: string | Record<string, unknown>, source = "document"): PolicyDocument {
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(decodePolicyText(input));
    } catch (error) {
      throw new UserError(`The policy ${source} is not valid JSON: ${(error as Error).message}`, "Fix or replace the policy document in IAM.");
    }
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError(`The policy ${source} is not a JSON object.`, "Fix or replace the policy document in IAM.");
  }
  const record = raw as Record<string, unknown>;
  const rawStatements = record.Statement === undefined ? [] : Array.isArray(record.Statement) ? record.Statement : [record.Statement];
  const statements = rawStatements.map((s, index): PolicyStatement => {
    if (!s || typeof s !== "object" || Array.isArray(s)) {
      throw new UserError(`Statement ${index + 1} of the policy ${source} is not a JSON object.`, "Fix the policy document in IAM.");
    }
    const st = s as Record<string, unknown>;
    const effect = st.Effect === "Deny" ? "Deny" : st.Effect === "Allow" ? "Allow" : undefined;
    if (!effect) throw new UserError(`Statement ${index + 1} of the policy ${source} has no valid Effect.`, "Fix the policy document in IAM.");
    return {
      sid: typeof st.Sid === "string" ? st.Sid : undefined,
      effect,
      actions: toList(st.Action, "Action", source),
      notActions: toList(st.NotAction, "NotAction", source),
      resources: toList(st.Resource, "Resource", source),
      notResources: toList(st.NotResource, "NotResource", source),
      hasCondition: st.Condition !== undefined && !(typeof st.Condition === "object" && st.Condition !== null && Object.keys(st.Condition).length === 0),
    };
  });
  return { statements, raw: record };
}

const patternCache = new Map<string, RegExp>();

/** IAM wildcard matching: `*` any run of characters, `?` one character; actions compare case-insensitively. */
export function matchesWildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const key = `${ignoreCase ? "i" : "s"}:${pattern}`;
  let re = patternCache.get(key);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === "*" ? ".*" : c === "?" ? "." : `\\${c}`));
    re = new RegExp(`^${body}$`, ignoreCase ? "is" : "s");
    patternCache.set(key, re);
  }
  return re.test(value);
}

function matchesAction(st: PolicyStatement, action: string): boolean {
  if (st.actions) return st.actions.some((p) => matchesWildcard(p, action, true));
  if (st.notActions) return !st.notActions.some((p) => matchesWildcard(p, action, true));
  return false;
}

/** A policy variable (`${aws:PrincipalTag/team}`) stands for a value only known at request time. */
function hasPolicyVariable(pattern: string): boolean {
  return pattern.includes("${");
}

/** Matches a resource pattern, reading each policy variable as "any value": a match is then only possible. */
function matchesResourcePattern(pattern: string, resource: string): "yes" | "maybe" | "no" {
  if (!hasPolicyVariable(pattern)) return matchesWildcard(pattern, resource) ? "yes" : "no";
  return matchesWildcard(pattern.replace(/\$\{[^}]*\}?/g, "*"), resource) ? "maybe" : "no";
}

/** Whether a statement's Resource / NotResource covers `resource`: "maybe" where a policy variable decides. */
function matchesResource(st: PolicyStatement, resource: string): "yes" | "maybe" | "no" {
  const patterns = st.resources ?? st.notResources;
  if (!patterns) return "no";
  const results = patterns.map((p) => matchesResourcePattern(p, resource));
  const any = results.includes("yes") ? "yes" : results.includes("maybe") ? "maybe" : "no";
  if (st.resources) return any;
  return any === "yes" ? "no" : any === "maybe" ? "maybe" : "yes";
}

/**
 * Evaluates identity policies the way IAM does for one request: an explicit Deny wins, else a
 * matching Allow grants. Statements with a Condition are reported apart: they may or may not apply;
 * so is a Deny whose Resource holds a policy variable that could name this resource.
 */
export function evaluateAccess(policies: NamedPolicy[], action: string, resource: string): AccessVerdict {
  const verdict: AccessVerdict = { action, resource, decision: "not-allowed", allowedBy: [], deniedBy: [], conditionalAllows: [], conditionalDenies: [] };
  for (const policy of policies) {
    policy.document.statements.forEach((st, index) => {
      if (!matchesAction(st, action)) return;
      const covers = matchesResource(st, resource);
      if (covers === "no" || (covers === "maybe" && st.effect === "Allow")) return;
      const ref: StatementRef = { policy: policy.name, kind: policy.kind, index, ...(st.sid ? { sid: st.sid } : {}) };
      const certain = !st.hasCondition && covers === "yes";
      if (st.effect === "Deny") (certain ? verdict.deniedBy : verdict.conditionalDenies).push(ref);
      else (certain ? verdict.allowedBy : verdict.conditionalAllows).push(ref);
    });
  }
  if (verdict.deniedBy.length) verdict.decision = "denied";
  else if (verdict.allowedBy.length) verdict.decision = "allowed";
  else if (verdict.conditionalAllows.length) verdict.decision = "conditional";
  return verdict;
}

/** Whether a verdict carries something the user should hear about: a conditional or possible Deny, or only a conditional Allow. */
export function hasCaveat(verdict: AccessVerdict): boolean {
  return verdict.decision === "conditional" || (verdict.decision !== "denied" && verdict.conditionalDenies.length > 0);
}

export function describeStatementRef(ref: StatementRef): string {
  const what = ref.kind === "inline" ? `inline policy ${ref.policy}` : `managed policy ${ref.policy}`;
  return `${what}, statement ${ref.index + 1}${ref.sid ? ` (Sid ${ref.sid})` : ""}`;
}

/**
 * One sentence saying what the evaluation found, naming the statements that decided it and, once,
 * any Deny that may apply (under a Condition, or through a policy variable in its Resource).
 */
export function describeVerdict(verdict: AccessVerdict): string {
  const list = (refs: StatementRef[]) => refs.map(describeStatementRef).join("; ");
  const what = `${verdict.action} on ${verdict.resource}`;
  const mayDeny = verdict.conditionalDenies.length
    ? ` (but a Deny with a Condition or a policy variable may block it: ${list(verdict.conditionalDenies)})`
    : "";
  switch (verdict.decision) {
    case "denied":
      return `${what} is explicitly denied by ${list(verdict.deniedBy)}`;
    case "allowed":
      return `${what} is allowed by ${list(verdict.allowedBy)}${mayDeny}`;
    case "conditional":
      return `${what} is allowed only under a Condition, which does not count as a plain grant (${list(verdict.conditionalAllows)})${mayDeny}`;
    default:
      return `no policy allows ${what}${mayDeny}`;
  }
}
