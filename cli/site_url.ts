/**
 * A site's URL as commands take it (`--site`, `--parent`): `http://` or
 * `https://` and a host. Leaving the scheme off (`127.0.0.1:8080`) is the
 * usual slip, and `new URL` either throws a bare TypeError on it or, for
 * `localhost:8080`, takes `localhost:` for a scheme; both are refused here
 * with the fix.
 *
 * @module
 */
import { UsageError } from "./command.ts";

/** `value` when it is an http(s) URL with a host; otherwise a usage error naming `--option`. */
export function siteUrl(value: string, option: string): string {
  if (isSiteUrl(value)) return value;
  const example = value.includes("://") ? "http://127.0.0.1:8080" : `http://${value}`;
  throw new UsageError(
    `--${option} ${value} is not a site URL: add http:// or https://, e.g. ${example}`,
  );
}

export function isSiteUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "http:" || url.protocol === "https:") && url.host !== "";
}
