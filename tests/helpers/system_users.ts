/**
 * Real system users for tests that meter programs run by different people:
 * created with `useradd` (retrying while another test holds the passwd
 * lock), removed with `userdel`, and their uid and gid for `setpriv`.
 *
 * @module
 */

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

async function run(program: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "null" })
    .output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout).trim() };
}

/** Creates a user with no home and no login shell. */
export async function addUser(name: string): Promise<SystemUser> {
  for (let attempt = 0;; attempt++) {
    const { code } = await run("useradd", [
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      name,
    ]);
    if (code === 0) break;
    if (attempt >= 20) throw new Error(`useradd ${name} failed with ${code}`);
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
  const uid = Number((await run("id", ["-u", name])).stdout);
  const gid = Number((await run("id", ["-g", name])).stdout);
  return { name, uid, gid };
}

export async function removeUser(name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if ((await run("userdel", [name])).code === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
}
