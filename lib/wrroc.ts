/**
 * Reading a Workflow Run RO-Crate (ro-crate-metadata.json, as nf-prov writes it) by what the crate
 * itself says: the root dataset's `mainEntity` is the main workflow, and the run is the action whose
 * `instrument` is that workflow. No file names are assumed; any property may be a single value or a list.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Entity = { [key: string]: Json };

export interface Person {
  name?: string;
  orcid?: string;
}

export interface CrateRun {
  /** The action's `@id`, e.g. `#0525d4a9-...`. */
  id: string;
  /** The run id: the `@id` without `#` or `urn:uuid:`; nf-prov uses the Nextflow session id. */
  runId: string;
  name?: string;
  startTime?: string;
  endTime?: string;
  status?: string;
  /** Who ran it (the action's `agent`). */
  agents: Person[];
}

export interface CrateSummary {
  name?: string;
  description?: string;
  datePublished?: string;
  licenses: string[];
  authors: Person[];
  mainWorkflow?: { id: string; name?: string; version?: string; url?: string };
  programmingLanguage?: string;
  runtimePlatform?: string;
  runs: CrateRun[];
}

export type RunMatch =
  | { status: "matched"; run: CrateRun }
  | { status: "unverified"; run: CrateRun }
  | { status: "stale"; crateRunIds: string[] }
  | { status: "ambiguous"; crateRunIds: string[] }
  | { status: "no-run" };

export class CrateError extends Error {
  override readonly name = "CrateError";
}

/** The crate's metadata file, which is also the @id of its descriptor entity. */
export const METADATA_FILE = "ro-crate-metadata.json";

