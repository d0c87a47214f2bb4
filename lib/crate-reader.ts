import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { awsErrorName, describeError } from "./errors.ts";

import { METADATA_FILE as CRATE_FILE } from "./wrroc.ts";
/** How long to wait for the crate by default, and how often to look. nf-prov writes it as the run ends. */
export const DEFAULT_CRATE_WAIT_SECONDS = 30;
export const DEFAULT_CRATE_POLL_SECONDS = 2;
const MAX_CRATE_BYTES = 64 * 1024 * 1024;

export type CrateRead =
  | { found: true; location: string; text: string; attempts: number }
  | { found: false; location: string; reason: string; attempts: number; bucketMissing?: boolean };

export interface CrateReadOptions {
  waitSeconds?: number;
  pollSeconds?: number;
  /** S3 client for s3:// outdirs. */
  s3?: () => S3Client;
  sleep?: (ms: number) => Promise<void>;
  /** Stops the wait (the read then reports the crate as not found). */
  signal?: AbortSignal;
  onWait?: (event: { location: string; attempt: number; remainingMs: number }) => void;
}

/** `<outdir>/ro-crate-metadata.json`, for an s3:// URL, a file:// URL or a local path. */
export function crateLocation(outdir: string): string {
  return `${outdir.trim().replace(/\/+$/, "")}/${CRATE_FILE}`;
}

type Attempt = { text: string } | { missing: string } | { failed: string; bucketMissing?: boolean };

/** Waits (bounded) for the crate to appear and returns its text; gives up at once on errors that waiting cannot fix. */
export async function readCrate(outdir: string, options: CrateReadOptions = {}): Promise<CrateRead> {
  const location = crateLocation(outdir);
  const waitMs = Math.max(0, (options.waitSeconds ?? DEFAULT_CRATE_WAIT_SECONDS) * 1000);
  const pollMs = Math.max(50, (options.pollSeconds ?? DEFAULT_CRATE_POLL_SECONDS) * 1000);
  const sleep = options.sleep ?? ((ms: number) => abortableDelay(ms, options.signal));
  const readOnce = location.startsWith("s3://") ? s3Reader(location, options.s3) : localReader(location);
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    const result = await readOnce();
    if ("text" in result) return { found: true, location, text: result.text, attempts: attempt };
    if ("failed" in result) return { found: false, location, reason: result.failed, attempts: attempt, bucketMissing: result.bucketMissing };
    const remainingMs = deadline - Date.now();
    if (options.signal?.aborted) return { found: false, location, reason: `${result.missing} (stopped waiting)`, attempts: attempt };
    if (remainingMs <= 0) {
      return { found: false, location, reason: `${result.missing} after waiting ${waitMs / 1000} s`, attempts: attempt };
    }
    options.onWait?.({ location, attempt, remainingMs });
    await sleep(Math.min(pollMs, remainingMs));
  }
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function localReader(location: string): () => Promise<Attempt> {
  const path = location.startsWith("file://") ? fileURLToPath(location) : location;
  return async () => {
    try {
      const text = await readFile(path, "utf8");
      return text.length > MAX_CRATE_BYTES ? { failed: `${path} is larger than ${MAX_CRATE_BYTES} bytes` } : { text };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { missing: `${path} does not exist` };
      return { failed: `cannot read ${path}: ${describeError(error)}` };
    }
  };
}

function s3Reader(location: string, s3: CrateReadOptions["s3"]): () => Promise<Attempt> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  const bucket = match?.[1];
  const key = match?.[2];
  return async () => {
    if (!bucket || !key || !s3) return { failed: `cannot read ${location}` };
    try {
      const answer = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((answer.ContentLength ?? 0) > MAX_CRATE_BYTES) {
        await answer.Body?.transformToByteArray();
        return { failed: `${location} is larger than ${MAX_CRATE_BYTES} bytes` };
      }
      return { text: (await answer.Body?.transformToString("utf-8")) ?? "" };
    } catch (error) {
      const name = awsErrorName(error);
      if (name === "NoSuchKey" || name === "NotFound") return { missing: `${location} does not exist` };
      if (name === "NoSuchBucket") return { failed: `the bucket of ${location} does not exist`, bucketMissing: true };
      if (name === "AccessDenied" || name === "Forbidden") {
        return { failed: `access denied reading ${location} (the compute role needs s3:GetObject on the outdir)` };
      }
      return { failed: `cannot read ${location}: ${describeError(error)}` };
    }
  };
}
