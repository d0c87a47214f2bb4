import { EXIT_FAILURE } from "./cli.ts";
import { Logger, processOutput } from "./console.ts";

/**
 * Runs a command's `main()` as the process's entry point, without a top-level await. Should the
 * event loop run empty while `main()` is still pending (a promise nothing can settle any more),
 * this prints an error and exits 1, instead of Node's silent exit code 13.
 */
export function runAsMain(name: string, main: () => Promise<number>, log: Logger = new Logger(processOutput, process.env)): void {
  let settled = false;
  const onBeforeExit = () => {
    if (settled) return;
    settled = true;
    log.error(`${name} stopped while waiting for something that can no longer happen (an internal error).`);
    log.info("  Nothing more will happen in this run of it. Run it again with --verbose, and report what it printed last.");
    process.exitCode = EXIT_FAILURE;
  };
  process.on("beforeExit", onBeforeExit);
  main()
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      log.error(error instanceof Error ? error.message : String(error));
      process.exitCode = EXIT_FAILURE;
    })
    .finally(() => {
      settled = true;
      process.removeListener("beforeExit", onBeforeExit);
    });
}
