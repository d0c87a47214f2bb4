import { awsErrorName } from "./errors.ts";

const THROTTLING = new Set(["Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown"]);

export function isThrottling(error: unknown): boolean {
  return THROTTLING.has(awsErrorName(error) ?? (error instanceof Error ? error.name : ""));
}

/**
 * Runs `call`, retrying throttling errors with exponential back-off (on top of the SDK's own
 * retries, which give up after a few attempts when a whole account is paging at once).
 */
export async function retryThrottled<T>(
  call: () => Promise<T>,
  { attempts = 6, baseDelayMs = 250, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottling(error) || attempt >= attempts) throw error;
      await sleep(baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  }
}
