import "../lib/aws-clients.ts"; // silences the SDK's Node 20 notice, as in the tools themselves
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from "@aws-sdk/client-cloudformation";
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import type { MotoServer } from "../standins/moto.ts";

export const REGION = "us-east-1";

/** SDK clients pointed at a moto server, for arranging and inspecting state in tests. */
export function motoClients(moto: MotoServer) {
  const config = { region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
  return {
    cfn: new CloudFormationClient(config),
    iam: new IAMClient(config),
    sqs: new SQSClient(config),
    kms: new KMSClient(config),
  };
}
export type MotoClients = ReturnType<typeof motoClients>;

/** A template shaped like a Quilt stack: the packager queue and the real output names. */
export function quiltTemplate(options: { queueName: string; kmsKeyId?: string; outputs?: "url" | "arn" | "legacy" }): string {
  const outputs: Record<string, unknown> = { QuiltWebHost: { Value: { Ref: "QuiltWebHost" } } };
  const style = options.outputs ?? "url";
  if (style === "url") outputs.PackagerQueueUrl = { Value: { Ref: "PackagerQueue" } };
  if (style === "url" || style === "arn") outputs.PackagerQueueArn = { Value: { "Fn::GetAtt": ["PackagerQueue", "Arn"] } };
  if (style === "legacy") outputs.PackagerQueue = { Value: { "Fn::GetAtt": ["PackagerQueue", "Arn"] } };
  return JSON.stringify({
    AWSTemplateFormatVersion: "2010-09-09",
    Parameters: { QuiltWebHost: { Type: "String" } },
    Resources: {
      PackagerQueue: {
        Type: "AWS::SQS::Queue",
        Properties: { QueueName: options.queueName, ...(options.kmsKeyId ? { KmsMasterKeyId: options.kmsKeyId } : {}) },
      },
    },
    Outputs: outputs,
  });
}

/** Creates a Quilt-like stack whose QuiltWebHost is `host`. */
export async function createQuiltStack(clients: MotoClients, name: string, host: string, options: Parameters<typeof quiltTemplate>[0]): Promise<void> {
  await clients.cfn.send(
    new CreateStackCommand({ StackName: name, TemplateBody: quiltTemplate(options), Parameters: [{ ParameterKey: "QuiltWebHost", ParameterValue: host }] }),
  );
}

const FILLER_TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: "2010-09-09",
  Resources: { Handle: { Type: "AWS::CloudFormation::WaitConditionHandle" } },
  Outputs: { Something: { Value: "not-quilt" } },
});

/** `count` unrelated stacks, and `deleted` more that are created then deleted. */
export async function createFillerStacks(clients: MotoClients, count: number, deleted = 0, prefix = "filler"): Promise<void> {
  const names = Array.from({ length: count + deleted }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
  await inBatches(names, 16, (name) => clients.cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: FILLER_TEMPLATE })));
  await inBatches(names.slice(count), 16, (name) => clients.cfn.send(new DeleteStackCommand({ StackName: name })));
}

export async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

export const ASSUME_ROLE = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** `count` unrelated roles; returns their RoleIds (moto pages ListRoles in RoleId order). */
export async function createFillerRoles(clients: MotoClients, count: number, prefix = "app-role"): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
  const created = await inBatches(names, 25, (name) => clients.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ASSUME_ROLE })));
  return created.map((c) => c.Role!.RoleId!);
}

/**
 * Creates a role whose RoleId sorts after `afterIds`' first `rank` ids, so that moto's ListRoles
 * (100 per page, in RoleId order) puts it on the last page; recreates it until it does.
 */
