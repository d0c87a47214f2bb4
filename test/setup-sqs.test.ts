import assert from "node:assert/strict";
import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, ListRolePoliciesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { PassThrough } from "node:stream";
import { createSqsToolServices, type ServicesFactory } from "../lib/aws-services.ts";
import type { UserError } from "../lib/errors.ts";
import { runSetup } from "../lib/setup-sqs.ts";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "smol-toml";
import { KMS_SID, NEXTFLOW_POLICY, SEND_SID } from "../lib/policy-grant.ts";
import { startMoto, type MotoServer } from "../standins/moto.ts";
import {
  ASSUME_ROLE,
  attachManaged,
  createFillerRoles,
  createFillerStacks,
  createKey,
  createQuiltStack,
  createRoleOnLastPage,
  inlinePolicies,
  motoClients,
  putInline,
  runScript,
  runScriptAnswering,
  scriptEnv,
  serveCatalog,
  writeQuilt3Config,
  type MotoClients,
} from "./sqs-moto-fixtures.ts";

const ACCOUNT = "123456789012";
const Q1_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:packager-main`;
const Q2_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:packager-second`;
const BATCH = { Sid: "Batch", Effect: "Allow", Action: ["batch:*", "ecs:*", "s3:*"], Resource: "*" };

/** The Forge roles of the test world, with the nextflow-policy each starts with (undefined: none). */
const FORGE_ROLES: Record<string, unknown> = {
  // the usual Forge shape, needs the grant
  "TowerForge-t1-FargateRole": { Version: "2012-10-17", Statement: [BATCH] },
  "TowerForge-t1-InstanceRole": { Version: "2012-10-17", Statement: [BATCH] },
  // a single Statement object with a string Action: becomes a list, statement kept
  "TowerForge-single-FargateRole": { Version: "2012-10-17", Statement: { Effect: "Allow", Action: "s3:*", Resource: "*" } },
  // a case-insensitive wildcard already allows it
  "TowerForge-wild-InstanceRole": { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "SQS:Send*", Resource: "arn:aws:sqs:*:*:packager-*" }] },
  // NotAction allows it
  "TowerForge-notaction-FargateRole": { Version: "2012-10-17", Statement: [{ Effect: "Allow", NotAction: ["iam:*", "organizations:*"], Resource: "*" }] },
  // an Allow under a Condition is not a plain grant
  "TowerForge-cond-FargateRole": {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: "*", Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } } }],
  },
  // no nextflow-policy at all: setup creates it
  "TowerForge-nopolicy-FargateRole": undefined,
  // allowed through an attached managed policy
  "TowerForge-managed-InstanceRole": { Version: "2012-10-17", Statement: [BATCH] },
};

async function snapshot(clients: MotoClients, roles: string[]): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const role of roles) result[role] = await inlinePolicies(clients, role);
  return result;
}

function statementsOf(policies: Record<string, unknown>): Array<Record<string, unknown>> {
  const doc = policies[NEXTFLOW_POLICY] as { Statement: unknown };
  return doc.Statement as Array<Record<string, unknown>>;
}

async function deleteRole(clients: MotoClients, role: string): Promise<void> {
  const names = await clients.iam.send(new ListRolePoliciesCommand({ RoleName: role })).then((r) => r.PolicyNames ?? [], () => undefined);
  if (!names) return;
  for (const name of names) await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: name }));
  await clients.iam.send(new DeleteRoleCommand({ RoleName: role }));
}

