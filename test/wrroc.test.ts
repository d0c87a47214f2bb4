import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { CrateError, matchRun, parseCrate, parseCrateText } from "../lib/wrroc.ts";

const dir = new URL("../fixtures/wrroc/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir), "utf8");

/** What each shared fixture must give: its main workflow and its run(s), by what the crate says. */
const EXPECTED: Record<string, { main: string; runs: string[] }> = {
  "cwltool-runcrate-rocrate-validator-valid-provenance-run-crate.json": { main: "packed.cwl", runs: ["8a058e09-e8c3-47ed-836d-d630fe659c91"] },
  "galaxy-rocrate-validator-valid-workflow-run-crate.json": { main: "Galaxy-Workflow-Hello_World.ga", runs: ["wfrun-5a5970ab-4375-444d-9a87-a764a66e3a47"] },
  "nextflow-trace-make-crate-tutorial-run-1.json": { main: "tutorial.nf", runs: ["132aa81f-ed90-4185-b618-50c855225b13"] },
  "nextflow-wfexs-cosifer-nxf-provenance-two-runs.json": {
    main: "workflow/cosifer/nextflow/nextflow.nf",
    runs: ["fe9906cc-fdd9-4270-a841-fb57de8ade23", "9125bf5c-0922-4439-90ac-ca405f928457"],
  },
  "nextflow-wfexs-cosifer-nxf-staged-no-run.json": { main: "workflow/cosifer/nextflow/nextflow.nf", runs: [] },
  "nfprov-fbartusch-testsuite-2024-10-10-license-string.json": { main: "main.nf", runs: ["101e3cf2-8d0f-456d-a9c5-ff69a1705fc5"] },
  "nfprov-fbartusch-testsuite-2024-10-27-license-id.json": { main: "main.nf", runs: ["5dfa455e-45f0-49ec-927f-a67be4bf91b9"] },
  "nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json": { main: "main.nf", runs: ["0525d4a9-ccd8-4f53-9ae3-3795511610d2"] },
  "nfprov-legacy-handconverted-wrroc-examples-nf-prov-test-run-1.json": { main: "test.nf", runs: ["c459569b-9565-49b1-8ed9-3689cccc9d67"] },
  "sapporo-cwltool-tests-ro-crate.json": { main: "exe/trimming_and_qc.cwl", runs: ["8b6bd6e3-32dd-475f-ac6c-10da380e002e"] },
  "snakemake-wrroc-examples-crcc-img-convert-run.json": { main: "workflow/Snakefile", runs: ["1d1733a3-5105-4bac-8499-1a6c1a3e59fb"] },
};

describe("parseCrate on every shared fixture", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

  it("has an expectation for every fixture file", () => {
    assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
  });

  for (const file of files) {
    it(`${file}: main workflow and run(s)`, () => {
      const summary = parseCrateText(read(file));
      const expected = EXPECTED[file];
      assert.ok(expected);
      assert.equal(summary.mainWorkflow?.id, expected.main);
      assert.deepEqual(summary.runs.map((r) => r.runId), expected.runs);
    });
  }
});

describe("crate details", () => {
  it("nf-prov 2024-12-10: author, license, engine, workflow name and version", () => {
    const s = parseCrateText(read("nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json"));
    assert.deepEqual(s.authors, [{ name: "John Doe", orcid: "https://orcid.org/0000-0000-0000-0000" }]);
    assert.deepEqual(s.licenses, ["https://spdx.org/licenses/Apache-2.0"]);
    assert.equal(s.runtimePlatform, "Nextflow 24.10.2");
    assert.equal(s.programmingLanguage, "Nextflow 24.10.2");
    assert.deepEqual(s.mainWorkflow, { id: "main.nf", name: "nf-core/demo", version: "1.0.0", url: "https://github.com/nf-core/demo" });
    assert.equal(s.datePublished, "2024-12-10");
    const [run] = s.runs;
    assert.equal(run?.startTime, "2024-12-10T09:07:42.073671473+01:00");
    assert.equal(run?.endTime, "2024-12-10T09:07:57.433851937+01:00");
  });

  it("a license given as a bare string, or as a list", () => {
    assert.deepEqual(parseCrateText(read("nfprov-fbartusch-testsuite-2024-10-10-license-string.json")).licenses, ["Apache-2.0"]);
    assert.deepEqual(parseCrateText(read("nextflow-wfexs-cosifer-nxf-provenance-two-runs.json")).licenses, [
      "https://spdx.org/licenses/CC-BY-4.0.html",
    ]);
  });

  it("a run without times, and the hand-converted legacy crate's creator as author", () => {
    const s = parseCrateText(read("nfprov-legacy-handconverted-wrroc-examples-nf-prov-test-run-1.json"));
    assert.equal(s.runs[0]?.startTime, undefined);
    assert.equal(s.name, undefined);
    assert.ok(s.authors.length >= 1);
  });

  it("actionStatus given as a reference or a string", () => {
    const two = parseCrateText(read("nextflow-wfexs-cosifer-nxf-provenance-two-runs.json"));
    assert.equal(two.runs[0]?.status, "CompletedActionStatus");
    const cwl = parseCrateText(read("cwltool-runcrate-rocrate-validator-valid-provenance-run-crate.json"));
    assert.equal(cwl.runs[0]?.status, "CompletedActionStatus");
  });
});

