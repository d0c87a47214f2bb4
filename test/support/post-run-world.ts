/**
 * A world for the post-run bundle: moto (SQS, S3, STS over HTTP) and the Seqera API stand-in,
 * with helpers to make queues and crates, run the committed bundle as Seqera would, and read the queue.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import "../../lib/aws-clients.ts"; // silences the SDK's Node 20 notice, as in the tools themselves
import { startMoto, type MotoServer } from "../../standins/moto.ts";
import { startSeqeraStandin, type SeqeraStandin, type SeqeraStandinOptions, type StandinRun } from "../../standins/seqera-api.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BUNDLE = join(ROOT, "dist/post_run_sqs.js");
export const ACCOUNT = "123456789012";

export interface BundleResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export class PostRunWorld {
  private readonly clients = new Map<string, { sqs: SQSClient; s3: S3Client }>();
  private bucketCount = 0;

  constructor(
    readonly moto: MotoServer,
    readonly seqera: SeqeraStandin,
  ) {}

  client(region = "us-east-1") {
    let pair = this.clients.get(region);
    if (!pair) {
      const config = {
        region,
        endpoint: this.moto.endpoint,
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      };
      pair = { sqs: new SQSClient(config), s3: new S3Client({ ...config, forcePathStyle: true }) };
      this.clients.set(region, pair);
    }
    return pair;
  }

  /** Creates a queue in moto; returns its URL in AWS form (as Quilt's stack output gives it) and its ARN. */
  async createQueue(name: string, attributes: Record<string, string> = {}, region = "us-east-1") {
    await this.client(region).sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return {
      awsUrl: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name}`,
      arn: `arn:aws:sqs:${region}:${ACCOUNT}:${name}`,
      motoUrl: `${this.moto.endpoint}/${ACCOUNT}/${name}`,
      region,
    };
  }

  async createBucket(): Promise<string> {
    const bucket = `results-${++this.bucketCount}-${Date.now()}`;
    await this.client().s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  }

  async putObject(bucket: string, key: string, body: string | Buffer): Promise<void> {
    await this.client().s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  /** Every message now in the queue (received, not deleted). */
  async receiveAll(queue: { motoUrl: string; region: string }): Promise<Message[]> {
    const found: Message[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await this.client(queue.region).sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.motoUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 60,
          MessageSystemAttributeNames: ["All"],
        }),
      );
      found.push(...(answer.Messages ?? []));
      if (!answer.Messages?.length) break;
    }
    return found;
  }

  /** The environment Seqera gives a post-run script for `run`, pointed at moto and the stand-in. */
  seqeraEnv(run: StandinRun, extra: Record<string, string | undefined> = {}): Record<string, string> {
    const home = mkdtempSync(join(tmpdir(), "post-run-home-"));
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONFIG_FILE: join(home, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "aws-credentials"),
      ...this.moto.env,
      TOWER_API_ENDPOINT: this.seqera.endpoint,
      TOWER_ACCESS_TOKEN: this.seqera.token,
      TOWER_REFRESH_TOKEN: this.seqera.refreshToken,
      TOWER_WORKFLOW_ID: run.id,
      TOWER_WORKSPACE_ID: this.seqera.workspaceId,
      NXF_UUID: String(run.describe.workflow.sessionId),
      NXF_EXIT_STATUS: "0",
      NXF_WORK: "s3://work-bucket/scratch",
      ...extra,
    };
    return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  }

  runBundle(env: Record<string, string>, args: string[] = []): Promise<BundleResult> {
    return runNode([BUNDLE, ...args], env);
  }

  async stop(): Promise<void> {
    for (const { sqs, s3 } of this.clients.values()) {
      sqs.destroy();
      s3.destroy();
    }
    await this.seqera.close();
    await this.moto.stop();
  }
}

export function runNode(args: string[], env: Record<string, string>): Promise<BundleResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
  });
}

export async function startPostRunWorld(options: SeqeraStandinOptions = {}): Promise<PostRunWorld> {
  const [moto, seqera] = await Promise.all([startMoto(), startSeqeraStandin(options)]);
  return new PostRunWorld(moto, seqera);
}
