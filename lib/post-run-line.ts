import { UserError } from "./errors.ts";

/** The repository the launcher and bundle come from by default: package.json's `repository`. */
export const DEFAULT_REPO = "data-yaml/seqera-smoke-test";
export const DEFAULT_REF = "main";

/** Seqera Platform's limit on the post-run script field, in bytes. */
export const POST_RUN_SCRIPT_LIMIT_BYTES = 1024;

export interface PostRunLineOptions {
  /** GitHub `owner/name` holding scripts/post-run-sqs.sh and dist/. */
  repo?: string;
  /** Branch, tag or commit; the launcher fetches the bundle from the same one. */
  ref?: string;
}

const REPO_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const REF_PATTERN = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/**
 * The one line to put in Seqera Platform's post-run field: fetch the launcher from `repo` at `ref`
 * and run it with the same repository and ref, so it downloads the bundle built from that commit.
 * Throws a UserError for a repository or ref that cannot go into a URL and a shell line unquoted,
 * and when the line would not fit in Seqera's 1 KB field.
 */
export function postRunLine({ repo = DEFAULT_REPO, ref = DEFAULT_REF }: PostRunLineOptions = {}): string {
  if (!REPO_PATTERN.test(repo)) {
    throw new UserError(`"${repo}" is not a GitHub repository name`, "Use the form owner/name, e.g. data-yaml/seqera-smoke-test.");
  }
  if (!REF_PATTERN.test(ref) || ref.includes("..")) {
    throw new UserError(
      `the git ref "${ref}" cannot be used in the post-run line`,
      "Use a branch, tag or commit whose name has only letters, digits and . _ - / (e.g. rename the branch).",
    );
  }
  const launcherUrl = `https://raw.githubusercontent.com/${repo}/${ref}/scripts/post-run-sqs.sh`;
  const line = `curl -fsSL --retry 3 ${launcherUrl} | POST_RUN_SQS_REPO=${repo} POST_RUN_SQS_REF=${ref} bash`;
  const bytes = Buffer.byteLength(line, "utf8");
  if (bytes >= POST_RUN_SCRIPT_LIMIT_BYTES) {
    throw new UserError(
      `the post-run line is ${bytes} bytes; Seqera accepts less than ${POST_RUN_SCRIPT_LIMIT_BYTES}`,
      "Use a shorter branch name or repository.",
    );
  }
  return line;
}
