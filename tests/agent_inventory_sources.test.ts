import { afterAll, describe, expect, it } from "vitest";
import type { FoundProduct } from "../agent/core/inventory/found_product.ts";
import {
  FLATPAK_COLUMNS,
  parseFlatpakList,
  readFlatpakProducts,
} from "../agent/linux/inventory/flatpak_source.ts";
import { parseRpmQuery, readRpmProducts } from "../agent/linux/inventory/rpm_source.ts";
import { parseSnapList, readSnapProducts } from "../agent/linux/inventory/snap_source.ts";
import { waitFor } from "./helpers/wait_for.ts";

// Where each file comes from, and what in it is real: tests/data/inventory/README.md.
const RPM_QA = data("rpm/qa-queryformat-assembled.txt");
const SNAP_SYSPKG = data("snap/syspkg-list.txt");
const SNAP_ANSIBLE = data("snap/ansible-community-general-7130.txt");
const SNAP_LXD = data("snap/lxd-pr-12857.txt");
const SNAP_2018 = data("snap/yaru-issue-354.txt");
const FLATPAK_SYSPKG = data("flatpak/syspkg-list.txt");
/** The columns plain `flatpak list` printed for that capture. */
const SYSPKG_COLUMNS = ["name", "application", "version", "branch", "installation"];

const tempDirs: string[] = [];

afterAll(async () => {
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
});

function data(path: string): string {
  return Deno.readTextFileSync(new URL(`./data/inventory/${path}`, import.meta.url));
}

async function tempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "meter-inventory-test-" });
  tempDirs.push(dir);
  return dir;
}

/** A stand-in for rpm, snap or flatpak: records its arguments, prints `stdout`, exits `code`. */
async function fakeCommand(
  stdout: string,
  { code = 0, stderr = "", sleep = 0 } = {},
): Promise<{ path: string; argsFile: string }> {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/stdout`, stdout);
  const argsFile = `${dir}/args`;
  const path = `${dir}/tool`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\n${sleep ? `exec sleep ${sleep}\n` : ""}` +
      `cat '${dir}/stdout'\nprintf '%s' '${stderr}' >&2\nexit ${code}\n`,
  );
  await Deno.chmod(path, 0o755);
  return { path, argsFile };
}

async function argsOf(argsFile: string): Promise<string[]> {
  return (await Deno.readTextFile(argsFile)).split("\n").slice(0, -1);
}

function byKey(products: FoundProduct[]): Map<string, FoundProduct> {
  return new Map(products.map((product) => [product.key, product]));
}

/** The 1-based number of the line holding `text[offset]`. */
function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** Is a `sleep seconds` running (the fake rpm, which execs it)? */
function runningSleep(seconds: number): boolean {
  const wanted = `sleep\0${seconds}\0`;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).endsWith(wanted)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

const missingCommand = `/nonexistent/meter-${crypto.randomUUID()}`;