function asList(value: Json | undefined): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isEntity(value: Json | undefined): value is Entity {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function refId(value: Json): string | undefined {
  if (typeof value === "string") return value;
  if (isEntity(value) && typeof value["@id"] === "string") return value["@id"];
  return undefined;
}

function types(entity: Entity): string[] {
  return asList(entity["@type"]).filter((t): t is string => typeof t === "string");
}

/** The first non-empty text of a property: strings and numbers as they are, `{"@value": ...}` unwrapped. */
function text(value: Json | undefined): string | undefined {
  for (const item of asList(value)) {
    if (typeof item === "string" && item.trim()) return item.trim();
    if (typeof item === "number") return String(item);
    if (isEntity(item) && (typeof item["@value"] === "string" || typeof item["@value"] === "number")) {
      return String(item["@value"]);
    }
  }
  return undefined;
}

class Graph {
  private readonly byId = new Map<string, Entity>();

  constructor(readonly entities: Entity[]) {
    for (const entity of entities) {
      const id = entity["@id"];
      if (typeof id === "string" && !this.byId.has(id)) this.byId.set(id, entity);
    }
  }

  get(id: string | undefined): Entity | undefined {
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Every entity a property points to (references resolved, inline objects kept, bare strings dropped). */
  targets(value: Json | undefined): Entity[] {
    const found: Entity[] = [];
    for (const item of asList(value)) {
      if (!isEntity(item)) continue;
      const id = refId(item);
      found.push((id !== undefined && this.get(id)) || item);
    }
    return found;
  }
}

/** Parses the JSON text of a crate; throws CrateError when it is not JSON or not an RO-Crate. */
export function parseCrateText(source: string): CrateSummary {
  let json: unknown;
  try {
    json = JSON.parse(source.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new CrateError(`not valid JSON (${(error as Error).message})`);
  }
  return parseCrate(json);
}

/** Summarises a parsed crate; throws CrateError when it has no `@graph` or no root dataset. */
export function parseCrate(json: unknown): CrateSummary {
  if (!isEntity(json as Json) || !Array.isArray((json as Entity)["@graph"])) {
    throw new CrateError("not an RO-Crate: there is no @graph list");
  }
  const graph = new Graph(((json as Entity)["@graph"] as Json[]).filter(isEntity));
  const root = findRoot(graph);
  if (!root) throw new CrateError(`not an RO-Crate: no "${METADATA_FILE}" descriptor pointing at a root dataset`);

  const mainEntity = graph.targets(root.mainEntity)[0];
  const mainId = mainEntity ? refId(mainEntity) : undefined;
  const language = mainEntity ? graph.targets(mainEntity.programmingLanguage)[0] : undefined;

  return {
    name: text(root.name),
    description: text(root.description),
    datePublished: text(root.datePublished),
    licenses: licensesOf(graph, root.license),
    authors: authorsOf(graph, root, mainEntity),
    mainWorkflow: mainId
      ? { id: mainId, name: text(mainEntity?.name), version: text(mainEntity?.version), url: text(mainEntity?.url) }
      : undefined,
    programmingLanguage: language ? joinText(text(language.name) ?? refId(language), text(language.version)) : undefined,
    runtimePlatform: mainEntity ? runtimePlatformOf(graph, mainEntity, mainId) : undefined,
    runs: mainId ? runsOf(graph, mainId) : [],
  };
}

function findRoot(graph: Graph): Entity | undefined {
  const descriptor =
    graph.get(METADATA_FILE) ??
    graph.entities.find((e) => typeof e["@id"] === "string" && e["@id"].endsWith(`/${METADATA_FILE}`));
  const rootId = descriptor ? refId(asList(descriptor.about)[0] ?? null) : undefined;
  return graph.get(rootId) ?? graph.get("./");
}

function joinText(...parts: Array<string | undefined>): string | undefined {
  const present = parts.filter((p): p is string => Boolean(p));
  return present.length ? present.join(" ") : undefined;
}

function licensesOf(graph: Graph, value: Json | undefined): string[] {
  const licenses: string[] = [];
  for (const item of asList(value)) {
    if (typeof item === "string" && item.trim()) licenses.push(item.trim());
    else if (isEntity(item)) {
      const id = refId(item);
      const entity = graph.get(id) ?? item;
      const label = text(entity.identifier) ?? id ?? text(entity.name);
      if (label) licenses.push(label);
    }
  }
  return [...new Set(licenses)];
}

function peopleOf(graph: Graph, value: Json | undefined): Person[] {
  const people: Person[] = [];
  for (const item of asList(value)) {
    if (typeof item === "string" && item.trim()) {
      people.push(/orcid\.org\//.test(item) ? { orcid: item.trim() } : { name: item.trim() });
      continue;
    }
    if (!isEntity(item)) continue;
    const id = refId(item);
    const entity = graph.get(id) ?? item;
    const orcid = [id, text(entity.identifier)].find((v) => v !== undefined && /orcid\.org\//.test(v));
    const person: Person = {};
    const name = text(entity.name);
    if (name) person.name = name;
    if (orcid) person.orcid = orcid;
    if (person.name || person.orcid) people.push(person);
  }
  return people;
}

/** The crate's authors; where the root names none, the main workflow's author or creator. */
function authorsOf(graph: Graph, root: Entity, mainEntity: Entity | undefined): Person[] {
  const own = peopleOf(graph, root.author);
  if (own.length || !mainEntity) return own;
  const workflowAuthors = peopleOf(graph, mainEntity.author);
  return workflowAuthors.length ? workflowAuthors : peopleOf(graph, mainEntity.creator);
}

/** The engine that ran the workflow: the workflow's own runtimePlatform, else the engine action's instrument. */
function runtimePlatformOf(graph: Graph, mainEntity: Entity, mainId: string | undefined): string | undefined {
  const own = graph.targets(mainEntity.runtimePlatform)[0];
  const direct = text(mainEntity.runtimePlatform) ?? (own ? text(own.name) : undefined);
  if (direct) return direct;
  for (const entity of graph.entities) {
    if (!types(entity).includes("OrganizeAction")) continue;
    const engine = graph.targets(entity.instrument).find((e) => refId(e) !== mainId);
    const name = engine ? text(engine.name) : undefined;
    if (name) return name;
  }
  return undefined;
}

function runsOf(graph: Graph, mainId: string): CrateRun[] {
  const runs: CrateRun[] = [];
  for (const entity of graph.entities) {
    if (!types(entity).includes("CreateAction")) continue;
    if (!asList(entity.instrument).some((i) => refId(i) === mainId)) continue;
    // An action without an @id cannot be told apart from any other run, so it is not one.
    const id = entity["@id"];
    if (typeof id !== "string" || !id.trim()) continue;
    const status = asList(entity.actionStatus).map(refId).find(Boolean);
    runs.push({
      id,
      runId: id.replace(/^#/, "").replace(/^urn:uuid:/i, ""),
      name: text(entity.name),
      startTime: text(entity.startTime),
      endTime: text(entity.endTime),
      status: status?.replace(/^https?:\/\/schema\.org\//, ""),
      agents: peopleOf(graph, entity.agent),
    });
  }
  return runs;
}

/**
 * Picks this run out of the crate. With a session id, only a run whose id is that session id
 * counts (anything else is a stale crate from an earlier run); without one, a single run is taken
 * as unverified and several are ambiguous.
 */
export function matchRun(summary: CrateSummary, sessionId: string | undefined): RunMatch {
  if (summary.runs.length === 0) return { status: "no-run" };
  if (sessionId) {
    const wanted = sessionId.toLowerCase();
    const run = summary.runs.find((r) => r.runId.toLowerCase() === wanted);
    return run ? { status: "matched", run } : { status: "stale", crateRunIds: summary.runs.map((r) => r.runId) };
  }
  const [only] = summary.runs;
  if (only && summary.runs.length === 1) return { status: "unverified", run: only };
  return { status: "ambiguous", crateRunIds: summary.runs.map((r) => r.runId) };
}
