/**
 * The desktop-entry inventory source: the parser and the `Exec` quoting on
 * real desktop files and on the specification's edge cases, and the scan of
 * application directories (PATH lookup, missing programs, broken files,
 * subdirectory ids, precedence) on temporary directories.
 *
 * @module
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  type DesktopEntry,
  isSharedLauncher,
  parseDesktopEntry,
  readDesktopProducts,
  splitExec,
  unescapeValue,
  withoutEnv,
} from "../agent/linux/inventory/desktop_source.ts";

const dataDir = new URL("./data/desktop", import.meta.url).pathname;
const tempDirs: string[] = [];

afterAll(async () => {
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
});

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function entryOf(text: string): DesktopEntry {
  const entry = parseDesktopEntry(text);
  if ("problem" in entry) throw new Error(`unexpected problem: ${entry.problem}`);
  return entry;
}

function dataEntry(file: string): DesktopEntry {
  return entryOf(Deno.readTextFileSync(`${dataDir}/${file}`));
}

/** `Exec` as written in a file: string escapes first, then the quoting. */
function argvOf(rawExec: string): string[] | { problem: string } {
  return splitExec(unescapeValue(rawExec));
}

function desktopFile(fields: Record<string, string>): string {
  const lines = Object.entries(fields).map(([key, value]) => `${key}=${value}`);
  return `[Desktop Entry]\n${lines.join("\n")}\n`;
}

function app(name: string, exec: string, more: Record<string, string> = {}): string {
  return desktopFile({ Type: "Application", Name: name, Exec: exec, ...more });
}

