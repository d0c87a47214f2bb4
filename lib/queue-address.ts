import { UserError } from "./errors.ts";

/** An SQS queue, however the user named it (URL or ARN). */
export interface QueueAddress {
  /** The queue URL to send to. */
  url: string;
  arn?: string;
  name: string;
  accountId: string;
  /** The region the URL or ARN names; undefined for hosts that do not say (emulators). */
  region?: string;
  partition: string;
  fifo: boolean;
}

const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d+";
const REGION_RE = new RegExp(`^${REGION}$`);
const ARN_RE = new RegExp(`^arn:(aws[a-z-]*):sqs:(${REGION}):(\\d{12}):([A-Za-z0-9_-]{1,80}(?:\\.fifo)?)$`);
const QUEUE_NAME_RE = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/** AWS SQS host names, each with the place the region sits in it. */
const AWS_HOSTS: Array<{ re: RegExp; region?: string }> = [
  // sqs.us-east-1.amazonaws.com, sqs-fips.us-gov-west-1.amazonaws.com, sqs.cn-north-1.amazonaws.com.cn, sqs.eu-west-1.api.aws
  { re: new RegExp(`^sqs(?:-fips)?\\.(${REGION})\\.(?:amazonaws\\.com(?:\\.cn)?|api\\.aws)$`) },
  // vpce-0abc-xyz.sqs.us-east-1.vpce.amazonaws.com
  { re: new RegExp(`^[a-z0-9-]+\\.sqs\\.(${REGION})\\.vpce\\.amazonaws\\.com(?:\\.cn)?$`) },
  // legacy us-west-2.queue.amazonaws.com
  { re: new RegExp(`^(${REGION})\\.queue\\.amazonaws\\.com(?:\\.cn)?$`) },
  // legacy queue.amazonaws.com is us-east-1
  { re: /^queue\.amazonaws\.com$/, region: "us-east-1" },
];

/** Emulators (LocalStack, fauxqs) name queues like http://sqs.us-east-1.localhost:4566/000000000000/q. */
const EMULATOR_HOST_RE = new RegExp(`^sqs\\.(${REGION})\\.`);

export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

function dnsSuffixOf(partition: string): string {
  return partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}

export function isRegion(value: string): boolean {
  return REGION_RE.test(value);
}

/**
 * Parses a queue given as a URL (every AWS form, legacy ones and China included, or an emulator's)
 * or as an ARN. Throws a UserError naming what is wrong with it.
 */
export function parseQueueAddress(input: string): QueueAddress {
  const text = input.trim();
  if (text.startsWith("arn:")) return parseQueueArn(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidQueue(input, "it is neither a URL nor an ARN");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalidQueue(input, "a queue URL starts with https://");
  if (url.search || url.hash) throw invalidQueue(input, "a queue URL has no query or fragment");
  const parts = url.pathname.split("/").filter(Boolean);
  const [accountId, name] = parts;
  if (parts.length !== 2 || !accountId || !name) throw invalidQueue(input, "the path must be /<account id>/<queue name>");
  if (!QUEUE_NAME_RE.test(name)) throw invalidQueue(input, `"${name}" is not a valid queue name`);
  const host = url.hostname.toLowerCase();
  let region: string | undefined;
  let isAws = false;
  for (const form of AWS_HOSTS) {
    const match = form.re.exec(host);
    if (match) {
      region = form.region ?? match[1];
      isAws = true;
      break;
    }
  }
  if (!isAws) region = EMULATOR_HOST_RE.exec(host)?.[1];
  if (isAws && !/^\d{12}$/.test(accountId)) throw invalidQueue(input, `"${accountId}" is not a 12-digit AWS account id`);
  const partition = region ? partitionOf(region) : "aws";
  return {
    url: `${url.protocol}//${url.host}/${accountId}/${name}`,
    arn: region && /^\d{12}$/.test(accountId) ? `arn:${partition}:sqs:${region}:${accountId}:${name}` : undefined,
    name,
    accountId,
    region,
    partition,
    fifo: name.endsWith(".fifo"),
  };
}

function parseQueueArn(text: string): QueueAddress {
  const match = ARN_RE.exec(text);
  if (!match) throw invalidQueue(text, "an SQS ARN looks like arn:aws:sqs:<region>:<12-digit account>:<queue name>");
  const [, partition, region, accountId, name] = match as unknown as [string, string, string, string, string];
  if (partitionOf(region) !== partition) throw invalidQueue(text, `the region ${region} is not in the partition ${partition}`);
  return {
    url: `https://sqs.${region}.${dnsSuffixOf(partition)}/${accountId}/${name}`,
    arn: text,
    name,
    accountId,
    region,
    partition,
    fifo: name.endsWith(".fifo"),
  };
}

function invalidQueue(input: string, why: string): UserError {
  return new UserError(
    `Invalid SQS queue "${input}": ${why}.`,
    "Give the queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>) or its ARN, as setup-sqs.ts prints them.",
  );
}

/**
 * The region to talk to the queue in: the queue's own; `override` only where the queue does not say,
 * and an error where it contradicts the queue; then `fallback` (AWS_REGION) for emulator URLs.
 */
export function resolveQueueRegion(queue: QueueAddress, override?: string, fallback?: string): string {
  const wanted = override?.trim() || undefined;
  if (wanted && !isRegion(wanted)) {
    throw new UserError(`Invalid region "${wanted}".`, "A region looks like us-east-1 or eu-west-2.");
  }
  if (queue.region) {
    if (wanted && wanted !== queue.region) {
      throw new UserError(
        `The region ${wanted} contradicts the queue, which is in ${queue.region} (${queue.url}).`,
        "Remove the sqs_region param (the region comes from the queue), or fix the queue URL.",
      );
    }
    return queue.region;
  }
  const region = wanted ?? fallback?.trim();
  if (!region) {
    throw new UserError(
      `The queue URL ${queue.url} does not say its region.`,
      "Give the queue as https://sqs.<region>.amazonaws.com/... or as an ARN, or set the sqs_region param.",
    );
  }
  return region;
}
