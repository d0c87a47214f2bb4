import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodePolicyText, describeVerdict, evaluateAccess, hasCaveat, matchesWildcard, parsePolicyDocument, type NamedPolicy } from "../lib/iam-policy.ts";

const QUEUE = "arn:aws:sqs:us-east-1:123456789012:quilt-PackagerQueue-ABC";

function inline(document: unknown, name = "nextflow-policy"): NamedPolicy {
  return { name, kind: "inline", document: parsePolicyDocument(typeof document === "string" ? document : JSON.stringify(document)) };
}

function decide(...documents: unknown[]) {
  return evaluateAccess(documents.map((d, i) => inline(d, `p${i}`)), "sqs:SendMessage", QUEUE).decision;
}

describe("parsePolicyDocument", () => {
  it("reads URL-encoded documents as IAM returns them", () => {
    const text = encodeURIComponent(JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: QUEUE }] }));
    assert.ok(text.startsWith("%7B"));
    const doc = parsePolicyDocument(text);
    assert.deepEqual(doc.statements[0]?.actions, ["sqs:SendMessage"]);
    assert.equal(decodePolicyText(text)[0], "{");
  });

  it("accepts a single Statement object and string Action/Resource", () => {
    const doc = parsePolicyDocument(JSON.stringify({ Statement: { Effect: "Allow", Action: "sqs:*", Resource: "*" } }));
    assert.equal(doc.statements.length, 1);
    assert.deepEqual(doc.statements[0]?.resources, ["*"]);
  });

  it("names the policy when the JSON is broken", () => {
    assert.throws(() => parsePolicyDocument("{nope", "nextflow-policy of role R"), /nextflow-policy of role R is not valid JSON/);
  });

  it("rejects an Action that is not a string or list of strings", () => {
    assert.throws(() => parsePolicyDocument(JSON.stringify({ Statement: [{ Effect: "Allow", Action: 3, Resource: "*" }] })), /Action/);
  });
});

describe("matchesWildcard", () => {
  it("matches * and ? and nothing else specially", () => {
    assert.ok(matchesWildcard("sqs:Send*", "sqs:SendMessage"));
    assert.ok(matchesWildcard("sqs:SendMessag?", "sqs:SendMessage"));
    assert.ok(!matchesWildcard("sqs:SendMessag?", "sqs:SendMessageBatch"));
    assert.ok(!matchesWildcard("arn:aws:sqs:us-east-1:1.3:*", "arn:aws:sqs:us-east-1:123:q"));
    assert.ok(matchesWildcard("arn:aws:sqs:*:123456789012:quilt-*", QUEUE));
  });

  it("compares case-insensitively only when asked (actions, not resources)", () => {
    assert.ok(matchesWildcard("SQS:sendmessage", "sqs:SendMessage", true));
    assert.ok(!matchesWildcard("arn:aws:sqs:us-east-1:123456789012:QUILT-*", QUEUE));
  });
});

