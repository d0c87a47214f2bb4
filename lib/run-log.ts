import type { SeqeraApi } from "./seqera-api.ts";

/** What a run's log says the post-run script did. */
export type PostRunOutcome =
  | { kind: "sent"; messageId: string; queueUrl?: string; region?: string }
  | { kind: "failed"; reason: string; whatToDo?: string }
  | { kind: "skipped"; reason?: string }
  | { kind: "unknown" };

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;

/** Text without terminal colour and cursor codes, and without carriage returns. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "").replace(/\r(?!\n)/g, "\n").replace(/\r\n/g, "\n");
}

const SUCCESS = /^SUCCESS: packaging message sent \(MessageId ([^)\s]+)\)\s*$/;
const ERROR = /^ERROR: the packaging message was not sent\s*$/;
const SKIPPED = /^SKIPPED: no packaging message\s*$/;
const LAUNCHER_ERROR = /^ERROR: post-run-sqs: (.+)$/;
const RULE = /^={8,}\s*$/;

/**
 * Finds the post-run script's banner in a run's log: SUCCESS (with the message id, queue and
 * region), the ERROR banner (reason and what to do), the launcher's own ERROR line, or SKIPPED.
 * The last banner wins (a retried hook prints again); no banner is "unknown".
 */
export function parsePostRunOutcome(log: string): PostRunOutcome {
  const lines = stripAnsi(log).split("\n");
  let outcome: PostRunOutcome = { kind: "unknown" };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    // A banner title stands at column 0 right under a rule; the bundle's logger indents every other
    // line a value could start, so text from params or the API cannot pose as a banner.
    const titled = i > 0 && RULE.test(lines[i - 1]!);
    const body = bannerBody(lines, i + 1);
    const success = SUCCESS.exec(line);
    if (success && titled) {
      outcome = { kind: "sent", messageId: success[1]!, ...field(body, "Queue", "queueUrl"), ...field(body, "Region", "region") };
    } else if (titled && ERROR.test(line)) {
      const whatToDo = body.find((l) => l.startsWith("What to do:"))?.slice("What to do:".length).trim();
      const reason = body.filter((l) => !l.startsWith("What to do:")).join(" ").trim() || "no reason was printed";
      outcome = { kind: "failed", reason, ...(whatToDo ? { whatToDo } : {}) };
    } else if (titled && SKIPPED.test(line)) {
      outcome = { kind: "skipped", ...(body[0] ? { reason: body[0] } : {}) };
    } else {
      const launcher = LAUNCHER_ERROR.exec(line);
      if (launcher) outcome = { kind: "failed", reason: launcher[1]!.trim() };
    }
  }
  return outcome;
}

/**
 * The items of a banner, up to its closing rule: each starts two spaces in; a line indented
 * further continues the item before it (the bundle's logger indents a value's own line breaks).
 */
function bannerBody(lines: string[], start: number): string[] {
  const body: string[] = [];
  for (let i = start; i < lines.length && i < start + 50; i++) {
    const line = lines[i]!;
    if (RULE.test(line) || !/^\s/.test(line)) break;
    if (/^\s{3,}/.test(line) && body.length) body[body.length - 1] += ` ${line.trim()}`;
    else body.push(line.trim());
  }
  return body;
}

function field<K extends string>(body: string[], label: string, key: K): Partial<Record<K, string>> {
  const line = body.find((l) => l.startsWith(`${label}:`));
  const value = line?.slice(label.length + 1).trim();
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

/** GET /workflow/{id}/log: one page of the run's console log (LogPage in the OpenAPI spec). */
export interface LogPage {
  entries?: string[] | null;
  truncated?: boolean;
  pending?: boolean;
  forwardToken?: string | null;
  rewindToken?: string | null;
  message?: string | null;
  downloads?: Array<{ fileName?: string; displayText?: string; saveName?: string }> | null;
}

export interface RunLogText {
  text: string;
  /** The run's log is still being written (the post-run script may not have finished). */
  pending: boolean;
  /** Where the text came from, for messages. */
  source: "log" | "download";
}

const MAX_PAGES = 50;

/**
 * Reads a run's whole console log: GET /workflow/{id}/log, following `forwardToken` page by
 * page; when the API says the log is `truncated`, downloads the full file (nf-{id}.txt) instead.
 */
export async function readRunLog(api: SeqeraApi, workflowId: string): Promise<RunLogText> {
  const path = `/workflow/${encodeURIComponent(workflowId)}/log`;
  const entries: string[] = [];
  let page = (await api.get<{ log?: LogPage }>(path)).log ?? {};
  for (let pages = 1; ; pages++) {
    entries.push(...(page.entries ?? []));
    const next = page.forwardToken;
    const more = Boolean(next && page.entries?.length);
    // The hook's banner is at the end: a log too long to page through is read whole instead.
    if (page.truncated || (more && pages >= MAX_PAGES)) {
      const fileName = page.downloads?.find((d) => d.fileName?.endsWith(".txt"))?.fileName ?? `nf-${workflowId}.txt`;
      const text = await api.getText(`/workflow/${encodeURIComponent(workflowId)}/download`, { fileName });
      return { text, pending: Boolean(page.pending), source: "download" };
    }
    if (!more) break;
    page = (await api.get<{ log?: LogPage }>(path, { next: next ?? undefined })).log ?? {};
  }
  return { text: entries.join("\n"), pending: Boolean(page.pending), source: "log" };
}
