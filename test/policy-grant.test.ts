import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { UserError } from "../lib/errors.ts";
import { INLINE_POLICY_SIZE_LIMIT, KMS_ACTIONS, KMS_SID, NEXTFLOW_POLICY, SEND_SID, planPolicyChange, planPolicyDocument, policySize } from "../lib/policy-grant.ts";

const Q1 = "arn:aws:sqs:us-east-1:123456789012:queue-one";
const Q2 = "arn:aws:sqs:us-east-1:123456789012:queue-two";
const send = (resource: string) => ({ sid: SEND_SID, actions: ["sqs:SendMessage"], resource });
const EXISTING = { Version: "2012-10-17", Statement: { Sid: "Batch", Effect: "Allow", Action: ["batch:*", "ecs:*"], Resource: "*" } };

describe("planPolicyDocument", () => {
  it("turns a single Statement object into a list and appends one statement with an alphanumeric Sid", () => {
    const planned = planPolicyDocument(JSON.stringify(EXISTING), [send(Q1)], "test")!;
    const statements = planned.document.Statement as Array<Record<string, unknown>>;
    assert.equal(statements.length, 2);
    assert.deepEqual(statements[0], EXISTING.Statement);
    assert.deepEqual(statements[1], { Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", Resource: Q1 });
    assert.match(SEND_SID, /^[A-Za-z0-9]+$/);
    assert.match(KMS_SID, /^[A-Za-z0-9]+$/);
    assert.ok(planned.changes.some((c) => /single Statement object into a list/.test(c)));
  });

  it("extends its own statement with a second queue instead of adding a duplicate Sid", () => {
    const first = planPolicyDocument(JSON.stringify(EXISTING), [send(Q1)], "test")!;
    const second = planPolicyDocument(JSON.stringify(first.document), [send(Q2)], "test")!;
    const statements = second.document.Statement as Array<Record<string, unknown>>;
    assert.equal(statements.filter((s) => s.Sid === SEND_SID).length, 1);
    assert.deepEqual(statements[1]?.Resource, [Q1, Q2]);
    assert.deepEqual(statements[0], EXISTING.Statement);
  });

  it("plans nothing when every grant is already there", () => {
    const first = planPolicyDocument(undefined, [send(Q1)], "test")!;
    assert.equal(planPolicyDocument(JSON.stringify(first.document), [send(Q1)], "test"), undefined);
  });

  it("reads URL-encoded documents and creates a missing policy", () => {
    const planned = planPolicyDocument(encodeURIComponent(JSON.stringify(EXISTING)), [send(Q1)], "test")!;
    assert.equal((planned.document.Statement as unknown[]).length, 2);
    const created = planPolicyDocument(undefined, [send(Q1), { sid: KMS_SID, actions: KMS_ACTIONS, resource: "arn:aws:kms:us-east-1:123456789012:key/k" }], "test")!;
    assert.equal(created.document.Version, "2012-10-17");
    assert.deepEqual((created.document.Statement as Array<Record<string, unknown>>)[1]?.Action, KMS_ACTIONS);
    assert.match(created.changes[0]!, new RegExp(`create inline policy ${NEXTFLOW_POLICY}`));
  });

  it("refuses to rewrite its own statement after someone changed it into a non-plain Allow", () => {
    const tampered = { Statement: [{ Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", Resource: Q1, Condition: { Bool: { x: "true" } } }] };
    assert.throws(() => planPolicyDocument(JSON.stringify(tampered), [send(Q2)], "The policy"), /edited by hand: it has Condition/);
  });
});

describe("hand-edited statements of this tool", () => {
  const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const kms = { sid: KMS_SID, actions: KMS_ACTIONS, resource: KEY };
  const tool = { Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", Resource: Q1 };
  const plan = (statement: Record<string, unknown>, grants = [send(Q2)]) =>
    planPolicyDocument(JSON.stringify({ Version: "2012-10-17", Statement: [EXISTING.Statement, statement] }), grants, "The inline policy nextflow-policy of role R");

  it("stops, naming the role, policy, Sid and what differs, instead of merging into it", () => {
    const edits: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...tool, Action: "s3:GetObject", Resource: "arn:aws:s3:::secret-bucket/*" }, /its Action is "s3:GetObject", not "sqs:SendMessage"/],
      [{ ...tool, Action: ["sqs:SendMessage", "sqs:DeleteMessage"] }, /its Action is \["sqs:SendMessage","sqs:DeleteMessage"\]/],
      [{ ...tool, Resource: "*" }, /its Resource holds \*: only SQS queue ARNs belong there/],
      [{ ...tool, Resource: [Q1, "arn:aws:s3:::secret-bucket/*"] }, /its Resource holds arn:aws:s3:::secret-bucket\/\*/],
      [{ ...tool, Effect: "Deny" }, /its Effect is "Deny"/],
      [{ ...tool, Principal: "*" }, /it has Principal/],
      [{ Sid: SEND_SID, Effect: "Allow", NotAction: "iam:*", Resource: Q1 }, /it has NotAction/],
      [{ Sid: SEND_SID, Effect: "Allow", Action: "sqs:SendMessage", NotResource: Q1 }, /it has NotResource/],
      [{ Sid: KMS_SID, Effect: "Allow", Action: KMS_ACTIONS, Resource: Q1 }, /its Resource holds .*only KMS key ARNs belong there/],
    ];
    for (const [statement, why] of edits) {
      assert.throws(
        () => plan(statement),
        (e: UserError) =>
          /^The inline policy nextflow-policy of role R: the statement with Sid \w+ \(setup-sqs writes it\) was edited by hand: /.test(e.message) &&
          why.test(e.message) &&
          /nothing was changed/.test(e.message) &&
          /another Sid/.test(e.hint ?? ""),
        JSON.stringify(statement),
      );
    }
  });

  it("checks them even when no grant is needed", () => {
    assert.throws(() => plan({ ...tool, Action: ["sqs:SendMessage", "s3:GetObject"] }, []), /edited by hand/);
    assert.throws(() => planPolicyChange("R", new Map([[NEXTFLOW_POLICY, JSON.stringify({ Statement: [{ ...tool, Resource: "*" }] })]]), []), /edited by hand/);
  });

  it("accepts what it writes: string or list Action in any case, lists of ARNs of its kind", () => {
    assert.equal(plan({ ...tool, Action: ["SQS:SendMessage"], Resource: [Q1, Q2] }), undefined);
    assert.equal(plan({ Sid: KMS_SID, Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: KEY }, [kms]), undefined);
    assert.deepEqual((plan(tool)!.document.Statement as Array<Record<string, unknown>>)[1]?.Resource, [Q1, Q2]);
  });
});

describe("planPolicyChange", () => {
  it("counts every inline policy without whitespace and stops before IAM's limit", () => {
    assert.equal(policySize('{ "a" : [ 1, 2 ] }'), '{"a":[1,2]}'.length);
    const padding = "x".repeat(INLINE_POLICY_SIZE_LIMIT - 200);
    const big = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Big", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${padding}` }] });
    const inline = new Map([["other", big], [NEXTFLOW_POLICY, JSON.stringify(EXISTING)]]);
    assert.throws(() => planPolicyChange("TowerForge-x-FargateRole", inline, [send(Q1)]), /over IAM's limit of 10240; nothing was changed/);
    const roomy = new Map([[NEXTFLOW_POLICY, JSON.stringify(EXISTING)]]);
    const change = planPolicyChange("TowerForge-x-FargateRole", roomy, [send(Q1)])!;
    assert.equal(change.inlineSizeAfter, policySize(change.after));
    assert.ok(change.inlineSizeAfter < INLINE_POLICY_SIZE_LIMIT);
  });
});
