import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { UserError } from "./errors.ts";

/** Asks questions on `output` and reads answers, one line each, from `input` (a TTY or a pipe). */
export interface Prompter {
  /** The answer, or `defaultValue` on an empty line. */
  ask(question: string, defaultValue?: string): Promise<string>;
  /** y/yes or n/no (any case); an empty line is `defaultYes`. */
  confirm(question: string, defaultYes?: boolean): Promise<boolean>;
  close(): void;
}

/**
 * A prompter over two streams. Lines are buffered, so answers piped in all at once are each
 * given to the next question. When input ends before an answer, throws a UserError that
 * points at the flags that avoid the question.
 */
export function createPrompter(input: Readable, output: Writable, flagHint = "Give the answers as flags, or --yes."): Prompter {
  let rl: ReturnType<typeof createInterface> | undefined;
  let lines: AsyncIterator<string> | undefined;
  const next = async (question: string): Promise<string> => {
    output.write(question);
    if (!rl) {
      rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
      lines = rl[Symbol.asyncIterator]();
    }
    const line = await lines!.next();
    if (line.done) {
      output.write("\n");
      throw new UserError(`No answer to "${question.trim()}": the input ended.`, flagHint);
    }
    if (!(input as { isTTY?: boolean }).isTTY) output.write(`${line.value}\n`);
    return line.value.trim();
  };
  return {
    async ask(question, defaultValue) {
      const answer = await next(`${question}${defaultValue ? ` [${defaultValue}]` : ""}: `);
      return answer || defaultValue || "";
    },
    async confirm(question, defaultYes = true) {
      for (;;) {
        const answer = (await next(`${question} ${defaultYes ? "[Y/n]" : "[y/N]"} `)).toLowerCase();
        if (!answer) return defaultYes;
        if (answer === "y" || answer === "yes") return true;
        if (answer === "n" || answer === "no") return false;
        output.write("Please answer y or n.\n");
      }
    },
    close() {
      rl?.close();
    },
  };
}
