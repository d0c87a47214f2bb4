import { DescribeKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { retryThrottled } from "./aws-retry.ts";
import { UserError, awsErrorName, describeError } from "./errors.ts";

/** The SQS and KMS calls setup and check make. */
export interface QueueApi {
  getQueueAttributes(queueUrl: string): Promise<Record<string, string>>;
  sendMessage(queueUrl: string, body: string, fifo: boolean): Promise<string>;
  /** The key's ARN and whether the customer manages it; undefined when KMS says there is no such key. */
  describeKey(keyId: string): Promise<{ arn: string; customerManaged: boolean } | undefined>;
}

export type QueueErrorKind = "missing" | "denied" | "kms";

/** What kind of SQS failure an SDK error is: the queue is missing, access is denied, or its KMS key refused. */
export function classifyQueueError(error: unknown): QueueErrorKind | undefined {
  const name = awsErrorName(error) ?? "";
  if (/NonExistentQueue|QueueDoesNotExist/.test(name)) return "missing";
  // SQS names KMS failures Kms* (KmsAccessDenied, KmsDisabled, KmsNotFound, KmsInvalidState...).
  if (/^KMS\.|^Kms/.test(name)) return "kms";
  if (/AccessDenied/.test(name)) return "denied";
  return undefined;
}

/** Sorts SQS / KMS SDK errors into messages that say what to do. */
export function explainQueueError(error: unknown, queueUrl: string): unknown {
  const name = awsErrorName(error) ?? "";
  const kind = classifyQueueError(error);
  if (kind === "missing") {
    return new UserError(`The queue ${queueUrl} does not exist (${name}).`, "The Quilt stack may have been replaced: run setup-sqs.ts again to find its current queue.", { cause: error });
  }
  if (kind === "denied") {
    return new UserError(`Not allowed to use the queue ${queueUrl}: ${describeError(error)}`, "Use an AWS profile in the catalog's account with SQS access (--profile), or check the queue policy.", { cause: error });
  }
  if (kind === "kms") {
    return new UserError(`The queue's KMS key refused the request (${name}): ${describeError(error)}`, "Grant kms:GenerateDataKey and kms:Decrypt on the queue's key (setup-sqs.ts does this for the Forge roles).", { cause: error });
  }
  return error;
}

export function createQueueApi(sqs: SQSClient, kms: KMSClient): QueueApi {
  return {
    async getQueueAttributes(queueUrl) {
      try {
        const answer = await retryThrottled(() => sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] })));
        return answer.Attributes ?? {};
      } catch (error) {
        throw explainQueueError(error, queueUrl);
      }
    },
    async sendMessage(queueUrl, body, fifo) {
      try {
        const answer = await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: body,
            ...(fifo ? { MessageGroupId: "check-sqs", MessageDeduplicationId: `check-sqs-${Date.now()}-${Math.random().toString(36).slice(2)}` } : {}),
          }),
        );
        return answer.MessageId ?? "";
      } catch (error) {
        throw explainQueueError(error, queueUrl);
      }
    },
    async describeKey(keyId) {
      try {
        const answer = await retryThrottled(() => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
        const meta = answer.KeyMetadata;
        if (!meta?.Arn) return undefined;
        return { arn: meta.Arn, customerManaged: meta.KeyManager !== "AWS" };
      } catch (error) {
        if (awsErrorName(error) === "NotFoundException") return undefined;
        if (/AccessDenied/.test(awsErrorName(error) ?? "")) {
          throw new UserError(`Not allowed to describe the queue's KMS key ${keyId}: ${describeError(error)}`, "Use an AWS profile that may call kms:DescribeKey (--profile).", { cause: error });
        }
        throw error;
      }
    },
  };
}

/** The queue's encryption, as setup and check need it. */
export interface QueueKey {
  /** KmsMasterKeyId as the queue names it (key id, ARN or alias). */
  keyId: string;
  /** The key's ARN: the resource the roles need kms:GenerateDataKey and kms:Decrypt on. */
  arn: string;
  customerManaged: boolean;
}

/** AWS's own SQS key, which needs no grant. */
export const AWS_MANAGED_SQS_KEY = "alias/aws/sqs";

/**
 * The customer-managed KMS key a queue is encrypted with, or undefined (no KMS, SQS-managed SSE, or
 * the AWS-managed alias/aws/sqs key, none of which need a grant).
 */
export async function findQueueKey(api: QueueApi, attributes: Record<string, string>, region: string, accountId: string): Promise<QueueKey | undefined> {
  const keyId = attributes.KmsMasterKeyId?.trim();
  if (!keyId || keyId === AWS_MANAGED_SQS_KEY || keyId.endsWith(`:${AWS_MANAGED_SQS_KEY}`)) return undefined;
  const described = await api.describeKey(keyId);
  if (!described) {
    throw new UserError(
      `The queue is encrypted with the KMS key ${keyId}, which KMS does not know.`,
      "Check the queue's encryption settings; senders cannot use a queue whose key is gone.",
    );
  }
  if (!described.customerManaged) return undefined;
  return { keyId, arn: described.arn || `arn:aws:kms:${region}:${accountId}:${keyId}`, customerManaged: true };
}
