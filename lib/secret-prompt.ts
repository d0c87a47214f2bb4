import type { Readable, Writable } from "node:stream";
import { UserError } from "./errors.ts";

/**
 * Reads one line without showing it: on a terminal, raw mode with no echo (Backspace edits,
 * Ctrl-C cancels); from a pipe, the first line only, leaving the rest of the input unread for
 * later prompts. Nothing of the answer is ever written to `output`.
 */
export async function askSecret(question: string, input: Readable, output: Writable, flagHint: string): Promise<string> {
  output.write(question);
  const tty = input as Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
  const raw = Boolean(tty.isTTY && tty.setRawMode);
  if (raw) tty.setRawMode!(true);
  try {
    const answer = await readLine(input, raw);
    output.write("\n");
    if (answer === undefined) throw new UserError(`No answer to "${question.trim()}": the input ended.`, flagHint);
    return answer.trim();
  } finally {
    if (raw) tty.setRawMode!(false);
  }
}

function readLine(input: Readable, raw: boolean): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let text = "";
    const finish = (value: string | undefined, rest?: Buffer) => {
      input.removeListener("data", onData);
      input.removeListener("end", onEnd);
      input.pause();
      if (rest?.length) input.unshift(rest);
      resolve(value);
    };
    const onEnd = () => finish(text ? text : undefined);
    const onData = (chunk: Buffer | string) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      for (let i = 0; i < buffer.length; i++) {
        const byte = buffer[i]!;
        if (byte === 0x0a || byte === 0x0d) {
          const skip = byte === 0x0d && buffer[i + 1] === 0x0a ? 2 : 1;
          return finish(text, buffer.subarray(i + skip));
        }
        if (raw && byte === 0x03) {
          input.removeListener("data", onData);
          input.removeListener("end", onEnd);
          input.pause();
          return reject(new UserError("Cancelled by user"));
        }
        if (raw && (byte === 0x7f || byte === 0x08)) {
          text = text.slice(0, -1);
          continue;
        }
        const start = i;
        while (i + 1 < buffer.length && ![0x0a, 0x0d, 0x03, 0x7f, 0x08].includes(buffer[i + 1]!)) i++;
        text += buffer.subarray(start, i + 1).toString("utf8");
      }
    };
    input.on("data", onData);
    input.once("end", onEnd);
    input.resume();
  });
}
