/**
 * `meter token create`: makes a token directly in a site's database (the
 * first admin token cannot come from the API, which needs one).
 *
 * @module
 */
import { type Command, intOption, stringOption, UsageError } from "./command.ts";

export const tokenCommand: Command = {
  name: "token",
  usage: `
Usage: meter token create --role admin|viewer|enroll|site [options]

Creates a token in a site's database and prints it once; only its hash is
stored. admin: edit rules and read everything; viewer: read; enroll: let
agents enrol (give it to 'meter agent --enroll-token'); site: let a child site
register (give it to 'meter site --parent-token').

Options:
  --role ROLE       admin, viewer, enroll or site (required); a site token lets
                    a child site register with this one (meter site --parent)
  --db URL          the site's database (default: as 'meter site' would use)
  --code CODE       the site code, to find the default database (default S01)
  --data-dir DIR    the site's data folder (default .meter)
  --config FILE     the site's config file, to find its database
  --label TEXT      a note kept with the token (who or what it is for)
  --expires-days N  the token stops working after N days
  --uses N          (enroll, site) the token enrols at most N agents or sites
  --json            print {id, role, token, ...} as JSON
  -h, --help        show this help
`,
  options: {
    role: { type: "string" },
    db: { type: "string" },
    code: { type: "string" },
    "data-dir": { type: "string" },
    config: { type: "string" },
    label: { type: "string" },
    "expires-days": { type: "string" },
    uses: { type: "string" },
    json: { type: "boolean" },
  },
  async run(values, positionals) {
    if (positionals[0] !== "create" || positionals.length !== 1) {
      throw new UsageError("the only action is 'create'");
    }
    // Loaded here, so that --help needs no permissions and loads nothing.
    const { loadSiteConfig } = await import("../site/site_config.ts");
    const { openSiteDatabase } = await import("../site/site_db.ts");
    const { createToken, tokenRoleSchema } = await import("../site/tokens.ts");
    const role = tokenRoleSchema.safeParse(stringOption(values, "role", true));
    if (!role.success) throw new UsageError("--role is admin, viewer, enroll or site");
    const config = await loadSiteConfig(stringOption(values, "config"), {
      db: stringOption(values, "db"),
      code: stringOption(values, "code"),
      dataDir: stringOption(values, "data-dir"),
    });
    const days = intOption(values, "expires-days", 1);
    const db = await openSiteDatabase(config.db, config.dbAuthToken);
    try {
      const token = await createToken(db, role.data, {
        label: stringOption(values, "label"),
        expiresAt: days ? Date.now() + days * 86_400_000 : undefined,
        uses: intOption(values, "uses", 1),
      });
      if (values.json) console.log(JSON.stringify(token));
      else console.log(token.token);
    } finally {
      db.close();
    }
  },
};
