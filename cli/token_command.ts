/**
 * `meter token create|list|revoke`: tokens, directly in a site's database
 * (the first admin token cannot come from the API, which needs one; the API
 * has `GET/DELETE /v1/tokens` for the rest).
 *
 * @module
 */
import { type Command, intOption, stringOption, UsageError } from "./command.ts";
import { printList } from "./output.ts";

const LIST_COLUMNS = ["id", "role", "label", "createdAt", "expiresAt", "revokedAt", "usesLeft"];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const tokenCommand: Command = {
  name: "token",
  usage: `
Usage: meter token create --role admin|viewer|enroll|site [options]
       meter token list [options]
       meter token revoke ID [options]

Creates a token in a site's database and prints it once (only its hash is
stored); lists the tokens (never their secrets); or revokes one, which the
site refuses from the next request on. admin: edit rules and read everything; viewer: read; enroll: let
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
  --json            print {id, role, token, ...} (create) or the list as JSON
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
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
    if (action !== "create" && action !== "list" && action !== "revoke") {
      throw new UsageError("the action is create, list or revoke");
    }
    if (action === "revoke" && !id) throw new UsageError("revoke needs a token id (see list)");
    // Loaded here, so that --help needs no permissions and loads nothing.
    const { loadSiteConfig } = await import("../site/site_config.ts");
    const { openSiteDatabase } = await import("../site/site_db.ts");
    const tokens = await import("../site/tokens.ts");
    const config = await loadSiteConfig(stringOption(values, "config"), {
      db: stringOption(values, "db"),
      code: stringOption(values, "code"),
      dataDir: stringOption(values, "data-dir"),
    });
    const db = await openSiteDatabase(config.db, config.dbAuthToken);
    try {
      if (action === "list") {
        const listed = await tokens.listTokens(db);
        if (values.json) console.log(JSON.stringify(listed));
        else {
          printList(
            "table",
            LIST_COLUMNS,
            listed.map((t) => ({
              ...t,
              createdAt: iso(t.createdAt),
              expiresAt: iso(t.expiresAt),
              revokedAt: iso(t.revokedAt),
              lastUsedAt: iso(t.lastUsedAt),
            })),
            {},
          );
        }
        return 0;
      }
      if (action === "revoke") {
        if (!await tokens.revokeToken(db, id)) {
          console.error(`meter token: no token ${id}`);
          return 1;
        }
        console.log(`revoked ${id}`);
        return 0;
      }
      const role = tokens.tokenRoleSchema.safeParse(stringOption(values, "role", true));
      if (!role.success) throw new UsageError("--role is admin, viewer, enroll or site");
      const days = intOption(values, "expires-days", 1);
      const token = await tokens.createToken(db, role.data, {
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
