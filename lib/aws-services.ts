import { createCloudFormationClient, createIamClient, createKmsClient, createSqsClient, explainCredentialsError } from "./aws-clients.ts";
import { UserError, describeError } from "./errors.ts";
import { createIamApi, type IamApi } from "./forge-roles.ts";
import { createQueueApi, type QueueApi } from "./queue-details.ts";
import { createCloudFormationApi, type CloudFormationApi } from "./quilt-stack.ts";

/** The narrow AWS interfaces setup-sqs and check-sqs use, built in one place and passed in. */
export interface SqsToolServices {
  cloudFormation: CloudFormationApi;
  iam: IamApi;
  queue: QueueApi;
  /** Resolves the credentials once (no API call), so a missing profile or key fails early and clearly. */
  checkCredentials(): Promise<void>;
}

export type ServicesFactory = (region: string, profile: string | undefined, env: NodeJS.ProcessEnv) => SqsToolServices;

/** The services over the AWS SDK, honouring --profile and the AWS environment (AWS_ENDPOINT_URL_<SERVICE>, ...). */
export const createSqsToolServices: ServicesFactory = (region, profile, env) => {
  const options = { region, env, ...(profile ? { profile } : {}) };
  const sqs = createSqsClient(options);
  return {
    async checkCredentials() {
      try {
        await sqs.config.credentials();
      } catch (error) {
        throw explainProfileError(error, profile);
      }
    },
    cloudFormation: createCloudFormationApi(createCloudFormationClient(options), region),
    iam: createIamApi(createIamClient(options)),
    queue: createQueueApi(sqs, createKmsClient(options)),
  };
};

/** A credentials failure as a UserError that names the profile and what to do about it. */
export function explainProfileError(error: unknown, profile: string | undefined): unknown {
  const explained = explainCredentialsError(error);
  if (!(explained instanceof UserError) || !profile) return explained;
  return new UserError(
    `The AWS profile "${profile}" gave no usable credentials: ${describeError(error)}`,
    `Check that "${profile}" is in ~/.aws/config (or AWS_CONFIG_FILE); for SSO profiles run: aws sso login --profile ${profile}`,
    { cause: error },
  );
}