describe("setup-sqs.ts against moto", { timeout: 150_000 }, () => {
  let moto: MotoServer;
  let clients: MotoClients;
  let catalog: Awaited<ReturnType<typeof serveCatalog>>;
  let home: string;
  let env: Record<string, string>;
  const roleNames = Object.keys(FORGE_ROLES);
  let initial: Record<string, unknown>;

  before(async () => {
    moto = await startMoto();
    clients = motoClients(moto);
    catalog = await serveCatalog(JSON.stringify({ region: "us-east-1", registryUrl: "https://registry.example.com" }));
    home = await mkdtemp(join(tmpdir(), "setup-sqs-"));
    env = scriptEnv(moto, home);
    const host = new URL(catalog.url).host;
    await createQuiltStack(clients, "quilt-main", host, { queueName: "packager-main" });
    await createFillerStacks(clients, 100, 10);
    const key = await createKey(clients);
    await createQuiltStack(clients, "quilt-second", "second.example.com", { queueName: "packager-second", kmsKeyId: key.keyId, outputs: "arn" });
    const ids = await createFillerRoles(clients, 250 - roleNames.length);
    for (const role of roleNames) await createRoleOnLastPage(clients, role, ids);
    for (const [role, document] of Object.entries(FORGE_ROLES)) if (document) await putInline(clients, role, NEXTFLOW_POLICY, document);
    await attachManaged(clients, "TowerForge-managed-InstanceRole", "QueueSenders", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sqs:*", Resource: "*" }] });
    initial = await snapshot(clients, roleNames);
  });

  after(async () => {
    await catalog?.close();
    await moto?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("has 250 roles with every Forge role on the last ListRoles page, and more than 100 stacks", async () => {
    const first = await clients.iam.send(new ListRolesCommand({}));
    const second = await clients.iam.send(new ListRolesCommand({ Marker: first.Marker! }));
    const third = await clients.iam.send(new ListRolesCommand({ Marker: second.Marker! }));
    assert.equal(third.IsTruncated, false);
    assert.equal((first.Roles?.length ?? 0) + (second.Roles?.length ?? 0) + (third.Roles?.length ?? 0), 250);
    assert.ok(![...first.Roles!, ...second.Roles!].some((r) => r.RoleName!.startsWith("TowerForge")));
    assert.equal(third.Roles!.filter((r) => r.RoleName!.startsWith("TowerForge")).length, roleNames.length);
  });

  it("--yes without any catalog is an error that names --catalog, and writes nothing", async () => {
    const result = await runScript("setup-sqs.ts", ["--yes", "--region", "us-east-1"], { cwd: home, env });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No catalog URL/);
    assert.match(result.stderr, /--catalog https:\/\//);
    await assert.rejects(stat(join(home, "config.toml")));
  });

  it("an explicit Deny on one role stops setup before any role is changed", async () => {
    const denied = "TowerForge-deny-FargateRole";
    await clients.iam.send(new (await import("@aws-sdk/client-iam")).CreateRoleCommand({ RoleName: denied, AssumeRolePolicyDocument: ASSUME_ROLE }));
    await putInline(clients, denied, NEXTFLOW_POLICY, { Version: "2012-10-17", Statement: [BATCH, { Sid: "NoQueues", Effect: "Deny", Action: "sqs:*", Resource: "*" }] });
    try {
      const result = await runScript("setup-sqs.ts", ["--yes", "--catalog", catalog.url], { cwd: home, env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /TowerForge-deny-FargateRole: sqs:SendMessage on .* is explicitly denied by inline policy nextflow-policy, statement 2 \(Sid NoQueues\)/);
      assert.match(result.stderr, /Remove or narrow that Deny/);
      assert.deepEqual(await snapshot(clients, roleNames), initial);
      await assert.rejects(stat(join(home, "config.toml")));
    } finally {
      await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: denied, PolicyName: NEXTFLOW_POLICY }));
      await clients.iam.send(new DeleteRoleCommand({ RoleName: denied }));
    }
  });

  it("a hand-edited statement of this tool stops setup before any role is changed, naming role, policy, Sid and what differs", async () => {
    const edited = "TowerForge-edited-FargateRole";
    await clients.iam.send(new CreateRoleCommand({ RoleName: edited, AssumeRolePolicyDocument: ASSUME_ROLE }));
    const tampered = { Sid: SEND_SID, Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::secret-bucket/*" };
    await putInline(clients, edited, NEXTFLOW_POLICY, { Version: "2012-10-17", Statement: [BATCH, tampered] });
    try {
      const result = await runScript("setup-sqs.ts", ["--yes", "--catalog", catalog.url], { cwd: home, env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /The inline policy nextflow-policy of role TowerForge-edited-FargateRole: the statement with Sid QuiltPackagerQueueSend \(setup-sqs writes it\) was edited by hand: its Action is "s3:GetObject", not "sqs:SendMessage"\. .*nothing was changed/,
      );
      assert.match(result.stderr, /another Sid/);
      assert.deepEqual(await snapshot(clients, roleNames), initial);
      assert.deepEqual(statementsOf(await inlinePolicies(clients, edited)), [BATCH, tampered]);
      await assert.rejects(stat(join(home, "config.toml")));
    } finally {
      await deleteRole(clients, edited);
    }
  });

  it("names a conditional or possible Deny once, beside a conditional Allow; a catalog URL with a path is reduced to its origin", async () => {
    const guarded = "TowerForge-guarded-FargateRole";
    await clients.iam.send(new CreateRoleCommand({ RoleName: guarded, AssumeRolePolicyDocument: ASSUME_ROLE }));
    await putInline(clients, guarded, NEXTFLOW_POLICY, {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*", Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } } },
        { Sid: "TlsOnly", Effect: "Deny", Action: "sqs:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } },
        { Sid: "TeamOnly", Effect: "Deny", Action: "sqs:*", Resource: "arn:aws:sqs:*:*:${aws:PrincipalTag/team}-*" },
      ],
    });
    try {
      const result = await runScript("setup-sqs.ts", ["--yes", "--dry-run", "--catalog", `${catalog.url}/b/bucket/tree/x/`], { cwd: home, env });
      assert.equal(result.code, 0, result.stderr);
      const warnings = result.stderr.split("\n").filter((l) => l.includes(`${guarded}:`));
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0]!, /allowed only under a Condition.*may block it: .*statement 2 \(Sid TlsOnly\); .*statement 3 \(Sid TeamOnly\)/);
      assert.match(result.stderr, /using the catalog's origin http:\/\/127\.0\.0\.1:\d+ \(left out \/b\/bucket\/tree\/x\/\)/);
      assert.match(result.stderr, /from http:\/\/127\.0\.0\.1:\d+\/config\.json/);
      assert.match(result.stdout, new RegExp(`catalog_url = "${catalog.url}"`));
    } finally {
      await deleteRole(clients, guarded);
    }
  });

  it("a role whose inline policies are near the size limit stops setup with a clear error, nothing changed", async () => {
    const role = "TowerForge-t1-FargateRole";
    const filler = { Version: "2012-10-17", Statement: [{ Sid: "Big", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${"b".repeat(10_240 - 300)}` }] };
    await putInline(clients, role, "big-policy", filler);
    try {
      const result = await runScript("setup-sqs.ts", ["--yes", "--catalog", catalog.url], { cwd: home, env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /Role TowerForge-t1-FargateRole: its inline policies would total \d+ characters, over IAM's limit of 10240; nothing was changed/);
      assert.deepEqual(await snapshot(clients, roleNames.filter((r) => r !== role)), Object.fromEntries(Object.entries(initial).filter(([r]) => r !== role)));
      assert.deepEqual((await inlinePolicies(clients, role))[NEXTFLOW_POLICY], (initial[role] as Record<string, unknown>)[NEXTFLOW_POLICY]);
    } finally {
      await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: "big-policy" }));
    }
  });

  it("--dry-run shows each planned policy change and changes nothing", async () => {
    const result = await runScript("setup-sqs.ts", ["--yes", "--dry-run", "--catalog", catalog.url], { cwd: home, env });
    assert.equal(result.code, 0, result.stderr);
    for (const role of ["TowerForge-t1-FargateRole", "TowerForge-t1-InstanceRole", "TowerForge-single-FargateRole", "TowerForge-cond-FargateRole", "TowerForge-nopolicy-FargateRole"]) {
      assert.match(result.stdout, new RegExp(`Would change role ${role}, inline policy nextflow-policy`));
    }
    assert.doesNotMatch(result.stdout, /Would change role TowerForge-(wild|notaction|managed)/);
    assert.match(result.stdout, /add statement QuiltPackagerQueueSend: Allow sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:packager-main/);
    assert.match(result.stdout, /create inline policy nextflow-policy/);
    assert.match(result.stdout, /Dry run: nothing was changed/);
    assert.deepEqual(await snapshot(clients, roleNames), initial);
    await assert.rejects(stat(join(home, "config.toml")));
  });

  it("asks for profile, catalog and each grant through stdin, and grants only what was accepted", async () => {
    // Roles needing a change, in name order: cond, nopolicy, single, t1-Fargate, t1-Instance (declined).
    const input = `\n${catalog.url.toUpperCase().replace("HTTP://", "http://")}/\ny\n\nyes\ny\nn\n`;
    const result = await runScript("setup-sqs.ts", [], { cwd: home, env, input });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /AWS profile \(Enter for the default credential chain\)/);
    assert.match(result.stderr, /Quilt catalog URL/);
    assert.match(result.stderr, /stack quilt-main \(102 stacks in 3 pages\)/);
    assert.match(result.stderr, /8 Forge roles among 250 roles \(3 pages\)/);
    assert.match(result.stderr, /TowerForge-cond-FargateRole: sqs:SendMessage on .* is allowed only under a Condition, which does not count as a plain grant/);

    const after = await snapshot(clients, roleNames);
    const single = statementsOf(after["TowerForge-single-FargateRole"] as Record<string, unknown>);
    assert.ok(Array.isArray(single));
    assert.deepEqual(single[0], (FORGE_ROLES["TowerForge-single-FargateRole"] as { Statement: unknown }).Statement);
    assert.deepEqual(single[1], { Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", Resource: Q1_ARN });
    const t1 = statementsOf(after["TowerForge-t1-FargateRole"] as Record<string, unknown>);
    assert.deepEqual(t1, [BATCH, { Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", Resource: Q1_ARN }]);
    assert.equal(statementsOf(after["TowerForge-cond-FargateRole"] as Record<string, unknown>).length, 2);
    assert.deepEqual(statementsOf(after["TowerForge-nopolicy-FargateRole"] as Record<string, unknown>), [{ Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", Resource: Q1_ARN }]);
    for (const unchanged of ["TowerForge-t1-InstanceRole", "TowerForge-wild-InstanceRole", "TowerForge-notaction-FargateRole", "TowerForge-managed-InstanceRole"]) {
      assert.deepEqual(after[unchanged], initial[unchanged], unchanged);
    }

    const config = parse(await readFile(join(home, "config.toml"), "utf8")) as Record<string, Record<string, unknown>>;
    assert.deepEqual({ ...config.sqs }, { queue_url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/packager-main`, queue_arn: Q1_ARN, region: "us-east-1" });
    assert.deepEqual({ ...config.stack }, { name: "quilt-main", catalog_url: catalog.url, account_id: ACCOUNT });
    assert.deepEqual(config.roles?.updated, roleNames.filter((r) => r !== "TowerForge-t1-InstanceRole").sort((a, b) => a.localeCompare(b)));
  });

  it("--yes takes the catalog from quilt3's config.yml and the region from <catalog>/config.json, then changes nothing on a second run", async () => {
    await writeQuilt3Config(home, `${catalog.url}/`);
    const first = await runScript("setup-sqs.ts", ["--yes"], { cwd: home, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /from .*Quilt\/config\.yml/);
    assert.match(first.stderr, /from http:\/\/127\.0\.0\.1:\d+\/config\.json/);
    const granted = await snapshot(clients, roleNames);
    assert.deepEqual(statementsOf(granted["TowerForge-t1-InstanceRole"] as Record<string, unknown>)[1], { Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", Resource: Q1_ARN });
    const configText = await readFile(join(home, "config.toml"), "utf8");
    assert.equal((parse(configText) as { roles: { updated: string[] } }).roles.updated.length, roleNames.length);
    const mtime = (await stat(join(home, "config.toml"))).mtimeMs;

    const second = await runScript("setup-sqs.ts", ["--yes"], { cwd: home, env });
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /Change role/);
    assert.match(second.stderr, /config\.toml is already up to date/);
    assert.deepEqual(await snapshot(clients, roleNames), granted);
    assert.equal((await stat(join(home, "config.toml"))).mtimeMs, mtime);
  });

  it("a second queue (KMS-encrypted, ARN output) extends the tool's statement and adds the key grant", async () => {
    const before = await snapshot(clients, roleNames);
    const result = await runScript("setup-sqs.ts", ["--yes", "--catalog", "https://Second.Example.com/", "--region", "us-east-1", "--config", "second/config.toml"], {
      cwd: home,
      env,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Cannot write the configuration to "second\/config\.toml": its directory .*second does not exist; nothing was changed/);
    assert.deepEqual(await snapshot(clients, roleNames), before);
    for (const [config, why] of [[".", /"\.": it is a directory; nothing was changed/], ["", /"": the path is empty; nothing was changed/]] as const) {
      const refused = await runScript("setup-sqs.ts", ["--yes", "--catalog", "https://Second.Example.com/", "--region", "us-east-1", "--config", config], { cwd: home, env });
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, why);
      assert.deepEqual(await snapshot(clients, roleNames), before);
    }
    const ok = await runScript("setup-sqs.ts", ["--yes", "--catalog", "https://Second.Example.com/", "--region", "us-east-1", "--config", "second.toml"], { cwd: home, env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /customer-managed KMS key arn:aws:kms:us-east-1:123456789012:key\//);
    const after = await snapshot(clients, roleNames);
    const t1 = statementsOf(after["TowerForge-t1-FargateRole"] as Record<string, unknown>);
    assert.deepEqual(t1[0], BATCH);
    assert.equal(t1.filter((s) => s.Sid === SEND_SID).length, 1);
    assert.deepEqual(t1.find((s) => s.Sid === SEND_SID)?.Resource, [Q1_ARN, Q2_ARN]);
    const kms = t1.find((s) => s.Sid === KMS_SID);
    assert.deepEqual(kms?.Action, ["kms:GenerateDataKey", "kms:Decrypt"]);
    assert.match(String(kms?.Resource), /^arn:aws:kms:us-east-1:123456789012:key\//);
    // sqs:* via the managed policy covers SendMessage, not KMS: only the KMS statement is added there
    const managed = statementsOf(after["TowerForge-managed-InstanceRole"] as Record<string, unknown>);
    assert.deepEqual(managed.map((s) => s.Sid), ["Batch", KMS_SID]);
    assert.notDeepEqual(after, before);
    const config = parse(await readFile(join(home, "second.toml"), "utf8")) as { sqs: Record<string, string> };
    assert.equal(config.sqs.queue_arn, Q2_ARN);
    assert.match(config.sqs.kms_key_arn ?? "", /^arn:aws:kms:/);
  });

  it("asks every question before writing; a role deleted meanwhile is named, with the roles already changed and config.toml written for them", async () => {
    const [first, gone] = ["TowerForge-zz1-FargateRole", "TowerForge-zz2-FargateRole"];
    for (const role of [first, gone]) {
      await clients.iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: ASSUME_ROLE }));
      await putInline(clients, role, NEXTFLOW_POLICY, { Version: "2012-10-17", Statement: [BATCH] });
    }
    try {
      const args = ["--catalog", catalog.url, "--region", "us-east-1", "--config", "partial.toml"];
      const result = await runScriptAnswering("setup-sqs.ts", args, { cwd: home, env }, async (prompt) => {
        if (prompt.includes(`Grant ${gone}`)) await deleteRole(clients, gone);
        return prompt.includes("Grant") ? "y" : "";
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`The role ${gone} disappeared while trying to write the policy nextflow-policy of role ${gone}: was its compute environment deleted\\?`));
      assert.match(result.stderr, new RegExp(`Roles already changed before it stopped: ${first}\\.`));
      assert.match(result.stderr, /partial\.toml was written for what is in place now/);
      assert.match(result.stderr, /run setup again: it is idempotent/i);
      assert.equal(statementsOf(await inlinePolicies(clients, first)).filter((s) => s.Sid === SEND_SID).length, 1);
      const config = parse(await readFile(join(home, "partial.toml"), "utf8")) as { roles: { updated: string[] } };
      assert.ok(config.roles.updated.includes(first));
      assert.ok(!config.roles.updated.includes(gone));
    } finally {
      await deleteRole(clients, first);
      await deleteRole(clients, gone);
    }
  });

  it("Ctrl-C while writing finishes the current write, stops, and reports what was changed", async () => {
    const [first, second] = ["TowerForge-zz3-FargateRole", "TowerForge-zz4-FargateRole"];
    for (const role of [first, second]) {
      await clients.iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: ASSUME_ROLE }));
      await putInline(clients, role, NEXTFLOW_POLICY, { Version: "2012-10-17", Statement: [BATCH] });
    }
    const savedEnv = { ...process.env };
    Object.assign(process.env, env);
    let outerCalls = 0;
    const outer = () => outerCalls++;
    process.on("SIGINT", outer);
    const factory: ServicesFactory = (region, profile, e) => {
      const services = createSqsToolServices(region, profile, e);
      const put = services.iam.putInlinePolicy.bind(services.iam);
      services.iam.putInlinePolicy = async (role, policy, document) => {
        await put(role, policy, document);
        if (role === first) process.emit("SIGINT", "SIGINT");
      };
      return services;
    };
    const err = new PassThrough();
    let stderr = "";
    err.on("data", (c: Buffer) => (stderr += c.toString()));
    const input = new PassThrough();
    input.end();
    try {
      await assert.rejects(
        runSetup({ yes: true, dryRun: false, catalog: catalog.url, region: "us-east-1", config: join(home, "cancel.toml") }, { input, output: { out: new PassThrough(), err }, env }, factory),
        (e: UserError) =>
          /Cancelled by user while writing policies\. Roles already changed before it stopped: TowerForge-zz3-FargateRole\./.test(e.message) && /cancel\.toml was written/.test(e.message) && /idempotent/.test(e.hint ?? ""),
      );
      assert.match(stderr, /Ctrl-C: stopping after the current policy write/);
      assert.equal(outerCalls, 0);
      assert.ok(process.listeners("SIGINT").includes(outer));
      assert.equal(statementsOf(await inlinePolicies(clients, first)).length, 2);
      assert.deepEqual(statementsOf(await inlinePolicies(clients, second)), [BATCH]);
    } finally {
      process.removeListener("SIGINT", outer);
      process.env = savedEnv;
      await deleteRole(clients, first);
      await deleteRole(clients, second);
    }
  });
});