describe("evaluateAccess", () => {
  const allow = (extra: Record<string, unknown>) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", ...extra }] });

  it("allows the literal action on the queue, and sqs:* or * anywhere", () => {
    assert.equal(decide(allow({ Action: "sqs:SendMessage", Resource: QUEUE })), "allowed");
    assert.equal(decide(allow({ Action: ["s3:GetObject", "sqs:*"], Resource: ["*"] })), "allowed");
    assert.equal(decide(allow({ Action: "*", Resource: "*" })), "allowed");
  });

  it("understands wildcards and case in actions, wildcards in resources", () => {
    assert.equal(decide(allow({ Action: "SQS:Send*", Resource: "arn:aws:sqs:us-east-1:123456789012:quilt-*" })), "allowed");
    assert.equal(decide(allow({ Action: "sqs:Send*", Resource: "arn:aws:sqs:us-east-1:123456789012:other-*" })), "not-allowed");
    assert.equal(decide(allow({ Action: "sqs:ReceiveMessage", Resource: "*" })), "not-allowed");
  });

  it("understands NotAction and NotResource", () => {
    assert.equal(decide(allow({ NotAction: "iam:*", Resource: "*" })), "allowed");
    assert.equal(decide(allow({ NotAction: ["sqs:*"], Resource: "*" })), "not-allowed");
    assert.equal(decide(allow({ Action: "sqs:SendMessage", NotResource: "arn:aws:sqs:*:*:other" })), "allowed");
    assert.equal(decide(allow({ Action: "sqs:SendMessage", NotResource: QUEUE })), "not-allowed");
  });

  it("lets an explicit Deny win over any Allow, in any policy", () => {
    const verdict = evaluateAccess(
      [inline(allow({ Action: "*", Resource: "*" }), "admin"), inline({ Statement: { Sid: "NoSqs", Effect: "Deny", Action: "sqs:Send*", Resource: "*" } }, "guard")],
      "sqs:SendMessage",
      QUEUE,
    );
    assert.equal(verdict.decision, "denied");
    assert.match(describeVerdict(verdict), /explicitly denied by inline policy guard, statement 1 \(Sid NoSqs\)/);
    assert.equal(decide(allow({ Action: "sqs:*", Resource: "*" }), { Statement: [{ Effect: "Deny", NotAction: "sqs:SendMessage", Resource: "*" }] }), "allowed");
  });

  it("does not count an Allow with a Condition as a plain grant, and says so", () => {
    const verdict = evaluateAccess([inline(allow({ Action: "sqs:SendMessage", Resource: QUEUE, Condition: { Bool: { "aws:SecureTransport": "true" } } }))], "sqs:SendMessage", QUEUE);
    assert.equal(verdict.decision, "conditional");
    assert.match(describeVerdict(verdict), /only under a Condition/);
  });

  it("keeps a plain Allow when a Deny has a Condition, but reports it", () => {
    const verdict = evaluateAccess(
      [inline({ Statement: [{ Effect: "Allow", Action: "sqs:*", Resource: "*" }, { Effect: "Deny", Action: "sqs:*", Resource: "*", Condition: { Bool: { "aws:ViaAWSService": "false" } } }] })],
      "sqs:SendMessage",
      QUEUE,
    );
    assert.equal(verdict.decision, "allowed");
    assert.match(describeVerdict(verdict), /Deny with a Condition or a policy variable may block it/);
  });

  it("names a conditional Deny once, also beside a conditional Allow or no Allow at all", () => {
    const conditionalDeny = { Sid: "TlsOnly", Effect: "Deny", Action: "sqs:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } };
    const conditionalAllow = { Effect: "Allow", Action: "sqs:SendMessage", Resource: QUEUE, Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } } };
    const both = evaluateAccess([inline({ Statement: [conditionalAllow, conditionalDeny] })], "sqs:SendMessage", QUEUE);
    assert.equal(both.decision, "conditional");
    const text = describeVerdict(both);
    assert.match(text, /only under a Condition/);
    assert.equal(text.match(/Sid TlsOnly/g)?.length, 1);
    assert.ok(hasCaveat(both));
    const denyOnly = evaluateAccess([inline({ Statement: [conditionalDeny] })], "sqs:SendMessage", QUEUE);
    assert.match(describeVerdict(denyOnly), /no policy allows .* may block it: inline policy nextflow-policy, statement 1 \(Sid TlsOnly\)/);
  });

  it("treats a Deny whose Resource or NotResource holds a policy variable as possibly applying", () => {
    const allowAll = { Effect: "Allow", Action: "sqs:*", Resource: "*" };
    const byTag = { Sid: "TeamQueues", Effect: "Deny", Action: "sqs:*", Resource: "arn:aws:sqs:*:*:${aws:PrincipalTag/team}-*" };
    const verdict = evaluateAccess([inline({ Statement: [allowAll, byTag] })], "sqs:SendMessage", QUEUE);
    assert.equal(verdict.decision, "allowed");
    assert.deepEqual(verdict.conditionalDenies.map((r) => r.sid), ["TeamQueues"]);
    assert.match(describeVerdict(verdict), /policy variable may block it: .*Sid TeamQueues/);
    const notOwn = { Sid: "OnlyOwn", Effect: "Deny", Action: "sqs:*", NotResource: "arn:aws:sqs:*:*:${aws:username}-*" };
    assert.deepEqual(evaluateAccess([inline({ Statement: [allowAll, notOwn] })], "sqs:SendMessage", QUEUE).conditionalDenies.map((r) => r.sid), ["OnlyOwn"]);
    const elsewhere = { Effect: "Deny", Action: "sqs:*", Resource: "arn:aws:sqs:eu-west-1:*:${aws:username}" };
    assert.equal(evaluateAccess([inline({ Statement: [allowAll, elsewhere] })], "sqs:SendMessage", QUEUE).conditionalDenies.length, 0);
  });

  it("reads policies without statements as granting nothing", () => {
    assert.equal(decide({ Version: "2012-10-17" }), "not-allowed");
  });
});