/** A temporary tree: desktop files at the given paths, and copies of sleep in `bin/`. */
async function fakeSystem(files: Record<string, string | Uint8Array>, programs: string[] = []) {
  const root = await Deno.makeTempDir({ prefix: "meter-desktop-test-" });
  tempDirs.push(root);
  for (const [relative, content] of Object.entries(files)) {
    const path = `${root}/${relative}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }
  await Deno.mkdir(`${root}/bin`, { recursive: true });
  for (const program of programs) {
    await Deno.copyFile("/bin/sleep", `${root}/bin/${program}`);
    await Deno.chmod(`${root}/bin/${program}`, 0o755);
  }
  return root;
}

describe("parseDesktopEntry on real desktop files", () => {
  it("reads vim's entry: unlocalised Name, TryExec, Exec with a field code", () => {
    const vim = dataEntry("vim.desktop");
    expect(vim).toEqual({
      type: "Application",
      name: "Vim",
      exec: "vim %F",
      tryExec: "vim",
      hidden: false,
      noDisplay: false,
      dbusActivatable: false,
    });
    expect(splitExec(vim.exec!)).toEqual(["vim"]);
  });

  it("reads python's NoDisplay entry with an absolute Exec", () => {
    const python = dataEntry("python3.11.desktop");
    expect(python.name).toBe("Python (v3.11)");
    expect(python.exec).toBe("/usr/bin/python3.11");
    expect(python.noDisplay).toBe(true);
  });

  it("takes Firefox's main Exec, not its actions', and ignores Version", () => {
    const firefox = dataEntry("firefox.desktop");
    expect(firefox.name).toBe("Firefox Web Browser");
    expect(firefox.exec).toBe("firefox %u");
    expect(firefox.tryExec).toBeUndefined();
  });

  it("takes VS Code's main entry, not its New Empty Window action", () => {
    const code = dataEntry("code.desktop");
    expect(code.name).toBe("Visual Studio Code");
    expect(splitExec(code.exec!)).toEqual(["/usr/share/code/code"]);
  });

  const live = "/usr/share/applications";
  const liveFiles = (() => {
    try {
      return [...Deno.readDirSync(live)].filter((e) => e.name.endsWith(".desktop"));
    } catch {
      return [];
    }
  })();
  it.skipIf(liveFiles.length === 0)("parses every entry installed on this machine", () => {
    for (const file of liveFiles) {
      const entry = parseDesktopEntry(Deno.readTextFileSync(`${live}/${file.name}`));
      expect(entry, file.name).not.toHaveProperty("problem");
    }
  });
});

describe("parseDesktopEntry on odd and broken files", () => {
  it("allows spaces around =, comments, CRLF lines and an action group first", () => {
    const text = "# a comment\r\n[Desktop Action new]\r\nExec=other\r\n\r\n[Desktop Entry]\r\n" +
      "Type = Application\r\nName = Spaced Out\r\nName[de]=Weltraum\r\nExec = spaced %U\r\n";
    const entry = entryOf(text);
    expect(entry.name).toBe("Spaced Out");
    expect(entry.exec).toBe("spaced %U");
  });

  it("undoes string escapes in Name", () => {
    expect(entryOf(app("Tab\\tand\\sspace\\\\", "x")).name).toBe("Tab\tand space\\");
  });

  it("reads a Hidden stub without requiring the other keys", () => {
    const entry = entryOf("[Desktop Entry]\nHidden=true\n");
    expect(entry.hidden).toBe(true);
  });

  it("accepts a D-Bus activated application without Exec", () => {
    const text = desktopFile({ Type: "Application", Name: "Bus", DBusActivatable: "true" });
    expect(entryOf(text).exec).toBeUndefined();
  });

  it("names what is wrong with a broken file", () => {
    const problem = (text: string) => (parseDesktopEntry(text) as { problem: string }).problem;
    expect(problem("")).toBe("no [Desktop Entry] group");
    expect(problem("[Desktop Action x]\nExec=x\n")).toBe("no [Desktop Entry] group");
    expect(problem("\x7fELF\x02\x01\x01\0\0\0")).toMatch(/binary/);
    expect(problem(desktopFile({ Type: "Application", Name: "No exec" }))).toBe("no Exec key");
    expect(problem(desktopFile({ Type: "Application", Exec: "x" }))).toBe("no Name key");
    expect(problem(desktopFile({ Name: "x", Exec: "x" }))).toBe("no Type key");
    expect(problem("[Desktop Entry]\nType=Application\ngarbage\n")).toBe(
      "line 3 is not a group, a key=value or a comment",
    );
  });
});

describe("splitExec", () => {
  it("drops field codes standing alone and inside an argument, and keeps %%", () => {
    expect(argvOf("prog %f %F %u %U %i %c %k %d %D %n %N %v %m")).toEqual(["prog"]);
    expect(argvOf("prog --file=%f 100%% x")).toEqual(["prog", "--file=", "100%", "x"]);
  });

  it("joins a quoted argument with spaces, as the specification's quoting says", () => {
    expect(argvOf('"/opt/My App/bin/my app" --flag %U')).toEqual([
      "/opt/My App/bin/my app",
      "--flag",
    ]);
    expect(argvOf('pre"fix with"post x')).toEqual(["prefix withpost", "x"]);
    expect(argvOf('prog "" end')).toEqual(["prog", "", "end"]);
  });

  it('unescapes \\", \\`, \\$ and \\\\ inside quotes, keeping other backslashes', () => {
    expect(argvOf('prog "say \\"hi\\""')).toEqual(["prog", 'say "hi"']);
    expect(argvOf('prog "\\`date\\`"')).toEqual(["prog", "`date`"]);
    expect(argvOf('prog "\\a"')).toEqual(["prog", "\\a"]);
  });

  it("needs \\\\\\\\ for a literal backslash and \\\\$ for a dollar (spec examples)", () => {
    // As the file holds them: the string escape `\\` is undone first, then the quoting.
    expect(argvOf('prog "C:\\\\\\\\Temp"')).toEqual(["prog", "C:\\Temp"]);
    expect(argvOf('prog "\\\\$HOME"')).toEqual(["prog", "$HOME"]);
  });

  it("splits on any run of blanks, including an escaped \\s", () => {
    expect(argvOf("  prog   a\tb\\sc  ")).toEqual(["prog", "a", "b", "c"]);
  });

  it("accepts GLib's single quotes and backslashes outside quotes", () => {
    expect(argvOf("sh -c 'echo \"$1\"' x")).toEqual(["sh", "-c", 'echo "$1"', "x"]);
    expect(splitExec("my\\ prog")).toEqual(["my prog"]);
  });

  it("reports an unterminated quote or a trailing backslash", () => {
    expect(argvOf('"/opt/app %U')).toEqual({ problem: 'Exec has an unterminated " quote' });
    expect(argvOf("sh -c 'x")).toEqual({ problem: "Exec has an unterminated ' quote" });
    expect(splitExec("prog\\")).toEqual({ problem: "Exec ends in a backslash" });
  });
});

