/**
 * A process that holds a database open must keep its locks on it however
 * often it opens the database again: POSIX drops every lock a process holds
 * on a file when it closes any descriptor of that file, and a site opens its
 * database again in its summariser's worker. Without its locks, another
 * process that closed the database last (`meter token create --db` while
 * the site runs, a benchmark's set-up) could take the write-ahead log for
 * its own, checkpoint it and delete it while the site went on writing into
 * the deleted file: commits that the site itself saw, and no one else ever.
 */
import { afterAll, describe, expect, test } from "vitest";
import { fileURLToPath } from "node:url";
import Database from "libsql";

const DB_MODULE = fileURLToPath(new URL("../store/db.ts", import.meta.url));
const SCHEMA = "CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY)";

/** A process holding the database open, as a site does, and writing a row on each line it reads. */
const HOLDER = `
import { openDatabase } from ${JSON.stringify(DB_MODULE)};
const [file] = Deno.args;
const db = await openDatabase(file, [${JSON.stringify(SCHEMA)}]);
await db.execute("INSERT INTO marks VALUES ('before')");
// The summariser's worker opens the same database in the same process.
const again = await openDatabase(file, []);
await again.execute("SELECT count(*) FROM marks");
console.log("ready");
for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  for (const name of line.split("\\n").filter(Boolean)) {
    await db.execute({ sql: "INSERT INTO marks VALUES (?)", args: [name] });
    console.log("wrote " + name);
  }
}
`;

/** Another process that reads the database and closes it (as SQLite closes: checkpointing). */
const OTHER = `
import Database from "libsql";
const db = new Database(Deno.args[0]);
console.log(db.prepare("SELECT count(*) AS n FROM marks").get().n);
db.close();
`;

describe("a database held open by a process", () => {
  const dir = Deno.makeTempDirSync({ prefix: "meter-wal-" });
  const file = `${dir}/site.db`;
  afterAll(() => Deno.removeSync(dir, { recursive: true }));

  test("keeps its write-ahead log when another process closes the database", async () => {
    const holder = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", HOLDER, file],
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const lines = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const next = async () => (await lines.read()).value?.trim();
    const writer = holder.stdin.getWriter();
    try {
      expect(await next()).toBe("ready");
      // Another process reads the database and closes it: it is the last to close in
      // its own process, so SQLite checkpoints and deletes the log if no one else holds it.
      const other = await new Deno.Command(Deno.execPath(), {
        args: ["eval", OTHER, file],
        cwd: fileURLToPath(new URL("..", import.meta.url)),
      }).output();
      expect(new TextDecoder().decode(other.stdout).trim(), new TextDecoder().decode(other.stderr))
        .toBe("1");
      await writer.write(new TextEncoder().encode("after\n"));
      expect(await next()).toBe("wrote after");
      const deleted = [...Deno.readDirSync(`/proc/${holder.pid}/fd`)]
        .map((fd) => Deno.readLinkSync(`/proc/${holder.pid}/fd/${fd.name}`))
        .filter((target) => target.includes(file) && target.endsWith("(deleted)"));
      expect(deleted).toEqual([]);
      const fresh = new Database(file, { readonly: true });
      const names =
        (fresh.prepare("SELECT name FROM marks ORDER BY name").all() as { name: string }[])
          .map((row) => row.name);
      fresh.close();
      expect(names).toEqual(["after", "before"]);
    } finally {
      await writer.close();
      await holder.status;
    }
  });
});
