/**
 * `meter token create|list|revoke`: a site's tokens, over its API with an
 * admin token (`/v1/tokens`), or directly in its database on the site's
 * machine. The database way is for the first admin token, which the API
 * cannot give since it needs one; it only opens a database that exists
 * (`site_database.ts` says why).
 *
 * @module
 */
import type { Client } from "../store/db.ts";
import { apiRequest, type ApiTarget } from "./api_client.ts";
import { type Command, intOption, stringOption, UsageError, type Values } from "./command.ts";
import { apiTarget, CONNECTION_OPTIONS, connectionHelp } from "./connection.ts";
import { printList } from "./output.ts";
import {
  openExistingSiteDatabase,
  SITE_DATABASE_HELP,
  SITE_DATABASE_OPTIONS,
  siteDatabaseGiven,
} from "./site_database.ts";

const ROLES = ["admin", "viewer", "enroll", "site"] as const;
type Role = typeof ROLES[number];
const LIST_COLUMNS = ["id", "role", "label", "createdAt", "expiresAt", "revokedAt", "usesLeft"];

interface NewTokenOptions {
  label?: string;
  expiresInDays?: number;
  uses?: number;
}

/** A token as listed, times as ISO text: what `GET /v1/tokens` answers. */
type ListedToken = Record<string, unknown> & { id: string };

/** Where the tokens are: the site's API, or its database. */
interface Tokens {
  create(role: Role, options: NewTokenOptions): Promise<Record<string, unknown>>;
  list(): Promise<ListedToken[]>;
  /** False when there is no such token. */
  revoke(id: string): Promise<boolean>;
  close(): void;
}

export const tokenCommand: Command = {
  name: "token",
  usage: `
Usage: meter token create --role admin|viewer|enroll|site [options]
       meter token list [options]
       meter token revoke ID [options]

Creates a token and prints it once (only its hash is stored); lists the
tokens (never their secrets); or revokes one, which the site refuses from the
next request on. admin: edit rules and read everything; viewer: read; enroll:
let agents enrol (give it to 'meter agent --enroll-token-file'); site: let a
child site register (give it to 'meter site --parent-token-file').

It works in the site's database on the site's machine when --db, --data-dir,
--code or --config is given, or neither --site nor METER_SITE is: this is how
the first admin token is made (run it with what 'meter site' was given). It
never creates a database: a token in a new one would be unknown to the site.
Otherwise it works over the site's API (--site or METER_SITE) with an admin
token.

Options:
  --role ROLE       admin, viewer, enroll or site (required); a site token lets
                    a child site register with this one (meter site --parent)
  --label TEXT      a note kept with the token (who or what it is for)
  --expires-days N  the token stops working after N days
  --uses N          (enroll, site) the token enrols at most N agents or sites
  --json            print {id, role, token, ...} (create) or the list as JSON
  -h, --help        show this help

${connectionHelp("an admin token", "Over the API")}

In the site's database:
${SITE_DATABASE_HELP}

Save a new token to a file only you can read, e.g.
  (umask 077; meter token create --role admin > admin.token)
`,
  options: {
    role: { type: "string" },
    ...CONNECTION_OPTIONS,
    ...SITE_DATABASE_OPTIONS,
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
    const role = action === "create" ? roleOption(values) : undefined;
    const tokens = await openTokens(values);
    try {
      if (action === "create") return await create(tokens, role!, values);
      if (action === "list") return await list(tokens, values);
      if (!await tokens.revoke(id)) throw new Error(`no token ${id}`);
      console.log(`revoked ${id}`);
      return 0;
    } finally {
      tokens.close();
    }
  },
};

function roleOption(values: Values): Role {
  const role = stringOption(values, "role", true);
  if (!ROLES.includes(role as Role)) {
    throw new UsageError("--role is admin, viewer, enroll or site");
  }
  return role as Role;
}

async function create(tokens: Tokens, role: Role, values: Values): Promise<number> {
  const token = await tokens.create(role, {
    label: stringOption(values, "label"),
    expiresInDays: intOption(values, "expires-days", 1),
    uses: intOption(values, "uses", 1),
  });
  console.log(values.json ? JSON.stringify(token) : token.token);
  return 0;
}

async function list(tokens: Tokens, values: Values): Promise<number> {
  const listed = await tokens.list();
  if (values.json) console.log(JSON.stringify(listed));
  else printList("table", LIST_COLUMNS, listed, {});
  return 0;
}

/**
 * In the database when one of its flags is given, over the API when --site is
 * (or METER_SITE, as for the other commands), else in the default database.
 */
async function openTokens(values: Values): Promise<Tokens> {
  if (siteDatabaseGiven(values)) {
    if (values.site !== undefined) {
      throw new UsageError(
        "give --site (over the API) or --db, --data-dir, --code, --config (in the database), " +
          "not both",
      );
    }
    return databaseTokens(await openExistingSiteDatabase(values));
  }
  if (values.site !== undefined || Deno.env.get("METER_SITE")) return apiTokens(apiTarget(values));
  return databaseTokens(await openExistingSiteDatabase(values));
}

function apiTokens(target: ApiTarget): Tokens {
  return {
    async create(role, options) {
      return (await apiRequest<Record<string, unknown>>(target, "POST", "v1/tokens", {
        role,
        ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
      })).data;
    },
    async list() {
      return (await apiRequest<{ tokens: ListedToken[] }>(target, "GET", "v1/tokens")).data.tokens;
    },
    async revoke(id) {
      await apiRequest(target, "DELETE", `v1/tokens/${encodeURIComponent(id)}`);
      return true;
    },
    close() {},
  };
}

async function databaseTokens(db: Client): Promise<Tokens> {
  // Loaded here, so that --help needs no permissions and loads nothing.
  const tokens = await import("../site/mod.ts");
  return {
    create: async (role, options) => ({ ...await tokens.createToken(db, role, options) }),
    list: async () => (await tokens.listTokens(db)).map(tokens.listedToken),
    revoke: (id) => tokens.revokeToken(db, id),
    close: () => db.close(),
  };
}
