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
  /**
   * Added to the agent's own times to put them on the site's clock (its
   * clock was this far behind when it sent them); 0 for a clock within a minute.
   */
  clockCorrectionSeconds: z.number(),
  /**
   * The program's language as the rule saw it (`de` from a Linux locale,
   * `de-DE` from a Windows program). Last, so the columns before it keep
   * their places in CSV.
   */
  language: z.string().nullable(),
});

export type SessionOutput = z.infer<typeof sessionOutputSchema>;
export const SESSION_COLUMNS = Object.keys(sessionOutputSchema.shape);
