import { spawn } from "node:child_process";
import { appendFile, mkdir } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { readTextIfExists } from "./config-file.ts";
import { UserError } from "./errors.ts";

/** How long a git command may take: local ones, and those that talk to origin. */
export const GIT_TIMEOUTS = { localMs: 15_000, networkMs: 30_000 };

/** What git says about the working tree, without asking origin. */
export interface GitState {
  root: string;
  /** The checked-out branch; undefined when HEAD is detached. */
  branch: string | undefined;
  /** The commit HEAD points at; undefined in a repository with no commits yet. */
  head: string | undefined;
  /** Tracked files with uncommitted changes (`git status --porcelain` lines). */
  changes: string[];
  originUrl: string | undefined;
}

/** The state of a branch that is to be launched, with what origin has of it. */
export interface BranchState extends GitState {
  branch: string;
  head: string;
  originUrl: string;
  /** The commit `origin` has for the branch, or undefined when origin has no such branch. */
  remoteCommit: string | undefined;
  /** Commits on HEAD that origin's branch lacks (0 when pushed); undefined when origin is ahead or diverged. */
  unpushed: number | undefined;
}

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

const running = new Set<number>();
let exitHookInstalled = false;

/**
 * Runs git in its own process group, so that on a time-out (or when this process exits) git and
 * its helpers (git-remote-https, ssh) are stopped together. Never prompts for a login.
 */
