/**
 * Running a service the way its systemd unit says, where systemd is not the
 * init (CI's machine): the `[Service]` section's `ExecStart`, `User`,
 * `Group`, `Environment`, `WorkingDirectory`, `CapabilityBoundingSet` and
 * `NoNewPrivileges`, applied with `setpriv` and `env`. The namespaces
 * systemd would add (`ProtectSystem`, `PrivateTmp`, ...) are not applied.
 *
 * @module
 */

export interface ServiceSection {
  execStart: string[];
  user?: string;
  group?: string;
  environment: Record<string, string>;
  workingDirectory?: string;
  /** Capability names without `CAP_`, lower case; `undefined` keeps root's full set. */
  capabilities?: string[];
  noNewPrivileges: boolean;
}

/** The `[Service]` section of a unit file. */
export function parseService(text: string): ServiceSection {
  const values = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      section = header[1];
      continue;
    }
    if (section !== "Service") continue;
    const [key, ...rest] = line.split("=");
    values.set(key, [...values.get(key) ?? [], rest.join("=")]);
  }
  const one = (key: string) => values.get(key)?.at(-1);
  const execStart = one("ExecStart");
  if (!execStart) throw new Error("the unit has no ExecStart");
  const caps = one("CapabilityBoundingSet");
  return {
    execStart: execStart.split(/\s+/),
    user: one("User"),
    group: one("Group"),
    environment: Object.fromEntries(
      (values.get("Environment") ?? []).map((pair) => pair.split("=", 2) as [string, string]),
    ),
    workingDirectory: one("WorkingDirectory"),
    capabilities: caps === undefined
      ? undefined
      : caps.split(/\s+/).filter(Boolean).map((cap) => cap.replace(/^CAP_/, "").toLowerCase()),
    noNewPrivileges: one("NoNewPrivileges") === "yes",
  };
}

/** The command line that runs the unit's `ExecStart` with its user, capabilities and environment. */
export function serviceCommand(service: ServiceSection, extraEnv: Record<string, string> = {}) {
  const setpriv = ["setpriv"];
  if (service.user) setpriv.push(`--reuid=${service.user}`, "--init-groups");
  if (service.group) setpriv.push(`--regid=${service.group}`);
  if (service.capabilities) {
    const kept = service.capabilities.map((cap) => `,+${cap}`).join("");
    setpriv.push(`--bounding-set=-all${kept}`, `--inh-caps=-all`);
  }
  if (service.noNewPrivileges) setpriv.push("--no-new-privs");
  // A service starts with systemd's small environment, not the test's.
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    LANG: "C.UTF-8",
    ...service.environment,
    ...extraEnv,
  };
  const args = [
    ...setpriv.slice(1),
    "env",
    "-i",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...service.execStart,
  ];
  return { command: "setpriv", args, cwd: service.workingDirectory };
}