export async function createRoleOnLastPage(clients: MotoClients, name: string, otherIds: string[], pageSize = 100): Promise<void> {
  const sorted = [...otherIds].sort();
  const lastPageStart = Math.floor((sorted.length + 1) / pageSize) * pageSize;
  for (let attempt = 0; attempt < 200; attempt++) {
    const role = await clients.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ASSUME_ROLE }));
    const id = role.Role!.RoleId!;
    const rank = sorted.filter((other) => other < id).length;
    if (rank >= lastPageStart) {
      otherIds.push(id);
      return;
    }
    await clients.iam.send(new DeleteRoleCommand({ RoleName: name }));
  }
  throw new Error(`could not place ${name} on the last page`);
}

export async function putInline(clients: MotoClients, role: string, policyName: string, document: unknown): Promise<void> {
  await clients.iam.send(new PutRolePolicyCommand({ RoleName: role, PolicyName: policyName, PolicyDocument: typeof document === "string" ? document : JSON.stringify(document) }));
}

export async function attachManaged(clients: MotoClients, role: string, policyName: string, document: unknown): Promise<string> {
  const policy = await clients.iam.send(new CreatePolicyCommand({ PolicyName: policyName, PolicyDocument: JSON.stringify(document) }));
  await clients.iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: policy.Policy!.Arn! }));
  return policy.Policy!.Arn!;
}

export async function createKey(clients: MotoClients): Promise<{ keyId: string; arn: string }> {
  const key = await clients.kms.send(new CreateKeyCommand({ Description: "packager queue key" }));
  return { keyId: key.KeyMetadata!.KeyId!, arn: key.KeyMetadata!.Arn! };
}

export async function createQueue(clients: MotoClients, name: string): Promise<string> {
  return (await clients.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
}

/** Serves `<catalog>/config.json` (or any body) on 127.0.0.1; returns the catalog URL. */
export async function serveCatalog(body: string, contentType = "application/json"): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === "/config.json") {
      res.writeHead(200, { "content-type": contentType });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export const PROJECT_DIR = fileURLToPath(new URL("..", import.meta.url));

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a top-level script (./setup-sqs.ts, ./check-sqs.ts) as a process, through its own shebang. */
export function runScript(script: string, args: string[], options: { cwd: string; env: Record<string, string>; input?: string; timeoutMs?: number }): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(PROJECT_DIR, script), args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * Runs a top-level script with stdin held open, answering each prompt (a stderr line ending in ": "
 * or "] ") with what `answer` returns for it; `answer` may change the world before answering.
 */
export function runScriptAnswering(
  script: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
  answer: (prompt: string) => Promise<string>,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(PROJECT_DIR, script), args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let busy = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      const tail = stderr.slice(stderr.lastIndexOf("\n") + 1);
      if (busy || !/[:\]] $/.test(tail)) return;
      busy = true;
      answer(tail).then(
        (text) => {
          busy = false;
          child.stdin.write(`${text}\n`);
        },
        (error: unknown) => {
          child.kill("SIGKILL");
          reject(error);
        },
      );
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A child environment with only what the scripts need: moto, a temporary HOME, no colour. */
export function scriptEnv(moto: MotoServer, home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_DATA_HOME: join(home, ".local", "share"),
    NO_COLOR: "1",
    AWS_CONFIG_FILE: join(home, "aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "aws-credentials"),
    ...moto.env,
    ...extra,
  };
}

/** Writes quilt3's config.yml (navigator_url) under `home`, as `quilt3 config URL` would. */
export async function writeQuilt3Config(home: string, navigatorUrl: string): Promise<void> {
  const dir = join(home, ".local", "share", "Quilt");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.yml"), `navigator_url: ${navigatorUrl}\ndefault_local_registry: null\n`);
}

/** Every inline policy document of a role, decoded, by name. */
export async function inlinePolicies(clients: MotoClients, role: string): Promise<Record<string, unknown>> {
  const names = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [];
  const result: Record<string, unknown> = {};
  for (const name of names) {
    const doc = (await clients.iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }))).PolicyDocument!;
    result[name] = JSON.parse(decodeURIComponent(doc));
  }
  return result;
}
