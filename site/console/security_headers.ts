/**
 * The security headers of every console response. The console is plain
 * server-rendered HTML with one stylesheet and no script, so its
 * Content-Security-Policy allows nothing but that stylesheet, same-origin
 * images and forms posted back to the site: an injected `<script>`, inline
 * style or foreign form target is refused by the browser even if some
 * escaping ever failed. It may not be framed by any page (clickjacking:
 * `frame-ancestors 'none'`, and `X-Frame-Options: DENY` for older browsers),
 * and nothing it serves is sniffed into another type (`nosniff`).
 *
 * Two of Hono's defaults are changed: the referrer policy is `same-origin`,
 * not `no-referrer`, because under `no-referrer` browsers send `Origin:
 * null` with a form POST and the console refuses forms whose origin is not
 * its own; and no `Strict-Transport-Security`, since a site may serve plain
 * HTTP and whether a host is HTTPS-only is its operator's decision.
 *
 * @module
 */
import { secureHeaders } from "hono/secure-headers";

export const consoleSecurityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: "DENY",
  referrerPolicy: "same-origin",
  strictTransportSecurity: false,
});
