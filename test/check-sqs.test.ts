import assert from "node:assert/strict";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { PurgeQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KMS_SID, NEXTFLOW_POLICY, SEND_SID } from "../lib/policy-grant.ts";
import { startMoto, type MotoServer } from "../standins/moto.ts";
import { ASSUME_ROLE, createKey, createQuiltStack, inlinePolicies, motoClients, putInline, runScript, scriptEnv, type MotoClients } from "./sqs-moto-fixtures.ts";

const ROLES = ["TowerForge-c1-FargateRole", "TowerForge-c1-InstanceRole"];
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/packager-check";
const BATCH = { Sid: "Batch", Effect: "Allow", Action: "batch:*", Resource: "*" };

interface Report {
  ok: boolean;
  checks: Array<{ id: string; status: string; required: boolean; detail: string; data?: Record<string, unknown> }>;
}

describe("check-sqs.ts against moto", { timeout: 90_000 }, () => {
  let moto: MotoServer;
  let clients: MotoClients;
  let home: string;
  let env: Record<string, string>;

  const check = (args: string[]) => runScript("check-sqs.ts", args, { cwd: home, env });
  const receiveAll = async () => (await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: QUEUE_URL, MaxNumberOfMessages: 10 }))).Messages ?? [];

  before(async () => {
    moto = await startMoto();
    clients = motoClients(moto);
    home = await mkdtemp(join(tmpdir(), "check-sqs-"));
    env = scriptEnv(moto, home);
    const key = await createKey(clients);
    await createQuiltStack(clients, "quilt-check", "quilt.example.com", { queueName: "packager-check", kmsKeyId: key.keyId });
    for (const role of ROLES) {
      await clients.iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: ASSUME_ROLE }));
      await putInline(clients, role, NEXTFLOW_POLICY, { Version: "2012-10-17", Statement: [BATCH] });
    }
    const setup = await runScript("setup-sqs.ts", ["--yes", "--catalog", "https://quilt.example.com", "--region", "us-east-1"], { cwd: home, env });
    assert.equal(setup.code, 0, setup.stderr);
  });

  after(async () => {
    await moto?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("without config.toml: a clear error and exit 1", async () => {
    const result = await check(["--config", "missing.toml"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No configuration at .*missing\.toml/);
    assert.match(result.stderr, /Run \.\/setup-sqs\.ts first/);
  });

  it("a malformed config.toml names the line, a missing key names the key", async () => {
    await writeFile(join(home, "broken.toml"), '[sqs]\nqueue_url = "https://x\nregion = "us-east-1"\n');
    const broken = await check(["--config", "broken.toml"]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /broken\.toml is not valid TOML \(line 2/);
    const text = await readFile(join(home, "config.toml"), "utf8");
    await writeFile(join(home, "nokey.toml"), text.replace(/^region = .*$/m, ""));
    const nokey = await check(["--config", "nokey.toml", "--json"]);
    assert.equal(nokey.code, 1);
    const report = JSON.parse(nokey.stdout) as Report;
    assert.equal(report.ok, false);
    assert.match(report.checks[0]!.detail, /missing key sqs\.region/);
  });

  it("a region that is not one, or contradicts the queue URL, is a config error naming sqs.region", async () => {
    const text = await readFile(join(home, "config.toml"), "utf8");
    await writeFile(join(home, "bad-region.toml"), text.replace(/^region = .*$/m, 'region = "not-a-region"'));
    const bad = await check(["--config", "bad-region.toml", "--no-send"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad-region\.toml: invalid key sqs\.region: "not-a-region" is not a region/);
    await writeFile(join(home, "other-region.toml"), text.replace(/^region = .*$/m, 'region = "eu-west-1"'));
    const other = await check(["--config", "other-region.toml", "--no-send"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /key sqs\.region = "eu-west-1" contradicts sqs\.queue_url, which is in us-east-1/);
  });

  it("passes when everything holds, and really sends the test message", async () => {
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: QUEUE_URL }));
    const result = await check([]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✓ Queue answers: arn:aws:sqs:us-east-1:123456789012:packager-check: 0 message\(s\) waiting/);
    assert.match(result.stdout, /✓ Stack quilt-check: CREATE_COMPLETE; its outputs name this queue/);
    assert.match(result.stdout, /✓ Queue encryption key: customer-managed key arn:aws:kms:us-east-1:123456789012:key\//);
    assert.match(result.stdout, new RegExp(`✓ Role TowerForge-c1-FargateRole: sqs:SendMessage on .* is allowed by inline policy nextflow-policy, statement 2 \\(Sid ${SEND_SID}\\)`));
    assert.match(result.stdout, /All required checks passed/);
    // The hook reads params.sqs_queue_url: Nextflow takes --sqs_queue_url (--params.x would nest it as params.params.x).
    assert.match(result.stdout, /--sqs_queue_url 'https:\/\//);
    assert.doesNotMatch(result.stdout, /--params\./);
    assert.doesNotMatch(result.stdout, /receive-message/);
    const messages = await receiveAll();
    assert.equal(messages.length, 1);
    const body = JSON.parse(messages[0]!.Body!) as Record<string, unknown>;
    assert.equal(body.test, true);
    assert.equal(body.source, "check-sqs");
    assert.ok(!Number.isNaN(Date.parse(String(body.timestamp))));
  });

  it("--json --no-send --verbose: results as JSON with attributes and outputs, no message sent", async () => {
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: QUEUE_URL }));
    const result = await check(["--json", "--no-send", "--verbose"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.equal(report.ok, true);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    assert.equal(byId.send?.status, "skip");
    assert.equal((byId.queue?.data?.attributes as Record<string, string>).QueueArn, "arn:aws:sqs:us-east-1:123456789012:packager-check");
    assert.equal((byId.stack?.data?.outputs as Record<string, string>).PackagerQueueUrl, QUEUE_URL);
    assert.deepEqual(
      report.checks.filter((c) => c.id.startsWith("role:")).map((c) => [c.id, c.status]),
      ROLES.map((r) => [`role:${r}`, "pass"]),
    );
    assert.equal((await receiveAll()).length, 0);
  });

  it("fails (exit 1) and says what it found once a role loses the permission or the key grant", async () => {
    const role = ROLES[0]!;
    const granted = (await inlinePolicies(clients, role))[NEXTFLOW_POLICY] as { Statement: Array<Record<string, unknown>> };
    await putInline(clients, role, NEXTFLOW_POLICY, { ...granted, Statement: granted.Statement.filter((s) => s.Sid !== SEND_SID) });
    const noSend = await check(["--json", "--no-send"]);
    assert.equal(noSend.code, 1);
    const report = JSON.parse(noSend.stdout) as Report;
    assert.equal(report.ok, false);
    const failed = report.checks.find((c) => c.id === `role:${role}`)!;
    assert.equal(failed.status, "fail");
    assert.match(failed.detail, /no policy allows sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:packager-check/);
    assert.equal(report.checks.find((c) => c.id === `role:${ROLES[1]}`)?.status, "pass");

    const text = await check(["--no-send"]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`✗ Role ${role}: .*no policy allows sqs:SendMessage`));
    assert.match(text.stdout, /Run setup-sqs\.ts again to grant it/);
    assert.match(text.stdout, /1 required check failed: Role TowerForge-c1-FargateRole/);
    assert.doesNotMatch(text.stdout, /All required checks passed/);

    await putInline(clients, role, NEXTFLOW_POLICY, { ...granted, Statement: granted.Statement.filter((s) => s.Sid !== KMS_SID) });
    const noKms = JSON.parse((await check(["--json", "--no-send"])).stdout) as Report;
    assert.match(noKms.checks.find((c) => c.id === `role:${role}`)!.detail, /no policy allows kms:GenerateDataKey on arn:aws:kms:/);

    const repaired = await runScript("setup-sqs.ts", ["--yes", "--catalog", "https://quilt.example.com", "--region", "us-east-1"], { cwd: home, env });
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.equal((await check(["--no-send"])).code, 0);
  });

  it("a profile that does not exist is one clear error naming it, also with --json", async () => {
    const text = await check(["--profile", "no-such-profile", "--no-send"]);
    assert.equal(text.code, 1);
    assert.match(text.stderr, /The AWS profile "no-such-profile" gave no usable credentials/);
    assert.match(text.stderr, /aws sso login --profile no-such-profile/);
    const json = JSON.parse((await check(["--profile", "no-such-profile", "--json"])).stdout) as Report;
    assert.deepEqual([json.ok, json.checks[0]?.id, json.checks[0]?.status], [false, "credentials", "fail"]);
  });

  it("fails when the queue is gone, and says why", async () => {
    const text = (await readFile(join(home, "config.toml"), "utf8")).replaceAll("packager-check", "packager-gone");
    await writeFile(join(home, "gone.toml"), text);
    const result = await check(["--config", "gone.toml"]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /✗ Queue answers: The queue .*packager-gone does not exist/);
    assert.match(result.stdout, /- Test message: not sent: the queue did not answer/);
  });
});
