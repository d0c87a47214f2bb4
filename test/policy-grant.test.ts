import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
    assert.throws(() => planPolicyDocument(JSON.stringify(tampered), [send(Q2)], "The policy"), /changed by hand/);
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
