/**
 * A usage session as the HTTP API shows it (JSON and CSV), shared with the
 * command line, which must not load the site's server code to print it.
 *
 * @module
 */
import { z } from "zod";

export const sessionOutputSchema = z.object({
  id: z.string(),
  clientId: z.string(),
  hostName: z.string(),
  ruleId: z.string(),
  ruleName: z.string().nullable(),
  user: z.string(),
  exe: z.string(),
  argv0: z.string(),
  version: z.string().nullable(),
  pid: z.number(),
  start: z.string(),
  end: z.string().nullable(),
  durationSeconds: z.number().nullable(),
  stillRunning: z.boolean(),
  startNotCaptured: z.boolean(),
  endNotCaptured: z.boolean(),
  remote: z.boolean(),
});

export type SessionOutput = z.infer<typeof sessionOutputSchema>;
export const SESSION_COLUMNS = Object.keys(sessionOutputSchema.shape);
