/**
 * `npm run demo`: the post-run job end to end with no AWS account and no network.
 * An in-process SQS/S3 emulator (fauxqs) and a local Seqera API stand-in serving a recorded run;
 * a real nf-prov crate in the run's S3 outdir; the committed bundle run as Seqera would run it;
 * then the message is received back from the queue and printed.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";
import { createS3Client, createSqsClient } from "../lib/aws-clients.ts";
import { startSeqeraStandin } from "../standins/seqera-api.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = `${root}dist/post_run_sqs.js`;
const crateFile = `${root}fixtures/wrroc/nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json`;
/** The run id nf-prov wrote into that crate: the Nextflow session id of the run it describes. */
const crateSessionId = "0525d4a9-ccd8-4f53-9ae3-3795511610d2";
const region = "us-east-1";

async function demo(): Promise<number> {
  const aws = await startFauxqs({ port: 0, logger: false, defaultRegion: region });
  const seqera = await startSeqeraStandin();
  try {
    const { queueUrl } = aws.createQueue("quilt-demo-PackagerQueue");
    aws.createBucket("demo-results");
    const awsEnv = {
      AWS_ENDPOINT_URL: aws.address,
      AWS_ACCESS_KEY_ID: "demo",
      AWS_SECRET_ACCESS_KEY: "demo",
      AWS_REGION: region,
      AWS_EC2_METADATA_DISABLED: "true",
    };
    Object.assign(process.env, awsEnv);
    const clients = { region };

    const outdir = "s3://demo-results/nf-core/demo/run-1";
    await createS3Client(clients).send(
      new PutObjectCommand({ Bucket: "demo-results", Key: "nf-core/demo/run-1/ro-crate-metadata.json", Body: readFileSync(crateFile) }),
    );
    const run = seqera.addRun({
      workflow: { sessionId: crateSessionId },
      params: { outdir, sqs_queue_url: queueUrl },
    });

    console.error(`demo: Seqera API stand-in at ${seqera.endpoint}, SQS/S3 emulator at ${aws.address}`);
    console.error(`demo: running ${bundle} for run ${run.id} (outdir ${outdir})\n`);
    const code = await runBundle({
      ...awsEnv,
      PATH: process.env.PATH ?? "",
      TOWER_API_ENDPOINT: seqera.endpoint,
      TOWER_ACCESS_TOKEN: seqera.token,
      TOWER_REFRESH_TOKEN: seqera.refreshToken,
      TOWER_WORKFLOW_ID: run.id,
      TOWER_WORKSPACE_ID: seqera.workspaceId,
      NXF_UUID: crateSessionId,
      NXF_EXIT_STATUS: "0",
      NXF_WORK: "s3://demo-results/work",
    });
    if (code !== 0) {
      console.error(`\ndemo: the post-run script exited ${code}`);
      return code;
    }

    const received = await createSqsClient(clients).send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 2 }),
    );
    const message = received.Messages?.[0];
    if (!message?.Body) {
      console.error("\ndemo: FAILED: no message arrived in the queue");
      return 1;
    }
    const body = JSON.parse(message.Body) as { source_prefix: string; commit_message: string; metadata: Record<string, unknown> };
    console.log(`\ndemo: received from the queue (MessageId ${message.MessageId}):`);
    console.log(`  source_prefix:  ${body.source_prefix}`);
    console.log(`  commit_message: ${body.commit_message}`);
    console.log(`  metadata:       ${Object.keys(body.metadata).length} fields, e.g. wrroc_status=${String(body.metadata.wrroc_status)}, wrroc_workflow_name=${String(body.metadata.wrroc_workflow_name)}, api_run_name=${String(body.metadata.api_run_name)}`);
    return 0;
  } finally {
    await seqera.close();
    await aws.stop();
  }
}

function runBundle(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle], { env, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error("demo failed:", error);
    process.exitCode = 1;
  },
);