describe("parseRpmQuery", () => {
  it("reads each package's version, vendor, install time and PATH programs", () => {
    const { products, problems } = parseRpmQuery(RPM_QA);
    expect(problems).toEqual([]);
    expect(products).toEqual([
      {
        key: "rpm/python3.x86_64",
        name: "python3",
        version: "3.10.8-3.fc35",
        publisher: "Fedora Project",
        source: "rpm",
        installedAt: 1670741326000,
        // pydoc, pydoc3 and python3 are symbolic links to these two.
        executables: ["/usr/bin/pydoc3.10", "/usr/bin/python3.10"],
      },
      {
        key: "rpm/basesystem.noarch",
        name: "basesystem",
        version: "10.0-7.el7.centos",
        publisher: "CentOS",
        source: "rpm",
        installedAt: 1565891592000,
        executables: [],
      },
      {
        key: "rpm/nodejs.x86_64",
        name: "nodejs",
        version: "1:16.18.1-1.module_f38+15765+c19fa502",
        publisher: "Fedora Project",
        source: "rpm",
        installedAt: 1693597346000,
        // Not /usr/lib/rpm/nodejs_native.req: executable, but no PATH directory holds it.
        executables: ["/usr/bin/node"],
      },
      {
        key: "rpm/curl.x86_64",
        name: "curl",
        version: "7.76.0-6.cm2",
        publisher: "Microsoft Corporation",
        source: "rpm",
        installedAt: 1643279454000,
        executables: ["/usr/bin/curl", "/usr/bin/curl-config"],
      },
    ]);
  });

  it("drops the package whose file list was cut mid-line, and says where", () => {
    const cut = RPM_QA.indexOf("/usr/lib/rpm/nodejs_native.req") + 10;
    const { products, problems } = parseRpmQuery(RPM_QA.slice(0, cut));
    expect(products.map((product) => product.name)).toEqual(["python3", "basesystem"]);
    expect(problems).toEqual([
      `rpm: line ${lineAt(RPM_QA, cut)}: output ends mid-line (truncated); package nodejs ` +
      `(line ${lineAt(RPM_QA, RPM_QA.indexOf("@\tnodejs"))}) dropped, its file list is incomplete`,
    ]);
  });

  it("keeps the package before a header cut mid-line", () => {
    const cut = RPM_QA.indexOf("@\tcurl") + 8;
    const { products, problems } = parseRpmQuery(RPM_QA.slice(0, cut));
    expect(products.map((product) => product.name)).toEqual(["python3", "basesystem", "nodejs"]);
    expect(byKey(products).get("rpm/nodejs.x86_64")?.executables).toEqual(["/usr/bin/node"]);
    expect(problems).toEqual([
      `rpm: line ${lineAt(RPM_QA, cut)}: output ends mid-line (truncated)`,
    ]);
  });

  it("names a garbage line and a short header, and still returns the other packages", () => {
    const lines = RPM_QA.split("\n");
    lines.splice(1, 0, "error: rpmdbNextIterator: skipping h#     321 Header V4 RSA/SHA256");
    const curl = lines.findIndex((line) => line.startsWith("@\tcurl"));
    lines[curl] = "@\tcurl\t(none)";
    const { products, problems } = parseRpmQuery(lines.join("\n"));
    expect(products.map((product) => product.name)).toEqual(["python3", "basesystem", "nodejs"]);
    expect(byKey(products).get("rpm/python3.x86_64")?.executables).toHaveLength(2);
    expect(problems).toEqual([
      "rpm: line 2: neither a package nor a file line",
      `rpm: line ${curl + 1}: package header has 3 of 7 fields`,
    ]);
  });

  it("leaves out the gpg-pubkey entries rpm keeps for imported signing keys", () => {
    // The header rpm prints for one: no architecture, no vendor, no files.
    const key = "@\tgpg-pubkey\t(none)\tf4a80eb5-53a7ff4b\t(none)\t1565891592\t(none)\n";
    const { products, problems } = parseRpmQuery(key + RPM_QA);
    expect(problems).toEqual([]);
    expect(products.map((product) => product.name)).toEqual([
      "python3",
      "basesystem",
      "nodejs",
      "curl",
    ]);
  });

  it("keeps the last installed of the versions of an install-only package", () => {
    // Two versions of the nodejs header, standing in for two installed kernels.
    const header = RPM_QA.split("\n").find((line) => line.startsWith("@\tnodejs"))!;
    const older = header.replace("1693597346", "1693500000").replace("16.18.1", "16.17.0");
    const { products } = parseRpmQuery(`${header}\n-rwxr-xr-x\t/usr/bin/node\n${older}\n`);
    expect(products).toHaveLength(1);
    expect(products[0].version).toBe("1:16.18.1-1.module_f38+15765+c19fa502");
  });

  it("returns nothing for no output", () => {
    expect(parseRpmQuery("")).toEqual({ products: [], problems: [] });
  });
});

