import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { UserError } from "./errors.ts";

const run = promisify(execFile);

/** What git says about the working tree and its branch on `origin`. */
export interface GitState {
  root: string;
  branch: string;
  /** Tracked files with uncommitted changes (`git status --porcelain` lines). */
  changes: string[];
  /** The commit `origin` has for the branch, or undefined when origin has no such branch. */
  remoteCommit: string | undefined;
  head: string;
  /** Commits on HEAD that origin's branch lacks (0 when pushed); undefined when origin is ahead or diverged. */
  unpushed: number | undefined;
  originUrl: string | undefined;
}

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 8 * 1024 * 1024 });
    return stdout.replace(/\s+$/, "");
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") throw new UserError("git is not installed (or not on PATH).", "Install git and run again.");
    throw new UserError(`git ${args.join(" ")} failed: ${(err.stderr ?? err.message).trim().split("\n")[0]}`, "Run test-sqs.ts from a clone of the pipeline's repository.", { cause: error });
  }
}

/** Reads the branch, uncommitted changes and what origin has, asking origin directly (git ls-remote). */
export async function readGitState(cwd: string): Promise<GitState> {
  const root = await git(cwd, ["rev-parse", "--show-toplevel"]).catch(() => {
    throw new UserError(`${cwd} is not inside a git repository.`, "Run test-sqs.ts from a clone of the pipeline's repository (the run launches its pushed branch).");
  });
  const branch = await git(root, ["rev-parse", "--abbrev-ref", "HEAD"]);
  if (branch === "HEAD") {
    throw new UserError("HEAD is detached: there is no branch to launch.", "Check out a branch (git switch <branch>), or give --revision.");
  }
  const head = await git(root, ["rev-parse", "HEAD"]);
  const status = await git(root, ["status", "--porcelain", "--untracked-files=no"]);
  const originUrl = (await git(root, ["remote", "get-url", "origin"]).catch(() => "")) || undefined;
  if (!originUrl) {
    throw new UserError("This repository has no remote named origin.", "Add it (git remote add origin <url>) and push the branch: Seqera Platform launches what origin has.");
  }
  const remoteLine = await git(root, ["ls-remote", "--heads", "origin", `refs/heads/${branch}`]);
  const remoteCommit = remoteLine.split(/\s+/)[0] || undefined;
  let unpushed: number | undefined;
  if (remoteCommit === head) unpushed = 0;
  else if (remoteCommit && (await isAncestor(root, remoteCommit, head))) {
    unpushed = Number(await git(root, ["rev-list", "--count", `${remoteCommit}..${head}`]));
  }
  return { root, branch, changes: status ? status.split("\n") : [], remoteCommit, head, unpushed, originUrl };
}

async function isAncestor(root: string, ancestor: string, head: string): Promise<boolean> {
  try {
    await run("git", ["merge-base", "--is-ancestor", ancestor, head], { cwd: root });
    return true;
  } catch {
    return false;
  }
}

/** What must happen before launching: nothing, a push, or an error the user must fix. */
export type GitPlan = { action: "none" } | { action: "push"; commits: number };

/** Decides from the state whether the branch can be launched as it is (pure). */
export function planGit(state: GitState): GitPlan {
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

/** git push origin <branch>. */
export async function pushBranch(root: string, branch: string): Promise<void> {
  await git(root, ["push", "origin", `${branch}:refs/heads/${branch}`]);
}

/** `owner/name` of a GitHub remote URL (https or ssh), or undefined for other hosts. */
export function githubRepoOf(remoteUrl: string | undefined): string | undefined {
  const match = /^(?:https?:\/\/(?:[^@/]+@)?github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(remoteUrl ?? "");
  return match?.[1];
}

/** True when git ignores `path` (through any .gitignore, info/exclude or global rule). */
export async function isGitIgnored(root: string, path: string): Promise<boolean> {
  try {
    await run("git", ["check-ignore", "-q", "--", path], { cwd: root });
    return true;
  } catch {
    return false;
  }
}
