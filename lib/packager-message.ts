import { createHash } from "node:crypto";
import { UserError } from "./errors.ts";
import type { Metadata } from "./run-metadata.ts";

/** What Quilt's packager reads from each SQS message body (unknown fields are ignored). */
export interface PackagerMessage {
  source_prefix: string;
  registry?: string;
  package_name?: string;
  metadata?: Metadata;
  workflow?: string;
  commit_message?: string;
}

/** SQS's limit for queues that do not say (the pre-2025 default); queues made since allow 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 262_144;

const S3_BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** S3's bucket naming rules: 3-63 of [a-z0-9.-], no "..", ".-" or "-.", not an IP address. */
export function isBucketName(name: string): boolean {
  return S3_BUCKET_RE.test(name) && !/\.\.|\.-|-\./.test(name) && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/** Control characters or unpaired UTF-16 surrogates: text that cannot be an S3 key or a clean log line. */
function hasUnprintable(text: string): boolean {
  return /[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
const PACKAGE_NAME_RE = /^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/;

/**
 * The packager's `source_prefix`: the outdir as an s3:// URL ending in exactly one `/`, so the
 * folder itself is packaged. A local outdir is refused unless `allowLocal` (dry runs).
 */
export function sourcePrefixFor(outdir: string, { allowLocal = false } = {}): string {
  const trimmed = outdir.trim().replace(/\/+$/, "");
  if (hasUnprintable(trimmed)) {
    throw new UserError(`The outdir ${JSON.stringify(outdir)} contains control characters or broken Unicode.`, "Set --outdir to a plain s3://<bucket>/<folder>.");
  }
  const match = /^s3:\/\/([^/]+)(\/.*)?$/i.exec(trimmed);
  if (match) {
    const bucket = match[1] ?? "";
    if (!isBucketName(bucket)) {
      throw new UserError(`The outdir ${outdir} names an invalid S3 bucket "${bucket}".`, "Set --outdir to s3://<bucket>/<folder>.");
    }
    if (/\/\//.test(match[2] ?? "")) {
      throw new UserError(`The outdir ${outdir} has an empty folder name ("//").`, "Remove the doubled slash from --outdir.");
    }
    return `s3://${bucket}${match[2] ?? ""}/`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !/^file:\/\//i.test(trimmed)) {
    throw new UserError(
      `The outdir ${outdir} is not on S3; Quilt can only package s3:// folders.`,
      "Run the pipeline with --outdir s3://<bucket>/<folder> in a bucket the catalog can read.",
    );
  }
  if (allowLocal) return `${trimmed || "/"}/`;
  throw new UserError(
    `The outdir ${outdir} is a local path; Quilt can only package s3:// folders.`,
    "Run the pipeline with --outdir s3://<bucket>/<folder> (use --dry-run to try a local outdir without sending).",
  );
}

/** The registry as the packager wants it: a bare bucket name (an s3:// URL of the bucket is accepted). */
export function registryBucket(registry: string): string {
  return registry.replace(/^s3:\/\//, "").replace(/\/$/, "");
}

/** Checks the optional pass-through params the packager validates, so a bad one fails here, not in the catalog. */
export function checkPassThrough(fields: { package_name?: string; registry?: string }): void {
  if (fields.package_name !== undefined && !PACKAGE_NAME_RE.test(fields.package_name)) {
    throw new UserError(
      `sqs_package_name "${fields.package_name}" is not a Quilt package name.`,
      "Use owner/name, each part made of letters, digits, _ and -.",
    );
  }
  if (fields.registry !== undefined && !isBucketName(registryBucket(fields.registry))) {
    throw new UserError(`sqs_registry "${fields.registry}" is not an S3 bucket name.`, "Give the bucket name alone, e.g. my-registry.");
  }
}

/** "Seqera Platform run <name> (<id>) of <pipeline> completed at <time>"; each name capped at 200 characters. */
export function commitMessageFor(run: {
  id: string;
  runName?: string | null;
  projectName?: string | null;
  status?: string | null;
  complete?: string | null;
}): string {
  const name = run.runName ? `${cap(run.runName)} (${cap(run.id)})` : cap(run.id);
  const of = run.projectName ? ` of ${cap(run.projectName)}` : "";
  const when = formatUtc(run.complete ?? new Date().toISOString());
  const status = run.status?.toUpperCase();
  const verb = status === "FAILED" || status === "CANCELLED" ? `ended ${status}` : "completed";
  return `Seqera Platform run ${name}${of} ${verb} at ${when}`;
}

function cap(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatUtc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? cap(iso, 40) : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/**
 * The JSON body. JSON.stringify already escapes control characters and lone surrogates; U+FFFE and
 * U+FFFF are valid JSON but refused by SQS, so they are written as escapes too. The value is unchanged.
 */
export function serialiseBody(message: PackagerMessage): string {
  return JSON.stringify(message).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Characters SQS accepts in a message: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
export function hasOnlySqsCharacters(body: string): boolean {
  return !/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body);
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export interface FittedMessage {
  message: PackagerMessage;
  body: string;
  bytes: number;
  /** Metadata fields removed to fit, largest first. */
  dropped: string[];
}

/** Fields that identify the run: dropped only after every other field. */
const KEEP_LONGEST = new Set(["tower_workflow_id", "api_run_name", "api_status", "api_session_id", "wrroc_status"]);

/**
 * Makes the body fit `maxBytes` (UTF-8): drops the largest metadata fields (the run's identifiers
 * last), one at a time, and lists them in `metadata.metadata_dropped_fields` (or counts them, where
 * the list itself would not fit). Throws when even the message without metadata is too big.
 */
export function fitMessage(message: PackagerMessage, maxBytes: number): FittedMessage {
  let body = serialiseBody(message);
  if (utf8Bytes(body) <= maxBytes) return { message, body, bytes: utf8Bytes(body), dropped: [] };

  const metadata: Metadata = { ...(message.metadata ?? {}) };
  const order = Object.keys(metadata).sort(
    (a, b) =>
      Number(KEEP_LONGEST.has(a)) - Number(KEEP_LONGEST.has(b)) || fieldBytes(metadata, b) - fieldBytes(metadata, a) || a.localeCompare(b),
  );
  const dropped: string[] = [];
  for (const key of order) {
    delete metadata[key];
    dropped.push(key);
    for (const listed of [dropped, [`(${dropped.length} fields)`]]) {
      const candidate: PackagerMessage = { ...message, metadata: { ...metadata, metadata_dropped_fields: listed } };
      body = serialiseBody(candidate);
      if (utf8Bytes(body) <= maxBytes) return { message: candidate, body, bytes: utf8Bytes(body), dropped: [...dropped] };
    }
  }
  const { metadata: _all, ...bare } = message;
  body = serialiseBody(bare);
  if (utf8Bytes(body) <= maxBytes) return { message: bare, body, bytes: utf8Bytes(body), dropped };
  throw new UserError(
    `The message is ${utf8Bytes(body)} bytes even without metadata; the queue accepts at most ${maxBytes}.`,
    "Shorten the outdir, sqs_package_name or sqs_workflow params, or raise the queue's MaximumMessageSize.",
  );
}

function fieldBytes(metadata: Metadata, key: string): number {
  return utf8Bytes(JSON.stringify({ [key]: metadata[key] }));
}

/**
 * FIFO send parameters derived from the run: one group per output folder (so revisions of one
 * package arrive in order) and a deduplication id per run, so a retried hook is not packaged twice.
 */
export function fifoParameters(sourcePrefix: string, run: { id: string; sessionId?: string | null; complete?: string | null }) {
  return {
    MessageGroupId: sha256(sourcePrefix).slice(0, 64),
    MessageDeduplicationId: sha256([run.id, run.sessionId ?? "", run.complete ?? ""].join("|")).slice(0, 64),
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