describe("readRpmProducts", () => {
  it("returns nothing, and no problem, when rpm is not installed", async () => {
    expect(await readRpmProducts({ command: missingCommand })).toEqual({
      products: [],
      problems: [],
    });
  });

  it("runs rpm -qa with the query format and parses what it prints", async () => {
    const rpm = await fakeCommand(RPM_QA);
    const result = await readRpmProducts({ command: rpm.path });
    expect(result).toEqual({ ...parseRpmQuery(RPM_QA), failed: false });
    const args = await argsOf(rpm.argsFile);
    expect(args.slice(0, 2)).toEqual(["-qa", "--queryformat"]);
    expect(args[2]).toContain("%{FILEMODES:perms}");
  });

  it("turns a failing rpm into a problem and keeps what it printed", async () => {
    const rpm = await fakeCommand(RPM_QA.slice(0, RPM_QA.indexOf("@\tnodejs")), {
      code: 1,
      stderr: "error: cannot open Packages database in /var/lib/rpm",
    });
    const result = await readRpmProducts({ command: rpm.path });
    expect(result.products.map((product) => product.name)).toEqual(["python3", "basesystem"]);
    expect(result.problems).toEqual([
      `rpm: ${rpm.path} -qa exited with code 1: error: cannot open Packages database in /var/lib/rpm`,
    ]);
    // Marked failed: the inventory keeps the rpm products it did not list this time.
    expect(result.failed).toBe(true);
  });

  it("stops an rpm that runs past its time", async () => {
    // Far longer than the test may take: an rpm waited for fails the test by its time limit.
    const seconds = 600 + Math.floor(Math.random() * 1000) + 0.5;
    const rpm = await fakeCommand(RPM_QA, { sleep: seconds });
    const result = await readRpmProducts({ command: rpm.path, timeoutMs: 300 });
    expect(result.problems).toEqual([`rpm: ${rpm.path} -qa was stopped after 0.3 s`]);
    expect(result.failed).toBe(true);
    // And it was stopped, not left running.
    await waitFor("the stopped rpm to be gone", () => !runningSleep(seconds));
  });
});

describe("parseSnapList", () => {
  it("keeps the application snaps of a desktop, without base, core and snapd", () => {
    const { products, problems } = parseSnapList(SNAP_SYSPKG);
    expect(problems).toEqual([]);
    const names = products.map((product) => product.name);
    expect(names).toHaveLength(38 - 7);
    for (const left of ["bare", "core", "core18", "core20", "core22", "core24", "snapd"]) {
      expect(names).not.toContain(left);
    }
    const snaps = byKey(products);
    expect(snaps.get("snap/firefox")).toEqual({
      key: "snap/firefox",
      name: "firefox",
      version: "139.0-2",
      publisher: "mozilla",
      source: "snap",
      installedAt: null,
      executables: [],
    });
    expect(snaps.get("snap/deja-dup")?.publisher).toBe("mterry");
    expect(snaps.get("snap/gnome-46-2404")?.version).toBe("0+git.d9f8bf6-sdk0+git.c8a281c");
  });

  it("reads the output of snap run the way the agent runs it", () => {
    const { products, problems } = parseSnapList(SNAP_ANSIBLE);
    expect(problems).toEqual([]);
    expect(products.map(({ key, version, publisher }) => ({ key, version, publisher }))).toEqual([
      { key: "snap/lxd", version: "5.0.2-838e1b2", publisher: "canonical" },
    ]);
  });

  it("skips a disabled revision and strips the Unicode verified mark", () => {
    const { products, problems } = parseSnapList(SNAP_LXD);
    expect(problems).toEqual([]);
    expect(products.map(({ key, version, publisher }) => ({ key, version, publisher }))).toEqual([
      { key: "snap/lxd", version: "git-def587b", publisher: "canonical" },
    ]);
  });

  it("reads the Developer column of 2018's snapd", () => {
    const { products, problems } = parseSnapList(SNAP_2018);
    expect(problems).toEqual([]);
    expect(products).toHaveLength(14 - 1);
    expect(byKey(products).get("snap/android-studio")?.publisher).toBe("snapcrafters");
    expect(byKey(products).has("snap/core")).toBe(false);
  });

  it("gives each snap its launchers in /snap/bin", () => {
    const binEntries = ["lxd", "lxd.benchmark", "lxd.lxc", "lxc", "lxdx", "core20"];
    const { products } = parseSnapList(SNAP_LXD, { binDir: "/snap/bin", binEntries });
    expect(products[0].executables).toEqual([
      "/snap/bin/lxd",
      "/snap/bin/lxd.benchmark",
      "/snap/bin/lxd.lxc",
    ]);
  });

  it("names garbage lines, and still returns every snap", () => {
    const lines = SNAP_SYSPKG.split("\n");
    lines.splice(5, 0, "error: cannot communicate with server: timeout exceeded");
    lines.splice(9, 0, "WARNING: There is 1 new warning.");
    const { products, problems } = parseSnapList(lines.join("\n"));
    expect(products).toHaveLength(31);
    expect(problems).toEqual([
      "snap: line 6: expected 6 columns, found 7",
      "snap: line 10: not a snap row",
    ]);
  });
});

