import type { Readable, Writable } from "node:stream";
import { UserError } from "./errors.ts";
import { lineReaderFor } from "./prompt.ts";

/**
 * Reads one line without showing it: on a terminal, raw mode with no echo (Backspace edits,
 * Ctrl-C cancels); from a pipe, the first line only. It reads through the input's shared line
 * reader, so the rest of the input (or its end) is there for the next prompts. Nothing of the
 * answer is ever written to `output`.
 */
export async function askSecret(question: string, input: Readable, output: Writable, flagHint: string): Promise<string> {
  output.write(question);
  const tty = input as Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
  const raw = Boolean(tty.isTTY && tty.setRawMode);
  if (raw) tty.setRawMode!(true);
  try {
    const answer = await lineReaderFor(input).nextLine(raw);
    output.write("\n");
    if (answer === undefined) throw new UserError(`No answer to "${question.trim()}": the input ended.`, flagHint);
    return answer.trim();
  } finally {
    if (raw) tty.setRawMode!(false);
  }
}
