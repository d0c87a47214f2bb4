import { createCloudFormationClient, createIamClient, createKmsClient, createSqsClient } from "./aws-clients.ts";
import { createIamApi, type IamApi } from "./forge-roles.ts";
import { createQueueApi, type QueueApi } from "./queue-details.ts";
import { createCloudFormationApi, type CloudFormationApi } from "./quilt-stack.ts";

/** The narrow AWS interfaces setup-sqs and check-sqs use, built in one place and passed in. */
export interface SqsToolServices {
  cloudFormation: CloudFormationApi;
  iam: IamApi;
  queue: QueueApi;
}

export type ServicesFactory = (region: string, profile: string | undefined, env: NodeJS.ProcessEnv) => SqsToolServices;

/** The services over the AWS SDK, honouring --profile and the AWS environment (AWS_ENDPOINT_URL_<SERVICE>, ...). */
export const createSqsToolServices: ServicesFactory = (region, profile, env) => {
  const options = { region, env, ...(profile ? { profile } : {}) };
  return {
    cloudFormation: createCloudFormationApi(createCloudFormationClient(options), region),
    iam: createIamApi(createIamClient(options)),
    queue: createQueueApi(createSqsClient(options), createKmsClient(options)),
  };
};