describe("readSnapProducts", () => {
  it("returns nothing, and no problem, when snap is not installed", async () => {
    expect(await readSnapProducts({ command: missingCommand })).toEqual({
      products: [],
      problems: [],
    });
  });

  it("adds the launchers and dates each snap by its current link", async () => {
    const snapDir = await tempDir();
    await Deno.mkdir(`${snapDir}/bin`);
    for (const name of ["lxd", "lxd.lxc", "lxc"]) {
      await Deno.symlink("/usr/bin/snap", `${snapDir}/bin/${name}`);
    }
    await Deno.mkdir(`${snapDir}/lxd/27004`, { recursive: true });
    await Deno.symlink("27004", `${snapDir}/lxd/current`);
    const linkedAt = (await Deno.lstat(`${snapDir}/lxd/current`)).mtime!.getTime();
    const snap = await fakeCommand(SNAP_LXD);
    const { products, problems } = await readSnapProducts({ command: snap.path, snapDir });
    expect(problems).toEqual([]);
    expect(products).toEqual([{
      key: "snap/lxd",
      name: "lxd",
      version: "git-def587b",
      publisher: "canonical",
      source: "snap",
      installedAt: linkedAt,
      executables: [`${snapDir}/bin/lxd`, `${snapDir}/bin/lxd.lxc`],
    }]);
    expect(await argsOf(snap.argsFile)).toEqual(["list", "--unicode=never", "--color=never"]);
  });

  it("turns snapd being down into a problem", async () => {
    const snap = await fakeCommand("", {
      code: 1,
      stderr: "error: cannot communicate with server: connection refused",
    });
    const snapDir = await tempDir();
    expect(await readSnapProducts({ command: snap.path, snapDir })).toEqual({
      products: [],
      problems: [
        `snap: ${snap.path} list exited with code 1: ` +
        "error: cannot communicate with server: connection refused",
      ],
      failed: true,
    });
  });
});

