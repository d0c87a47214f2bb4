import type { Writable } from "node:stream";
import type { SeqeraApi } from "./seqera-api.ts";
import { readWorkflow } from "./seqera-run.ts";

export const FINAL_STATUSES = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

export interface PollSchedule {
  /** First interval between two looks. */
  initialMs: number;
  /** The interval grows by half each time, up to this. */
  maxMs: number;
}

export const DEFAULT_SCHEDULE: PollSchedule = { initialMs: 2_000, maxMs: 120_000 };

/** The next interval: 1.5 times the last, at most `maxMs` (pure). */
export function nextInterval(lastMs: number, schedule: PollSchedule): number {
  return Math.min(Math.max(schedule.initialMs, Math.round(lastMs * 1.5)), schedule.maxMs);
}

/** 75 → "1m 15s" (pure). */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}h ${m}m ${s}s` : m ? `${m}m ${s}s` : `${s}s`;
}

/** "90s", "15m", "2h", "1h30m"; a bare number is minutes. Undefined when malformed (pure). */
export function parseDuration(text: string): number | undefined {
  const value = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 60_000;
  const match = /^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$/.exec(value);
  if (!match || !value || (!match[1] && !match[2] && !match[3])) return undefined;
  return (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1000;
}

export interface RunState {
  status: string;
  errorMessage?: string | null;
  exitStatus?: number | null;
  runName?: string;
}

export type WaitResult = { kind: "final"; run: RunState; elapsedMs: number } | { kind: "timeout"; run: RunState | undefined; elapsedMs: number };

/** Shows the wait: a status line redrawn in place on a terminal, plain lines (on changes) otherwise. */
export class StatusLine {
  private readonly tty: boolean;
  private text = "";
  private lastPlain = "";

  constructor(private readonly stream: Writable) {
    this.tty = Boolean((stream as { isTTY?: boolean }).isTTY);
  }

  show(status: string, elapsedMs: number): void {
    const line = `Run status: ${status} (${formatElapsed(elapsedMs)})`;
    if (this.tty) {
      this.text = line;
      this.stream.write(`\r\u001b[K${line}`);
    } else if (status !== this.lastPlain) {
      this.lastPlain = status;
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the in-place line, so that what follows starts on a new line. */
  done(): void {
    if (this.tty && this.text) this.stream.write("\n");
    this.text = "";
  }
}

export interface WaitOptions {
  schedule: PollSchedule;
  timeoutMs: number;
  onStatus: (status: string, elapsedMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls GET /workflow/{id} until the run is SUCCEEDED, FAILED or CANCELLED (other statuses,
 * including ones this code does not know, are not final), or until `timeoutMs` has passed.
 */
export async function waitForRun(api: SeqeraApi, workflowId: string, options: WaitOptions): Promise<WaitResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const started = now();
  let interval = 0;
  let run: RunState | undefined;
  for (;;) {
    const answer = await api.get<{ workflow?: unknown } | null>(`/workflow/${encodeURIComponent(workflowId)}`);
    const workflow = readWorkflow(answer?.workflow, workflowId, api.endpoint);
    run = { status: workflow.status ?? "UNKNOWN", errorMessage: workflow.errorMessage, exitStatus: workflow.exitStatus, runName: workflow.runName ?? undefined };
    const elapsedMs = now() - started;
    options.onStatus(run.status ?? "UNKNOWN", elapsedMs);
    if (FINAL_STATUSES.has(run.status)) return { kind: "final", run, elapsedMs };
    if (elapsedMs >= options.timeoutMs) return { kind: "timeout", run, elapsedMs };
    interval = nextInterval(interval, options.schedule);
    await sleep(Math.min(interval, Math.max(0, options.timeoutMs - elapsedMs)));
  }
}
