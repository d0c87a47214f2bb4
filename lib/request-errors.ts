import { explainCredentialsError } from "./aws-clients.ts";
import { UserError, describeError } from "./errors.ts";

interface ErrorFields {
  name?: string;
  code?: string;
  hostname?: string;
  message?: string;
  cause?: unknown;
  $response?: { statusCode?: number; headers?: Record<string, string> };
  $metadata?: { requestId?: string };
}

/** The error and its causes, outermost first (fetch wraps the real reason in `cause`). */
function errorChain(error: unknown): ErrorFields[] {
  const chain: ErrorFields[] = [];
  for (let e: unknown = error; e && typeof e === "object" && chain.length < 5; e = (e as ErrorFields).cause) chain.push(e as ErrorFields);
  return chain;
}

const DNS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL"]);
const REFUSED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]);
const DROPPED = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
const TIMED_OUT = new Set(["ETIMEDOUT", "TimeoutError", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "RequestTimeout"]);
const TLS = /^(CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_TLS|ERR_SSL)/;

/**
 * Sorts a failed HTTP request (fetch or the AWS SDK) by its error code into a UserError saying what
 * happened and what to do: DNS, refused, dropped, timed out, TLS, a redirect loop, or an answer that
 * is not what the service speaks. `target` names what was asked, `hint` what else to check.
 * Returns undefined for errors that are not about reaching the other side.
 */
export function explainRequestError(error: unknown, target: string, hint: string): UserError | undefined {
  const chain = errorChain(error);
  const codes = chain.flatMap((e) => [e.code, e.name].filter((c): c is string => typeof c === "string"));
  const has = (set: Set<string>) => codes.find((c) => set.has(c));
  const make = (why: string, first: string) => new UserError(`Could not reach ${target}: ${why}.`, `${first}\n${hint}`, { cause: error });
  const dns = has(DNS);
  if (dns) {
    const host = chain.find((e) => e.hostname)?.hostname;
    return make(`the name ${host ?? "of the server"} does not resolve (${dns})`, "Check the network connection and DNS (or HTTPS_PROXY); a host that cannot exist usually means a wrong URL or region.");
  }
  const refused = has(REFUSED);
  if (refused) return make(`the connection was refused (${refused})`, "Check the network connection, a firewall or proxy, and any endpoint override (AWS_ENDPOINT_URL...).");
  const timedOut = has(TIMED_OUT);
  if (timedOut) return make(`no answer in time (${timedOut})`, "Check the network connection, a firewall or proxy; then try again.");
  const dropped = has(DROPPED);
  if (dropped) return make(`the connection was dropped (${dropped})`, "Try again; if it persists, check a proxy or firewall between you and the server.");
  const tls = codes.find((c) => TLS.test(c));
  if (tls) return make(`its TLS certificate was not accepted (${tls})`, "Check the URL; behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to its CA certificate.");
  if (chain.some((e) => /redirect count exceeded/i.test(e.message ?? ""))) {
    return make("it redirects in a loop", "Open the URL in a browser: a login page or a misconfigured proxy redirects endlessly.");
  }
  const withResponse = chain.find((e) => e.$response);
  const response = withResponse?.$response;
  const unparsed = chain.some((e) => /Deserialization error|parse error/i.test(e.message ?? ""));
  const anonymous = withResponse?.message === "Unknown" && !withResponse.$metadata?.requestId;
  if (response && (unparsed || anonymous)) {
    const type = response.headers?.["content-type"];
    return make(
      `the answer (HTTP ${response.statusCode ?? "?"}${type ? `, ${type}` : ""}) is not an AWS API answer`,
      "Something else answered: a captive portal, a proxy, or a wrong endpoint override (AWS_ENDPOINT_URL...), or a region that does not exist.",
    );
  }
  return undefined;
}

/**
 * The one place setup-sqs and check-sqs turn AWS SDK failures that are not a service's own answer
 * into UserErrors: credentials, then the network (see explainRequestError). Other errors pass through.
 */
export function explainAwsError(error: unknown, region?: string, settings = "--region or sqs.region in config.toml, --profile"): unknown {
  if (error instanceof UserError) return error;
  const credentials = explainCredentialsError(error);
  if (credentials instanceof UserError) return credentials;
  const where = region ? `AWS in ${region}` : "AWS";
  return (
    explainRequestError(
      error,
      where,
      `Check ${region ? `that ${region} is a real AWS region and ` : ""}the AWS settings (${settings}, AWS_ENDPOINT_URL...). (${describeError(error).split("\n")[0]})`,
    ) ?? error
  );
}