describe("shapes the fixtures do not cover", () => {
  const crate = (graph: unknown[]) => ({ "@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph });
  const descriptor = { "@id": "ro-crate-metadata.json", "@type": "CreativeWork", about: { "@id": "./" } };

  it("@type lists, mainEntity as a list, instrument as a list, nulls", () => {
    const s = parseCrate(
      crate([
        descriptor,
        { "@id": "./", "@type": ["Dataset"], mainEntity: [{ "@id": "wf.nf" }], name: null, license: null },
        { "@id": "wf.nf", "@type": ["File", "ComputationalWorkflow"], name: ["flow"] },
        { "@id": "#abc", "@type": ["CreateAction", "Thing"], instrument: [{ "@id": "other" }, { "@id": "wf.nf" }], startTime: null },
        { "@id": "#task", "@type": "CreateAction", instrument: { "@id": "process" } },
      ]),
    );
    assert.equal(s.mainWorkflow?.id, "wf.nf");
    assert.equal(s.mainWorkflow?.name, "flow");
    assert.deepEqual(s.runs.map((r) => r.runId), ["abc"]);
    assert.deepEqual(s.licenses, []);
  });

  it("no mainEntity: no workflow and no run, without an error", () => {
    const s = parseCrate(crate([descriptor, { "@id": "./", "@type": "Dataset" }]));
    assert.equal(s.mainWorkflow, undefined);
    assert.deepEqual(s.runs, []);
  });

  it("refuses what is not a crate", () => {
    assert.throws(() => parseCrateText("{not json"), CrateError);
    assert.throws(() => parseCrate({ hello: 1 }), CrateError);
    assert.throws(() => parseCrate(null), CrateError);
    assert.throws(() => parseCrate([]), CrateError);
    assert.throws(() => parseCrate(crate([{ "@id": "x" }])), CrateError);
  });
});

describe("matchRun", () => {
  const nfprov = parseCrateText(read("nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json"));
  const two = parseCrateText(read("nextflow-wfexs-cosifer-nxf-provenance-two-runs.json"));
  const none = parseCrateText(read("nextflow-wfexs-cosifer-nxf-staged-no-run.json"));

  it("matches this run's session id, in any case", () => {
    const m = matchRun(nfprov, "0525D4A9-CCD8-4F53-9AE3-3795511610D2");
    assert.equal(m.status, "matched");
  });
  it("a crate of another session is stale", () => {
    assert.deepEqual(matchRun(nfprov, "11111111-2222-3333-4444-555555555555"), {
      status: "stale",
      crateRunIds: ["0525d4a9-ccd8-4f53-9ae3-3795511610d2"],
    });
  });
  it("picks the right one of two runs", () => {
    const m = matchRun(two, "9125bf5c-0922-4439-90ac-ca405f928457");
    assert.equal(m.status, "matched");
    assert.equal(m.status === "matched" && m.run.runId, "9125bf5c-0922-4439-90ac-ca405f928457");
  });
  it("without a session id: one run is unverified, two are ambiguous", () => {
    assert.equal(matchRun(nfprov, undefined).status, "unverified");
    assert.equal(matchRun(two, undefined).status, "ambiguous");
  });
  it("no run", () => {
    assert.equal(matchRun(none, "0525d4a9-ccd8-4f53-9ae3-3795511610d2").status, "no-run");
  });
});

describe("malformed crates never throw anything but CrateError", () => {
  const ODD_VALUES: unknown[] = [null, 42, true, [], {}, { "@id": 5 }, "x", [{ "@id": null }], [[1]], { "@value": {} }, "\uD800"];

  it("a run whose @id is missing or not a string is not taken as a run; the rest still parses", () => {
    for (const id of [undefined, 42, null, ""]) {
      const graph = JSON.parse(read("nfprov-fbartusch-testsuite-2024-12-10-author-publisher.json")) as { "@graph": Array<Record<string, unknown>> };
      const run = graph["@graph"].find((e) => e["@id"] === "#0525d4a9-ccd8-4f53-9ae3-3795511610d2");
      assert.ok(run);
      if (id === undefined) delete run["@id"];
      else run["@id"] = id;
      const summary = parseCrate(graph);
      assert.deepEqual(summary.runs, []);
      assert.equal(summary.mainWorkflow?.name, "nf-core/demo");
    }
  });

  it("a UTF-8 byte order mark is allowed", () => {
    const s = parseCrateText(`\uFEFF${read("nfprov-fbartusch-testsuite-2024-10-27-license-id.json")}`);
    assert.equal(s.runs.length, 1);
  });

  it("random odd values in every fixture (seeded)", () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
    for (const file of Object.keys(EXPECTED)) {
      for (let round = 0; round < 150; round++) {
        const crate = JSON.parse(read(file)) as { "@graph": Array<Record<string, unknown>> };
        for (let edits = 0; edits < 4; edits++) {
          const entity = pick(crate["@graph"]);
          const key = pick([...Object.keys(entity), "@id", "@type", "mainEntity", "instrument", "about"]);
          entity[key] = pick(ODD_VALUES);
        }
        try {
          const summary = parseCrate(crate);
          matchRun(summary, "0525d4a9-ccd8-4f53-9ae3-3795511610d2");
          JSON.stringify(summary);
        } catch (error) {
          assert.ok(error instanceof CrateError, `${file} round ${round}: ${String(error)}`);
        }
      }
    }
  });
});