describe("parseFlatpakList", () => {
  it("reads a real tab-separated capture for the columns it was printed with", () => {
    const { products, problems } = parseFlatpakList(FLATPAK_SYSPKG, { columns: SYSPKG_COLUMNS });
    expect(problems).toEqual([]);
    expect(products).toHaveLength(70);
    const flatpaks = byKey(products);
    expect(flatpaks.get("flatpak/system/com.github.johnfactotum.Foliate/stable")).toEqual({
      key: "flatpak/system/com.github.johnfactotum.Foliate/stable",
      // That flatpak printed the developer's name in the name column.
      name: "John Factotum",
      version: "3.3.0",
      publisher: "",
      source: "flatpak",
      installedAt: null,
      executables: ["/var/lib/flatpak/exports/bin/com.github.johnfactotum.Foliate"],
    });
    const vaapi = flatpaks.get("flatpak/system/org.freedesktop.Platform.VAAPI.Intel/23.08");
    expect(vaapi?.version).toBe("");
    expect(flatpaks.get("flatpak/system/com.mattjakeman.ExtensionManager/stable")?.name)
      .toBe("擴充功能管理員");
  });

  it("keeps only the launchers that exist, under the roots it is given", () => {
    const exists = new Set(["/roots/system/exports/bin/com.slack.Slack"]);
    const { products } = parseFlatpakList(FLATPAK_SYSPKG, {
      columns: SYSPKG_COLUMNS,
      systemDir: "/roots/system",
      launcherExists: (path) => exists.has(path),
    });
    const withLaunchers = products.filter((product) => product.executables.length > 0);
    expect(withLaunchers.map((product) => product.executables)).toEqual([[...exists]]);
  });

  it("reads the agent's columns: origin as publisher, user launchers under the user root", () => {
    // Two rows of the capture rearranged into the agent's column order, with an origin added.
    const text = "com.slack.Slack\tSlack Technologies Inc.\t4.43.52\tstable\tflathub\tuser\n" +
      "org.torproject.torbrowser-launcher\tTor Project\t0.3.7\tstable\tflathub\tsystem (extra)\n";
    const { products, problems } = parseFlatpakList(text, { userDir: "/home/ada/.flatpak" });
    expect(problems).toEqual([]);
    expect(products.map(({ key, publisher, executables }) => ({ key, publisher, executables })))
      .toEqual([
        {
          key: "flatpak/user/com.slack.Slack/stable",
          publisher: "flathub",
          executables: ["/home/ada/.flatpak/exports/bin/com.slack.Slack"],
        },
        {
          // An extra installation's directory is not known here: no launcher.
          key: "flatpak/system (extra)/org.torproject.torbrowser-launcher/stable",
          publisher: "flathub",
          executables: [],
        },
      ]);
  });

  it("names a line with too few columns, and still returns the others", () => {
    const lines = FLATPAK_SYSPKG.split("\n");
    lines[2] = lines[2].replace(/\tsystem$/, "");
    lines[6] = "";
    const { products, problems } = parseFlatpakList(lines.join("\n"), { columns: SYSPKG_COLUMNS });
    expect(products).toHaveLength(68);
    expect(problems).toEqual(["flatpak: line 3: expected 5 tab-separated columns, found 4"]);
  });

  it("names a row without an application or branch", () => {
    const { products, problems } = parseFlatpakList("\tFirefox\t129.0\t\tflathub\tsystem\n");
    expect(products).toEqual([]);
    expect(problems).toEqual(["flatpak: line 1: no application, branch"]);
  });

  it("refuses columns that cannot make a key", () => {
    expect(parseFlatpakList(FLATPAK_SYSPKG, { columns: ["name", "version"] }).problems).toEqual([
      "flatpak: the columns lack application, branch, installation",
    ]);
  });
});

describe("readFlatpakProducts", () => {
  it("returns nothing, and no problem, when flatpak is not installed", async () => {
    expect(await readFlatpakProducts({ command: missingCommand })).toEqual({
      products: [],
      problems: [],
    });
  });

  it("asks for its columns and keeps the launchers that exist", async () => {
    const systemDir = await tempDir();
    await Deno.mkdir(`${systemDir}/exports/bin`, { recursive: true });
    await Deno.writeTextFile(`${systemDir}/exports/bin/com.slack.Slack`, "#!/bin/sh\n");
    // Two rows of the capture rearranged into the agent's column order, with an origin added.
    const flatpak = await fakeCommand(
      "com.slack.Slack\tSlack Technologies Inc.\t4.43.52\tstable\tflathub\tsystem\n" +
        "com.borgbase.Vorta\tVorta contributors\tv0.10.3\tstable\tflathub\tsystem\n",
    );
    const { products, problems } = await readFlatpakProducts({
      command: flatpak.path,
      systemDir,
      userDir: null,
    });
    expect(problems).toEqual([]);
    expect(products.map(({ key, executables }) => ({ key, executables }))).toEqual([
      {
        key: "flatpak/system/com.slack.Slack/stable",
        executables: [`${systemDir}/exports/bin/com.slack.Slack`],
      },
      { key: "flatpak/system/com.borgbase.Vorta/stable", executables: [] },
    ]);
    expect(await argsOf(flatpak.argsFile)).toEqual([
      "list",
      "--app",
      `--columns=${FLATPAK_COLUMNS.join(",")}`,
    ]);
  });
});
