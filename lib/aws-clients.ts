import { SQSClient } from "@aws-sdk/client-sqs";
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { IAMClient } from "@aws-sdk/client-iam";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { KMSClient } from "@aws-sdk/client-kms";
import { UserError, awsErrorName, describeError } from "./errors.ts";

// The SDK warns on Node 20 that SDK releases after January 2027 will need Node 22. This project pins
// its SDK in package-lock.json (and the bundle carries its own copy), so the warning would only add
// noise to every run's log; the upgrade is tracked in package.json "engines" instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** How to reach AWS: the SDK's default credential chain, optionally a named profile. */
export interface AwsOptions {
  region: string;
  profile?: string;
  env?: NodeJS.ProcessEnv;
  /** Per-request time-out (default 20 s); each of the SDK's attempts gets this long. */
  requestTimeoutMs?: number;
}

type Service = "SQS" | "S3" | "STS" | "IAM" | "CLOUDFORMATION" | "KMS";

/** The endpoint override the AWS environment sets for a service (AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL). */
export function endpointOverride(service: Service, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}

function baseConfig(options: AwsOptions, service: Service) {
  return {
    region: options.region,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(endpointOverride(service, options.env) ? { endpoint: endpointOverride(service, options.env) } : {}),
    // throwOnRequestTimeout: without it, the SDK's HTTP handler only warns at requestTimeout and
    // waits on, so an endpoint that accepts the connection and never answers would hang the tools.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: options.requestTimeoutMs ?? 20_000, throwOnRequestTimeout: true },
    maxAttempts: 4,
  };
}

/**
 * An SQS client. The endpoint override is passed explicitly: otherwise the SDK sends to the
 * queue URL's own host, which would bypass VPC endpoints and emulators set in the environment.
 */
export function createSqsClient(options: AwsOptions): SQSClient {
  return new SQSClient(baseConfig(options, "SQS"));
}

/** An S3 client; path-style addressing where an endpoint override (emulator, VPC endpoint) is set. */
export function createS3Client(options: AwsOptions): S3Client {
  const config = baseConfig(options, "S3");
  // followRegionRedirects: the outdir's bucket may be in another region than the queue.
  return new S3Client({ ...config, forcePathStyle: "endpoint" in config, followRegionRedirects: true });
}

export function createStsClient(options: AwsOptions): STSClient {
  return new STSClient(baseConfig(options, "STS"));
}

/** An IAM client (IAM is global; the region only picks the partition's endpoint). */
export function createIamClient(options: AwsOptions): IAMClient {
  return new IAMClient(baseConfig(options, "IAM"));
}

export function createCloudFormationClient(options: AwsOptions): CloudFormationClient {
  return new CloudFormationClient(baseConfig(options, "CLOUDFORMATION"));
}

export function createKmsClient(options: AwsOptions): KMSClient {
  return new KMSClient(baseConfig(options, "KMS"));
}


/** Turns an AWS SDK credentials failure into one clear UserError; other errors pass through. */
export function explainCredentialsError(error: unknown): unknown {
  const name = awsErrorName(error) ?? (error instanceof Error ? error.name : "");
  if (name === "CredentialsProviderError" || /Could not load credentials|Unable to load credentials|no credentials/i.test(describeError(error))) {
    return new UserError(
      `No usable AWS credentials: ${describeError(error)}`,
      "Give a profile (--profile or AWS_PROFILE; aws sso login if it uses SSO) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. In the post-run hook on Seqera, the compute environment's IAM role provides them.",
      { cause: error },
    );
  }
  if (["InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException"].includes(name)) {
    return new UserError(
      `AWS rejected the credentials (${name}): ${describeError(error)}`,
      "Refresh the credentials (aws sso login, or new keys) and try again.",
      { cause: error },
    );
  }
  return error;
}
