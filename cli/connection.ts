/**
 * How the commands that talk to a running site are pointed at it: the same
 * options, help text and environment variables for all of them, so that
 * `METER_SITE` and a token file set once serve every command.
 *
 * @module
 */
import { type ApiTarget, DEFAULT_TIMEOUT_MS } from "./api_client.ts";
import { numberOption, stringOption, UsageError, type Values } from "./command.ts";
import { secretOption, secretOptions } from "./secret_option.ts";
import { siteUrl } from "./site_url.ts";

export const CONNECTION_OPTIONS = {
  site: { type: "string" },
  ...secretOptions("token"),
  timeout: { type: "string" },
} as const;

/**
 * The connection section of a command's `--help`: `token` says which role it
 * needs, `heading` names the section.
 */
export function connectionHelp(token: string, heading = "Connection"): string {
  return `${heading}:
  --site URL              the site, e.g. http://127.0.0.1:8080 (or env METER_SITE)
  --token-file FILE       a file holding ${token} (or env METER_TOKEN)
  --token TOKEN           the token itself (other users can see it in 'ps')
  --timeout SECONDS       give up on a site that does not answer in this long
                          (default ${
    DEFAULT_TIMEOUT_MS / 1000
  }, or env METER_TIMEOUT); a busy site's
                          Retry-After (429, 503) is waited for, up to 60 s`;
}

/** The site, token and time limit given, or a usage error saying what is missing. */
export function apiTarget(values: Values): ApiTarget {
  const site = stringOption(values, "site") ?? Deno.env.get("METER_SITE");
  if (!site) throw new UsageError("--site is required (or set METER_SITE)");
  const token = secretOption(values, "token", "METER_TOKEN");
  if (!token) {
    throw new UsageError("--token is required (or --token-file FILE, or set METER_TOKEN)");
  }
  return { site: siteUrl(site, "site"), token, timeoutMs: timeoutSeconds(values) * 1000 };
}

function timeoutSeconds(values: Values): number {
  const flag = numberOption(values, "timeout", 0.1, 86_400);
  if (flag !== undefined) return flag;
  const env = Deno.env.get("METER_TIMEOUT");
  if (env === undefined || env === "") return DEFAULT_TIMEOUT_MS / 1000;
  const seconds = Number(env);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 86_400) {
    throw new UsageError(`METER_TIMEOUT is seconds from 0.1 to 86400, not ${env}`);
  }
  return seconds;
}
