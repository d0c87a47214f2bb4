import type { Argv } from "yargs";
import { UserError, describeError } from "./errors.ts";

/**
 * The parser settings every command shares: unknown flags are errors, real --help/-h, no
 * --version, and parse failures become a UserError (printed by runCommand) instead of an exit.
 */
export function strictParser<T>(parser: Argv<T>, scriptName: string): Argv<T> {
  return parser
    .scriptName(scriptName)
    .strict()
    .version(false)
    .help()
    .alias("help", "h")
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw new UserError(message || describeError(error), `Run ${scriptName} --help for the options.`);
    });
}
