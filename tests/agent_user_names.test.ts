import { afterAll, describe, expect, it } from "vitest";
import { parsePasswd, UserNames } from "../agent/linux/user_names.ts";

const tempDirs: string[] = [];

afterAll(async () => {
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
});

async function tempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "meter-users-test-" });
  tempDirs.push(dir);
  return dir;
}

/** A stand-in for getent that knows uid 4242 and counts how often it runs. */
async function fakeGetent(dir: string): Promise<{ path: string; runs: () => number }> {
  const path = `${dir}/getent`;
  const counter = `${dir}/runs`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
echo "$2" >> '${counter}'
[ "$2" = 4242 ] && { echo "ldapuser:*:4242:100:LDAP User:/home/ldapuser:/bin/sh"; exit 0; }
exit 2
`,
  );
  await Deno.chmod(path, 0o755);
  const runs = () => {
    try {
      return Deno.readTextFileSync(counter).trim().split("\n").length;
    } catch {
      return 0;
    }
  };
  return { path, runs };
}

describe("parsePasswd", () => {
  it("maps uids to the first name given them, skipping what is not an entry", () => {
    const names = parsePasswd(
      [
        "root:x:0:0:root:/root:/bin/bash",
        "toor:x:0:0:root again:/root:/bin/sh",
        "# a comment:x:5:5",
        "",
        "+::::::",
        "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash",
        "broken:x:notanumber:1",
      ].join("\n"),
    );
    expect([...names]).toEqual([[0, "root"], [1000, "alice"]]);
  });
});

describe("UserNames", () => {
  it("names local users from the passwd file and others uid:<n>", async () => {
    const dir = await tempDir();
    const passwd = `${dir}/passwd`;
    await Deno.writeTextFile(passwd, "alice:x:1000:1000::/home/alice:/bin/sh\n");
    const names = new UserNames({ passwdPath: passwd, getent: null });
    expect(await names.name(1000)).toBe("alice");
    expect(await names.name(1001)).toBe("uid:1001");
  });

  it("reads the passwd file again when its mtime changes", async () => {
    const dir = await tempDir();
    const passwd = `${dir}/passwd`;
    await Deno.writeTextFile(passwd, "alice:x:1000:1000::/home/alice:/bin/sh\n");
    const names = new UserNames({ passwdPath: passwd, getent: null });
    expect(await names.name(1001)).toBe("uid:1001");
    await Deno.writeTextFile(passwd, "alice:x:1000:1000::/:/bin/sh\nbob:x:1001:1001::/:/bin/sh\n");
    const later = new Date(Date.now() + 10_000);
    await Deno.utime(passwd, later, later);
    expect(await names.name(1001)).toBe("bob");
  });

  it("asks getent once per uid for users not in the file, remembering misses too", async () => {
    const dir = await tempDir();
    const passwd = `${dir}/passwd`;
    await Deno.writeTextFile(passwd, "alice:x:1000:1000::/home/alice:/bin/sh\n");
    const getent = await fakeGetent(dir);
    const names = new UserNames({ passwdPath: passwd, getent: getent.path });
    const [first, second] = await Promise.all([names.name(4242), names.name(4242)]);
    expect([first, second]).toEqual(["ldapuser", "ldapuser"]);
    expect(await names.name(4243)).toBe("uid:4243");
    expect(await names.name(4243)).toBe("uid:4243");
    expect(await names.name(4242)).toBe("ldapuser");
    expect(await names.name(1000)).toBe("alice");
    expect(getent.runs()).toBe(2);
  });

  it("uses the real getent for users the file does not list", async () => {
    const dir = await tempDir();
    const passwd = `${dir}/passwd`;
    await Deno.writeTextFile(passwd, "");
    const names = new UserNames({ passwdPath: passwd });
    expect(await names.name(0)).toBe("root");
  });

  it("tolerates getent missing, failing or printing nonsense", async () => {
    const dir = await tempDir();
    const failing = `${dir}/failing`;
    await Deno.writeTextFile(failing, "#!/bin/sh\necho 'not a passwd line'\nexit 0\n");
    await Deno.chmod(failing, 0o755);
    for (const getent of [`${dir}/missing`, failing, "/bin/false"]) {
      const names = new UserNames({ passwdPath: `${dir}/no-passwd`, getent });
      expect(await names.name(4242)).toBe("uid:4242");
    }
  });

  it("names root on this machine", async () => {
    expect(await new UserNames().name(0)).toBe("root");
  });
});
