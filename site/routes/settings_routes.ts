/**
 * `GET/PATCH /v1/settings` (admin): the settings a running site can change
 * (`site_settings.ts`). A PATCH names only the fields it changes; the merged
 * result is validated as a whole (a 400 names the field), stored, and put in
 * force at once by replacing `site.settings`, which the summariser and
 * retention read on every run.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { Mutex } from "../../lib/mutex.ts";
import { log } from "../../lib/log.ts";
import { badRequest, parseOr400 } from "../http/api_error.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import {
  authErrors,
  bearerSecurity,
  bodyErrors,
  errorReply,
  jsonBodyOf,
  reply,
} from "../http/openapi_parts.ts";
import { jsonBody } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import {
  saveSettings,
  SECRET_SHOWN,
  shownSettings,
  type SiteSettings,
  siteSettingsSchema,
} from "../site_settings.ts";
import { tooLarge } from "./too_large.ts";

/** A PATCH body: any of the settings, nothing else. */
export const settingsPatchSchema = z.object(siteSettingsSchema.shape).partial().strict();

const JSON_LIMIT = 4096;

export function settingsRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const admin = requireRole(site.db, "admin");
  const limit = bodyLimit({ maxSize: JSON_LIMIT, onError: tooLarge(JSON_LIMIT) });
  // Two PATCHes at once must not each merge into the same old settings.
  const changes = new Mutex();

  app.get("/", admin, (c) => c.json(shownSettings(site.settings)));
  app.patch("/", admin, limit, async (c) => {
    const patch = await jsonBody(c, settingsPatchSchema);
    if (Object.keys(patch).length === 0) throw badRequest("the body changes nothing");
    const settings = await changes.run(() => applySettings(site, patch));
    return c.json(shownSettings(settings));
  });
  return app;
}

/** Validates the settings with `patch` applied, stores them and puts them in force. */
export async function applySettings(
  site: SiteContext,
  patch: Partial<SiteSettings>,
): Promise<SiteSettings> {
  // A secret shown as "(set)" and sent back unchanged keeps the one in force.
  let kept = patch;
  if (patch.alertWebhookSecret === SECRET_SHOWN) {
    if (!site.settings.alertWebhookSecret) {
      throw badRequest(
        "invalid settings: alertWebhookSecret: no secret is set to keep; give the secret itself",
        "invalid_input",
      );
    }
    kept = { ...patch, alertWebhookSecret: site.settings.alertWebhookSecret };
  }
  const merged = parseOr400(siteSettingsSchema, { ...site.settings, ...kept }, "settings");
  await saveSettings(site.db, merged);
  site.settings = merged;
  log.info("settings changed", shownSettings({ ...patch }));
  return merged;
}

export function settingsOpenApiPaths(): Record<string, unknown> {
  const settings = reply("The settings in force", siteSettingsSchema);
  return {
    "/v1/settings": {
      get: {
        summary: "The settings in force (admin)",
        security: bearerSecurity,
        responses: { "200": settings, ...authErrors },
      },
      patch: {
        summary: "Change settings (admin): only the fields given change; the result is checked " +
          "as a whole (summaryRetentionDays must be at least rawRetentionDays) and applies at once",
        security: bearerSecurity,
        requestBody: jsonBodyOf(settingsPatchSchema),
        responses: {
          "200": settings,
          "400": errorReply("A field is invalid; the message names it"),
          ...authErrors,
          ...bodyErrors,
        },
      },
    },
  };
}