function runGit(cwd: string, args: string[], timeoutMs: number): Promise<GitResult> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => running.forEach(killGroup));
  }
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      settle();
      if (error.code === "ENOENT") reject(new UserError("git is not installed (or not on PATH).", "Install git and run again."));
      else reject(new UserError(`git ${args.join(" ")} could not start: ${error.message}`, "Check that git runs in this directory (git status).", { cause: error }));
    });
    child.once("close", (code) => {
      settle();
      if (timedOut) reject(timeoutError(args, timeoutMs));
      else resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function timeoutError(args: string[], timeoutMs: number): UserError {
  const command = `git ${args.join(" ")}`;
  const seconds = Math.round(timeoutMs / 1000);
  if (args[0] === "ls-remote" || args[0] === "push") {
    return new UserError(
      `${command} did not finish within ${seconds} s: origin does not answer.`,
      `Check that origin is reachable (git remote -v shows its URL; a VPN or proxy may be needed), and run "${command}" yourself: a login it asks for must be stored (credential helper or ssh-agent) first, as test-sqs never prompts for it. Or give --revision <pushed branch, tag or commit> to launch without asking origin.`,
    );
  }
  return new UserError(`${command} did not finish within ${seconds} s.`, `Run "${command}" yourself to see what holds it (another git process, a very large working tree), then run test-sqs again.`);
}

/** Runs git and returns its output; a failure is a UserError naming the command, with `hint`. */
async function git(cwd: string, args: string[], hint: string, timeoutMs = GIT_TIMEOUTS.localMs): Promise<string> {
  const result = await runGit(cwd, args, timeoutMs);
  if (result.code !== 0) {
    throw new UserError(`git ${args.join(" ")} failed: ${(result.stderr.trim() || `exit code ${result.code}`).split("\n")[0]}`, hint);
  }
  return result.stdout.replace(/\s+$/, "");
}

/** Runs git for a yes/no answer (exit code 0 or not), with the same time-out. */
async function gitSucceeds(cwd: string, args: string[]): Promise<boolean> {
  return (await runGit(cwd, args, GIT_TIMEOUTS.localMs)).code === 0;
}

/** Reads the root, branch, HEAD, uncommitted changes and origin's URL (all local; origin is not asked). */
export async function readGitState(cwd: string): Promise<GitState> {
  const top = await runGit(cwd, ["rev-parse", "--show-toplevel"], GIT_TIMEOUTS.localMs);
  if (top.code !== 0) {
    throw new UserError(`${cwd} is not inside a git repository.`, "Run test-sqs.ts from a clone of the pipeline's repository (the run launches its pushed branch).");
  }
  const root = top.stdout.trim();
  const hint = `Check the repository at ${root} with git status; run test-sqs.ts from a working clone of the pipeline's repository.`;
  const symbolic = await runGit(root, ["symbolic-ref", "-q", "--short", "HEAD"], GIT_TIMEOUTS.localMs);
  const branch = symbolic.code === 0 ? symbolic.stdout.trim() || undefined : undefined;
  const verified = await runGit(root, ["rev-parse", "-q", "--verify", "HEAD^{commit}"], GIT_TIMEOUTS.localMs);
  const head = verified.code === 0 ? verified.stdout.trim() || undefined : undefined;
  const status = head ? await git(root, ["status", "--porcelain", "--untracked-files=no"], hint) : "";
  const origin = await runGit(root, ["remote", "get-url", "origin"], GIT_TIMEOUTS.localMs);
  const originUrl = origin.code === 0 ? origin.stdout.trim() || undefined : undefined;
  return { root, branch, head, changes: status ? status.split("\n") : [], originUrl };
}

/**
 * Checks that the current branch can be launched as it is: HEAD on a branch with commits, and an
 * origin; then asks origin (git ls-remote, with a time-out) what it has of the branch.
 */
export async function readBranchOnOrigin(state: GitState, timeoutMs = GIT_TIMEOUTS.networkMs): Promise<BranchState> {
  if (!state.branch) throw detachedHeadError(state.head);
  if (!state.head) {
    throw new UserError(
      `The repository at ${state.root} has no commits yet: there is nothing to launch.`,
      `Commit the pipeline and push it: git add -A && git commit -m "pipeline" && git push -u origin ${state.branch}`,
    );
  }
  if (!state.originUrl) {
    throw new UserError(
      "This repository has no remote named origin.",
      `Add it and push the branch (git remote add origin <url> && git push -u origin ${state.branch}): Seqera Platform launches what origin has. Or give --revision <branch, tag or commit on GitHub>.`,
    );
  }
  const branch = state.branch;
  const head = state.head;
  const remoteLine = await git(
    state.root,
    ["ls-remote", "--heads", "origin", `refs/heads/${branch}`],
    `Check that origin (${state.originUrl}) is reachable and that you may read it; run "git ls-remote origin" yourself. Or give --revision <pushed branch, tag or commit> to launch without asking origin.`,
    timeoutMs,
  );
  const remoteCommit = remoteLine.split(/\s+/)[0] || undefined;
  let unpushed: number | undefined;
  if (remoteCommit === head) unpushed = 0;
  else if (remoteCommit && (await gitSucceeds(state.root, ["merge-base", "--is-ancestor", remoteCommit, head]))) {
    unpushed = Number(await git(state.root, ["rev-list", "--count", `${remoteCommit}..${head}`], `Run git fetch origin, then test-sqs again.`));
  }
  return { ...state, branch, head, originUrl: state.originUrl, remoteCommit, unpushed };
}

/** The error for a detached HEAD with no --revision: commands that make it launchable. */
export function detachedHeadError(head: string | undefined): UserError {
  return new UserError(
    "HEAD is detached: there is no branch to launch.",
    `Check out a branch (git switch <branch>), or make one here and push it: git switch -c test-sqs-run && git push -u origin test-sqs-run` +
      (head ? `\nor, if this commit is already on origin, launch it as it is: ./test-sqs.ts --revision ${head}` : ""),
  );
}

/** What must happen before launching: nothing, a push, or an error the user must fix. */
export type GitPlan = { action: "none" } | { action: "push"; commits: number };

/** Decides from the state whether the branch can be launched as it is (pure). */
export function planGit(state: BranchState): GitPlan {
  if (state.changes.length) {
    throw new UserError(
      `The working tree has uncommitted changes (${state.changes.length} file${state.changes.length === 1 ? "" : "s"}): ${state.changes.slice(0, 5).map((l) => l.slice(3)).join(", ")}${state.changes.length > 5 ? ", ..." : ""}.`,
      `Seqera Platform runs what is pushed, not your working tree. Commit and push them:\n  git add -A && git commit -m "..." && git push origin ${state.branch}\nor set them aside: git stash`,
    );
  }
  if (!state.remoteCommit) {
    throw new UserError(
      `The branch ${state.branch} does not exist on origin (${state.originUrl}).`,
      `Push it first: git push -u origin ${state.branch}`,
    );
  }
  if (state.unpushed === undefined) {
    throw new UserError(
      `origin's ${state.branch} has commits this clone does not (it is ahead or has diverged).`,
      `Bring them in first: git pull origin ${state.branch} (then push), so that the run launches what you have here.`,
    );
  }
  return state.unpushed > 0 ? { action: "push", commits: state.unpushed } : { action: "none" };
}

/** git push origin <branch>, with a time-out (pushing may take longer than a look-up). */
export async function pushBranch(root: string, branch: string, timeoutMs = 4 * GIT_TIMEOUTS.networkMs): Promise<void> {
  await git(root, ["push", "origin", `${branch}:refs/heads/${branch}`], `Push it yourself (git push origin ${branch}) to see what origin says, then run test-sqs again.`, timeoutMs);
}

/** `owner/name` of a GitHub remote URL (https or ssh), or undefined for other hosts. */
export function githubRepoOf(remoteUrl: string | undefined): string | undefined {
  const match = /^(?:https?:\/\/(?:[^@/]+@)?github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(remoteUrl ?? "");
  return match?.[1];
}

/** True when git ignores `path` (through any .gitignore, info/exclude or global rule). */
export async function isGitIgnored(root: string, path: string): Promise<boolean> {
  return gitSucceeds(root, ["check-ignore", "-q", "--", path]);
}

/** True when git tracks `path` (it is committed or staged, so ignore rules do not apply to it). */
export async function isGitTracked(root: string, path: string): Promise<boolean> {
  return gitSucceeds(root, ["ls-files", "--error-unmatch", "--", path]);
}

/**
 * Keeps `path` out of git locally: unless git already ignores it (any .gitignore, or a global
 * rule), adds `/<path from the root>` to the repository's own `.git/info/exclude`, which is not
 * tracked, so the working tree stays clean. Returns the exclude file when a line was added.
 */
export async function excludeLocally(root: string, path: string): Promise<string | undefined> {
  const inside = relative(root, path);
  if (!inside || inside.startsWith("..") || isAbsolute(inside)) return undefined;
  if (await isGitIgnored(root, path)) return undefined;
  const excludeFile = resolve(root, await git(root, ["rev-parse", "--git-path", "info/exclude"], `Check the repository at ${root} with git status.`));
  const text = (await readTextIfExists(excludeFile)) ?? "";
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  await mkdir(dirname(excludeFile), { recursive: true });
  await appendFile(excludeFile, `${text && !/\r?\n$/.test(text) ? eol : ""}/${inside.split("\\").join("/").replace(/[*?[\\]|\s$/g, "\\$&")}${eol}`, "utf8");
  return excludeFile;
}
