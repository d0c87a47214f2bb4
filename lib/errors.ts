/** A failure the user can act on: `message` says what went wrong, `hint` what to do about it. */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The text of any thrown value, without a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** The AWS SDK's error name (`QueueDoesNotExist`, `AccessDenied`, ...), or undefined for other errors. */
export function awsErrorName(error: unknown): string | undefined {
  if (error && typeof error === "object" && "name" in error && "$metadata" in error) {
    return String((error as { name: unknown }).name);
  }
  return undefined;
}