describe("withoutEnv and isSharedLauncher", () => {
  it("skips env, its options and its assignments", () => {
    expect(withoutEnv(["env", "A=1", "B=x=y", "prog", "C=3"])).toEqual(["prog", "C=3"]);
    expect(withoutEnv(["/usr/bin/env", "-u", "X", "-i", "prog"])).toEqual(["prog"]);
    expect(withoutEnv(["env", "A=1"])).toEqual([]);
    expect(withoutEnv(["prog", "A=1"])).toEqual(["prog", "A=1"]);
  });

  it("knows the launchers flatpak and snap entries share", () => {
    expect(isSharedLauncher(["/usr/bin/flatpak", "run", "org.gimp.GIMP"])).toBe(true);
    expect(isSharedLauncher(["/snap/bin/firefox"])).toBe(true);
    expect(isSharedLauncher(["sh", "-c", "exec foo"])).toBe(true);
    expect(isSharedLauncher(["/usr/bin/gimp"])).toBe(false);
  });
});

describe("readDesktopProducts", () => {
  it("resolves a relative Exec through PATH to a desktop product", async () => {
    const root = await fakeSystem({ "apps/sleeper.desktop": app("Sleeper", "sleeper %U") }, [
      "sleeper",
    ]);
    const mtime = new Date("2024-05-06T07:08:09.000Z");
    await Deno.utime(`${root}/apps/sleeper.desktop`, mtime, mtime);
    const result = await readDesktopProducts({ dirs: [`${root}/apps`], path: [`${root}/bin`] });
    expect(result).toEqual({
      products: [{
        key: "desktop/sleeper.desktop",
        name: "Sleeper",
        version: "",
        publisher: "",
        source: "desktop",
        installedAt: mtime.getTime(),
        executables: [`${root}/bin/sleeper`],
      }],
      problems: [],
    });
  });

  it("takes the first PATH dir holding a regular executable file", async () => {
    const root = await fakeSystem({
      "apps/a.desktop": app("A", "prog"),
      "first/prog": "not executable",
      "second/prog/README": "a directory, not a program",
    }, ["prog"]);
    const path = [`${root}/first`, `${root}/second`, `${root}/bin`, `${root}/none`];
    const { products } = await readDesktopProducts({ dirs: [`${root}/apps`], path });
    expect(products.map((p) => p.executables)).toEqual([[`${root}/bin/prog`]]);
  });

  it("skips entries whose program is not installed, without a problem", async () => {
    const root = await fakeSystem({
      "apps/gone.desktop": app("Gone", "no-such-program-here %f"),
      "apps/gone-abs.desktop": app("Gone too", "/opt/nowhere/bin/app"),
      "apps/tryexec.desktop": app("Try", "sleeper", { TryExec: "not-installed" }),
      "apps/ok.desktop": app("Ok", "sleeper"),
    }, ["sleeper"]);
    const result = await readDesktopProducts({ dirs: [`${root}/apps`], path: [`${root}/bin`] });
    expect(result.problems).toEqual([]);
    expect(result.products.map((p) => p.key)).toEqual(["desktop/ok.desktop"]);
  });

  it("skips Hidden, Link and Directory entries but keeps NoDisplay ones", async () => {
    const root = await fakeSystem({
      "apps/hidden.desktop": app("Hidden", "sleeper", { Hidden: "true" }),
      "apps/link.desktop": desktopFile({ Type: "Link", Name: "Site", URL: "https://x" }),
      "apps/dir.desktop": desktopFile({ Type: "Directory", Name: "Games" }),
      "apps/helper.desktop": app("Helper", "sleeper", { NoDisplay: "true" }),
    }, ["sleeper"]);
    const result = await readDesktopProducts({ dirs: [`${root}/apps`], path: [`${root}/bin`] });
    expect(result.problems).toEqual([]);
    expect(result.products.map((p) => p.name)).toEqual(["Helper"]);
  });

  it("looks past env, records TryExec, and lists no shared launcher", async () => {
    const root = await fakeSystem({
      "apps/env.desktop": app("Env", "env GDK_BACKEND=x11 sleeper --x %u"),
      "apps/try.desktop": app("Try", "starter", { TryExec: "real" }),
      "apps/org.gimp.GIMP.desktop": app(
        "GNU Image Manipulation Program",
        "flatpak run --branch=stable --command=gimp-2.10 --file-forwarding org.gimp.GIMP @@u %U @@",
      ),
      "apps/snap.desktop": app("Snapped", "env BAMF_DESKTOP_FILE_HINT=/x.desktop snap run app"),
    }, ["sleeper", "starter", "real", "flatpak", "snap"]);
    const bin = `${root}/bin`;
    const { products, problems } = await readDesktopProducts({
      dirs: [`${root}/apps`],
      path: [bin],
    });
    expect(problems).toEqual([]);
    expect(Object.fromEntries(products.map((p) => [p.key, p.executables]))).toEqual({
      "desktop/env.desktop": [`${bin}/sleeper`],
      "desktop/org.gimp.GIMP.desktop": [],
      "desktop/snap.desktop": [],
      "desktop/try.desktop": [`${bin}/starter`, `${bin}/real`],
    });
  });

  it("names subdirectory entries by their desktop file id", async () => {
    const root = await fakeSystem({
      "apps/kde/org.kde.konsole.desktop": app("Konsole", "sleeper"),
      "apps/a/b/deep.desktop": app("Deep", "sleeper"),
      "apps/kde/notes.txt": "not an entry",
    }, ["sleeper"]);
    const { products } = await readDesktopProducts({
      dirs: [`${root}/apps`],
      path: [`${root}/bin`],
    });
    expect(products.map((p) => p.key).sort()).toEqual([
      "desktop/a-b-deep.desktop",
      "desktop/kde-org.kde.konsole.desktop",
    ]);
  });

  it("lets the first directory win for an id, even when it deletes the entry", async () => {
    const root = await fakeSystem({
      "local/same.desktop": app("Local build", "sleeper"),
      "system/same.desktop": app("Packaged", "sleeper"),
      "local/deleted.desktop": "[Desktop Entry]\nHidden=true\n",
      "system/deleted.desktop": app("Deleted by the admin", "sleeper"),
      "system/kde/x.desktop": app("Sub id", "sleeper"),
      "local/kde-x.desktop": app("Flat id", "sleeper"),
    }, ["sleeper"]);
    const { products } = await readDesktopProducts({
      dirs: [`${root}/local`, `${root}/missing`, `${root}/system`],
      path: [`${root}/bin`],
    });
    expect(Object.fromEntries(products.map((p) => [p.key, p.name]))).toEqual({
      "desktop/same.desktop": "Local build",
      "desktop/kde-x.desktop": "Flat id",
    });
  });

  it("reports each broken file by name while the others still count", async () => {
    const root = await fakeSystem({
      "apps/binary.desktop": new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0xff, 0xfe, 0]),
      "apps/latin1.desktop": new Uint8Array([
        ...new TextEncoder().encode("[Desktop Entry]\n"),
        0xe9,
      ]),
      "apps/nogroup.desktop": "Type=Application\nName=x\nExec=sleeper\n",
      "apps/noexec.desktop": desktopFile({ Type: "Application", Name: "No exec" }),
      "apps/quote.desktop": app("Quote", '"sleeper %U'),
      "apps/onlyenv.desktop": app("Env", "env A=1 %U"),
      "apps/good.desktop": app("Good", "sleeper"),
    }, ["sleeper"]);
    const apps = `${root}/apps`;
    const result = await readDesktopProducts({ dirs: [apps], path: [`${root}/bin`] });
    expect(result.products.map((p) => p.name)).toEqual(["Good"]);
    expect(result.problems.sort()).toEqual([
      `${apps}/binary.desktop: not UTF-8 text, not a desktop entry`,
      `${apps}/latin1.desktop: not UTF-8 text, not a desktop entry`,
      `${apps}/noexec.desktop: no Exec key`,
      `${apps}/nogroup.desktop: no [Desktop Entry] group`,
      `${apps}/onlyenv.desktop: Exec names no program`,
      `${apps}/quote.desktop: Exec has an unterminated " quote`,
    ]);
  });

  it.skipIf(Deno.uid() === 0)("reports a file it may not read", async () => {
    const root = await fakeSystem({ "apps/secret.desktop": app("Secret", "sleeper") }, ["sleeper"]);
    await Deno.chmod(`${root}/apps/secret.desktop`, 0);
    const result = await readDesktopProducts({ dirs: [`${root}/apps`], path: [`${root}/bin`] });
    expect(result.products).toEqual([]);
    expect(result.problems[0]).toMatch(/secret\.desktop: cannot read/);
  });

  it("finds the real entries' programs where they are installed", async () => {
    const root = await fakeSystem({}, ["firefox"]);
    const path = [`${root}/bin`, "/usr/bin"];
    const { products, problems } = await readDesktopProducts({ dirs: [dataDir], path });
    expect(problems).toEqual([]);
    const expected = [
      ...(exists("/usr/share/code/code") ? ["desktop/code.desktop"] : []),
      "desktop/firefox.desktop",
      ...(exists("/usr/bin/python3.11") ? ["desktop/python3.11.desktop"] : []),
      ...(exists("/usr/bin/vim") ? ["desktop/vim.desktop"] : []),
    ];
    expect(products.map((p) => p.key)).toEqual(expected);
    const firefox = products.find((p) => p.key === "desktop/firefox.desktop");
    expect(firefox).toMatchObject({ name: "Firefox Web Browser", version: "" });
    expect(firefox?.executables).toEqual([`${root}/bin/firefox`]);
  });

  it("scans hundreds of entries in nested folders", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) {
      files[`apps/sub${i % 4}/app${i}.desktop`] = app(`App ${i}`, i % 2 ? "sleeper %U" : "gone");
    }
    const root = await fakeSystem(files, ["sleeper"]);
    const { products } = await readDesktopProducts({
      dirs: [`${root}/apps`],
      path: ["/usr/local/bin", "/usr/bin", `${root}/bin`],
    });
    // Every entry whose program is installed, from each of the four folders.
    expect(products).toHaveLength(200);
    const expected = Array.from({ length: 200 }, (_, n) => 2 * n + 1)
      .map((i) => `desktop/sub${i % 4}-app${i}.desktop`);
    expect(products.map((p) => p.key).sort()).toEqual(expected.sort());
  });

  it.skipIf(Deno.build.os !== "linux")(
    "scans this machine's directories without failing",
    async () => {
      const { products } = await readDesktopProducts();
      for (const product of products) {
        expect(product.key).toMatch(/^desktop\/.+\.desktop$/);
        for (const path of product.executables) expect(path.startsWith("/")).toBe(true);
      }
    },
  );
});
