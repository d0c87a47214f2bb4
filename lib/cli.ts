import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Logger } from "./console.ts";
import { UserError, describeError } from "./errors.ts";

/** True when the module at `importMetaUrl` is the script node was asked to run (not imported by a test). */
export function isMainModule(importMetaUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (!argv1) return false;
  try {
    return realpathSync(fileURLToPath(importMetaUrl)) === realpathSync(argv1);
  } catch {
    return false;
  }
}

/** Exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;

/**
 * Runs a command's main function and turns its outcome into an exit code:
 * a UserError prints its message and hint, anything else its message (and stack with `verbose`).
 * Sets `process.exitCode`; never calls `process.exit()`.
 */
export async function runCommand(
  main: () => Promise<number>,
  log: Logger = new Logger(),
  verbose = false,
): Promise<number> {
  const onSigint = () => {
    log.info("");
    log.error("Cancelled by user");
    process.exit(EXIT_FAILURE);
  };
  process.once("SIGINT", onSigint);
  let code: number;
  try {
    code = await main();
  } catch (error) {
    reportError(error, log, verbose);
    code = EXIT_FAILURE;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
  process.exitCode = code;
  return code;
}

export function reportError(error: unknown, log: Logger, verbose = false): void {
  log.error(describeError(error));
  if (error instanceof UserError && error.hint) log.info(`  ${error.hint.replaceAll("\n", "\n  ")}`);
  if (verbose && error instanceof Error && error.stack) log.info(error.stack);
  else if (!(error instanceof UserError)) log.info("  (run again with --verbose for details)");
}
