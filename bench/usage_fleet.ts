/**
 * A simulated fleet for the summaries benchmark: clients (host names, real
 * IANA time zones, who uses them), metering rules, and the usage sessions
 * each client runs on each of its local dates, all drawn from one seed.
 *
 * The shapes follow a real organisation: people work office hours on their
 * computer's own clock (fewer on weekends, some days off), most computers
 * have one user and a few are shared (labs, terminal servers reached by
 * remote login, a second computer of someone who has one already), a few
 * programs run everywhere and most on a few computers, runs last minutes to
 * hours (some are left open for days, a very few never end), and about one
 * run in ten comes from a remote login.
 *
 * Sessions of a client and local date come from their own seeded generator,
 * so any stretch of time can be generated again alone (the benchmark does,
 * for what arrives after its snapshot), and they get the same session ids
 * (`YYYY-MM-DD/<n>`, numbered per client and UTC start day in order of
 * start) however the stretch is cut.
 *
 * @module
 */
import { DAY_MS } from "../model/doc_id.ts";
import { SeededRandom } from "../lib/seeded_random.ts";

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export interface FleetOptions {
  clients: number;
  rules: number;
  /** Average sessions a client runs per day, weekends and days off included. */
  sessionsPerClientDay: number;
  seed: number;
}

export interface FleetRule {
  id: string;
  name: string;
  fileName: string;
  exe: string;
  argv0: string;
  version: string;
  /** Median run length. */
  medianMs: number;
}

type ClientKind = "personal" | "laptop" | "lab" | "terminal";

export interface FleetClient {
  id: string;
  hostName: string;
  timeZone: string;
  kind: ClientKind;
  /** Indexes into `Fleet.users`; the first is the main user. */
  users: number[];
  /** Indexes into `Fleet.rules` and how often each is run, relatively. */
  rules: number[];
  ruleWeights: number[];
  /** Local hour the working day usually starts, and its length in hours. */
  arrive: number;
  workHours: number;
  /** Mean sessions on a working day. */
  weekdayMean: number;
}

export interface FleetSession {
  client: number;
  rule: number;
  user: number;
  start: number;
  /** `null`: it never ends (a program left running for good). */
  end: number | null;
  remote: boolean;
  pid: number;
  startNotCaptured: boolean;
  endNotCaptured: boolean;
}

/** A session with its id, e.g. `2026-05-04/17`. */
export interface IdentifiedSession extends FleetSession {
  id: string;
}

const ZONES: [zone: string, site: string, share: number][] = [
  ["Europe/Berlin", "ber", 28],
  ["Europe/London", "lon", 14],
  ["America/New_York", "nyc", 18],
  ["America/Chicago", "chi", 8],
  ["America/Los_Angeles", "sfo", 10],
  ["Asia/Kolkata", "blr", 10],
  ["Asia/Tokyo", "tyo", 7],
  ["Australia/Sydney", "syd", 5],
];

/** Share of clients of each kind, and how busy each kind is relative to a personal computer. */
const KINDS: [kind: ClientKind, share: number, activity: number][] = [
  ["personal", 86, 1],
  ["laptop", 5, 0.5],
  ["lab", 6, 1.3],
  ["terminal", 3, 3],
];

/** Weekday: 5 % of people are off; weekend: 15 % work. Averages to 1 over a week. */
const WEEKDAY_OFF = 0.05;
const WEEKEND_ON = 0.15;
const WEEKDAY_FACTOR = 1.4;
const WEEKEND_FACTOR = 1.2;

const CATALOGUE: [name: string, fileName: string, exe: string, version: string, minutes: number][] =
  [
    ["Firefox", "firefox", "/usr/lib/firefox/firefox", "128.5.0esr-1", 50],
    ["Thunderbird", "thunderbird", "/usr/lib/thunderbird/thunderbird", "128.5.0esr-1", 70],
    ["LibreOffice", "soffice.bin", "/usr/lib/libreoffice/program/soffice.bin", "24.2.7-0", 30],
    ["Google Chrome", "chrome", "/opt/google/chrome/chrome", "131.0.6778.85-1", 40],
    ["Microsoft Teams", "teams-for-linux", "/opt/teams-for-linux/teams-for-linux", "1.11.3", 45],
    ["Evince", "evince", "/usr/bin/evince", "46.3-1", 6],
    ["Visual Studio Code", "code", "/usr/share/code/code", "1.95.3-1731513102", 90],
    ["Slack", "slack", "/usr/lib/slack/slack", "4.41.97", 120],
    ["Zoom", "zoom", "/opt/zoom/zoom", "6.2.11.5069", 35],
    ["GIMP", "gimp-2.10", "/usr/bin/gimp-2.10", "2.10.36-3", 25],
    ["Inkscape", "inkscape", "/usr/bin/inkscape", "1.2.2-2", 25],
    ["MATLAB", "MATLAB", "/usr/local/MATLAB/R2024b/bin/glnxa64/MATLAB", "R2024b", 80],
    ["RStudio", "rstudio", "/usr/lib/rstudio/rstudio", "2024.09.1-394", 75],
    ["R", "R", "/usr/lib/R/bin/exec/R", "4.4.2-1", 20],
    ["Python 3", "python3*", "/usr/bin/python3.12", "3.12.3-1", 4],
    ["IntelliJ IDEA", "idea", "/opt/idea/bin/idea", "2024.3", 110],
    ["PyCharm", "pycharm", "/opt/pycharm/bin/pycharm", "2024.3", 100],
    ["Eclipse", "eclipse", "/opt/eclipse/eclipse", "4.33.0", 90],
    ["Okular", "okular", "/usr/bin/okular", "23.08.5-0", 8],
    ["VLC", "vlc", "/usr/bin/vlc", "3.0.21-2", 15],
    ["Blender", "blender", "/opt/blender/blender", "4.2.3", 60],
    ["FreeCAD", "freecad", "/usr/bin/freecad", "0.21.2", 50],
    ["QGIS", "qgis", "/usr/bin/qgis", "3.34.12", 55],
    [
      "Mathematica",
      "Mathematica",
      "/usr/local/Wolfram/Mathematica/14.1/Executables/Mathematica",
      "14.1",
      45,
    ],
    ["Maple", "maple", "/opt/maple2024/bin/maple", "2024.2", 40],
    ["SAS", "sas", "/opt/sas/SASFoundation/9.4/sas", "9.4M8", 60],
    ["SPSS Statistics", "stats", "/opt/IBM/SPSS/Statistics/30/bin/stats", "30.0.0.0", 50],
    ["Stata", "xstata-mp", "/usr/local/stata18/xstata-mp", "18.0", 45],
    ["GNU Octave", "octave-gui", "/usr/bin/octave-gui", "8.4.0-1", 30],
    ["Jupyter Lab", "jupyter-lab", "/usr/bin/jupyter-lab", "4.0.11-2", 70],
    ["Docker", "docker", "/usr/bin/docker", "27.3.1-1", 2],
    ["Git", "git", "/usr/bin/git", "2.43.0-1", 0.2],
    ["Vim", "vim*", "/usr/bin/vim.basic", "9.1.0016-1", 7],
    ["Emacs", "emacs*", "/usr/bin/emacs-gtk", "29.3+1-1", 60],
    ["Kdenlive", "kdenlive", "/usr/bin/kdenlive", "23.08.5-0", 40],
    ["Audacity", "audacity", "/usr/bin/audacity", "3.4.2", 20],
    ["Darktable", "darktable", "/usr/bin/darktable", "4.6.1-2", 35],
    ["Scribus", "scribus", "/usr/bin/scribus", "1.6.1", 30],
    ["KiCad", "kicad", "/usr/bin/kicad", "8.0.6", 50],
    ["Wireshark", "wireshark", "/usr/bin/wireshark", "4.2.2-1", 15],
    ["DBeaver", "dbeaver", "/usr/share/dbeaver-ce/dbeaver", "24.2.5", 40],
    ["Postman", "postman", "/opt/Postman/app/postman", "11.20.0", 25],
    ["Remmina", "remmina", "/usr/bin/remmina", "1.4.35", 30],
    ["KeePassXC", "keepassxc", "/usr/bin/keepassxc", "2.7.6", 3],
    ["Signal", "signal-desktop", "/opt/Signal/signal-desktop", "7.33.0", 90],
    ["Spotify", "spotify", "/usr/share/spotify/spotify", "1.2.48.405", 100],
    ["Obsidian", "obsidian", "/opt/Obsidian/obsidian", "1.7.7", 45],
    ["Zotero", "zotero", "/opt/zotero/zotero", "7.0.10", 20],
    ["TeXstudio", "texstudio", "/usr/bin/texstudio", "4.7.2", 40],
    ["ANSYS Workbench", "runwb2", "/ansys_inc/v242/Framework/bin/Linux64/runwb2", "2024R2", 90],
  ];

const FIRST_NAMES = (
  "anna ben carla david emma felix greta hugo ida jonas klara leon mia noah olga paul " +
  "rosa samuel tina ulrich vera wim xenia yusuf zoe amir bianca chen diego elif farah " +
  "gabriel hana ivan jana kenji lena marco nina omar priya quentin rahul sofia tomas " +
  "uma victor wei yara zeynep aiko bruno chloe dmitri ester"
).split(" ");

const LAST_NAMES = (
  "schmidt mueller smith jones garcia martin rossi novak kowalski ivanova tanaka sato " +
  "kumar sharma patel nguyen kim lee chen wang silva santos costa dubois laurent bernard " +
  "fischer weber wagner becker hoffmann schulz koch richter klein wolf schroeder neumann " +
  "brown taylor wilson davies evans thomas johnson roberts walker wright robinson " +
  "thompson white hughes edwards green hall wood harris lewis"
).split(" ");

export class Fleet {
  readonly options: FleetOptions;
  readonly rules: FleetRule[];
  readonly users: string[] = [];
  readonly clients: FleetClient[] = [];
  readonly #offsets = new Map<string, Map<number, number>>();
  readonly #formats = new Map<string, Intl.DateTimeFormat>();
  readonly #days = new Map<number, string>();

  constructor(options: FleetOptions) {
    this.options = options;
    const random = new SeededRandom(options.seed);
    this.rules = Array.from({ length: options.rules }, (_, i) => ruleOf(i));
    const popularity = this.rules.map((_, i) => Math.min(0.97, 1.1 / (i + 1) ** 0.75));
    const kindIndex = KINDS.map(([, share]) => share);
    const meanActivity = KINDS.reduce((sum, [, share, a]) => sum + share * a, 0) /
      KINDS.reduce((sum, [, share]) => sum + share, 0);
    const mainUsers: number[] = [];
    const names = new Map<string, number>();
    const newUser = () => {
      const base = `${random.pick(FIRST_NAMES)}.${random.pick(LAST_NAMES)}`;
      const seen = (names.get(base) ?? 0) + 1;
      names.set(base, seen);
      this.users.push(seen === 1 ? base : `${base}${seen}`);
      return this.users.length - 1;
    };
    for (let i = 0; i < options.clients; i++) {
      const [zone, site] = ZONES[random.weighted(ZONES.map(([, , share]) => share))];
      let kind = KINDS[random.weighted(kindIndex)];
      // Shared computers and second computers need people who already have one.
      if (mainUsers.length < 20) kind = KINDS[0];
      const users: number[] = [];
      if (kind[0] === "personal") {
        users.push(newUser());
        mainUsers.push(users[0]);
        // Now and then someone else logs in (an administrator, a colleague).
        if (random.chance(0.3)) users.push(random.pick(mainUsers));
      } else if (kind[0] === "laptop") {
        users.push(random.pick(mainUsers));
      } else {
        const count = kind[0] === "lab" ? random.int(3, 8) : random.int(10, 40);
        while (users.length < count) {
          // Lab users are mostly students of their own; terminal servers serve staff.
          users.push(kind[0] === "lab" && random.chance(0.7) ? newUser() : random.pick(mainUsers));
        }
      }
      const rules: number[] = [];
      const ruleWeights: number[] = [];
      popularity.forEach((p, r) => {
        if (random.chance(p)) {
          rules.push(r);
          ruleWeights.push(random.logNormal(1, 0.8) * (r < 3 ? 3 : 1));
        }
      });
      if (rules.length === 0) rules.push(0), ruleWeights.push(1);
      const activity = random.logNormal(1, 0.35) / Math.exp(0.35 ** 2 / 2);
      this.clients.push({
        id: randomId(random, 12),
        hostName: `${site}-${
          kind[0] === "personal" ? "ws" : kind[0] === "laptop" ? "lt" : kind[0]
        }-${String(i).padStart(5, "0")}`,
        timeZone: zone,
        kind: kind[0],
        users,
        rules,
        ruleWeights,
        arrive: Math.min(10.5, Math.max(6, random.normal(8.3, 0.6))),
        workHours: kind[0] === "terminal" ? 11 : Math.min(10, Math.max(7, random.normal(8.5, 0.7))),
        weekdayMean: options.sessionsPerClientDay * WEEKDAY_FACTOR * activity * kind[2] /
          meanActivity,
      });
    }
  }

  /** The UTC day of a day number (days since 1970-01-01), `YYYY-MM-DD`. */
  day(dayNumber: number): string {
    let day = this.#days.get(dayNumber);
    if (!day) {
      this.#days.set(dayNumber, day = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10));
    }
    return day;
  }

  /**
   * The sessions a client starts on one local date (a day number on its own
   * clock), in order of start.
   */
  sessionsOfLocalDate(clientIndex: number, date: number): FleetSession[] {
    const client = this.clients[clientIndex];
    const random = new SeededRandom(
      Math.imul(this.options.seed ^ 0x5bd1e995, clientIndex + 1) ^ Math.imul(date, 0x27d4eb2d),
    );
    const weekday = (date + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
    const weekend = weekday === 0 || weekday === 6;
    const terminal = client.kind === "terminal";
    // Terminal servers run every day, quieter at weekends.
    const on = weekend ? random.chance(terminal ? 1 : WEEKEND_ON) : !random.chance(WEEKDAY_OFF);
    if (!on) return [];
    const mean = weekend
      ? client.weekdayMean * (terminal ? 0.2 : WEEKEND_FACTOR / WEEKDAY_FACTOR)
      : client.weekdayMean;
    const count = Math.max(0, Math.round(random.normal(mean, Math.sqrt(mean))));
    const midnight = date * DAY_MS - this.#offset(client.timeZone, date);
    const arrive = (client.arrive + random.normal(0, 0.3)) * HOUR_MS;
    const leave = arrive + (client.workHours + random.normal(0, 0.5)) * HOUR_MS;
    const sessions: FleetSession[] = [];
    for (let i = 0; i < count; i++) {
      const rule = client.rules[random.weighted(client.ruleWeights)];
      const user = client.users.length === 1 || random.chance(client.kind === "personal" ? 0.97 : 0)
        ? client.users[0]
        : random.pick(client.users);
      const evening = random.chance(0.06);
      let local: number;
      if (weekend) local = (10 + random.next() * 8) * HOUR_MS;
      else if (evening) local = (19 + random.next() * 4.5) * HOUR_MS;
      else local = arrive + random.next() * (leave - arrive);
      const start = Math.floor(midnight + local + random.next() * MINUTE_MS);
      let duration = Math.min(14 * HOUR_MS, random.logNormal(this.rules[rule].medianMs, 1));
      duration = Math.max(200, Math.round(duration));
      const longRun = random.next();
      if (longRun < 0.0015) duration += random.int(1, 4) * DAY_MS + random.int(0, 20) * HOUR_MS;
      const forever = longRun > 1 - 0.00002;
      sessions.push({
        client: clientIndex,
        rule,
        user,
        start,
        end: forever ? null : start + duration,
        remote: terminal ? random.chance(0.85) : random.chance(evening ? 0.35 : 0.015),
        pid: random.int(1_000, 4_000_000),
        startNotCaptured: random.chance(0.003),
        endNotCaptured: random.chance(0.003),
      });
    }
    return sessions.sort((a, b) => a.start - b.start);
  }

  /**
   * Walks a client's local dates in order and numbers its sessions per UTC
   * start day, calling `visit` for those starting in `[from, to)`. Numbers
   * of a UTC day are complete when the walk covers the local dates either
   * side of it, so `from` and `to` may cut anywhere.
   */
  walk(
    clientIndex: number,
    from: number,
    to: number,
    visit: (session: IdentifiedSession) => void,
  ): void {
    const first = Math.floor(from / DAY_MS) - 1;
    const last = Math.floor((to - 1) / DAY_MS) + 1;
    const counters = new Map<number, number>();
    for (let date = first; date <= last; date++) {
      for (const s of this.sessionsOfLocalDate(clientIndex, date)) {
        const day = Math.floor(s.start / DAY_MS);
        const n = counters.get(day) ?? 0;
        counters.set(day, n + 1);
        if (s.start >= from && s.start < to) visit({ ...s, id: `${this.day(day)}/${n}` });
      }
    }
  }

  /** The UTC offset (ms, local minus UTC) of a zone at noon UTC of a day. */
  #offset(zone: string, date: number): number {
    let offsets = this.#offsets.get(zone);
    if (!offsets) this.#offsets.set(zone, offsets = new Map());
    let offset = offsets.get(date);
    if (offset === undefined) {
      let format = this.#formats.get(zone);
      if (!format) {
        format = new Intl.DateTimeFormat("en-US", {
          timeZone: zone,
          hourCycle: "h23",
          year: "numeric",
          month: "numeric",
          day: "numeric",
          hour: "numeric",
          minute: "numeric",
        });
        this.#formats.set(zone, format);
      }
      const at = date * DAY_MS + 12 * HOUR_MS;
      const p: Record<string, number> = {};
      for (const part of format.formatToParts(at)) p[part.type] = Number(part.value);
      offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - at;
      offsets.set(date, offset);
    }
    return offset;
  }
}

function ruleOf(index: number): FleetRule {
  const known = CATALOGUE[index];
  const [name, fileName, exe, version, minutes] = known ??
    [`Program ${index + 1}`, `program${index + 1}`, `/opt/program${index + 1}/bin/run`, "1.0", 30];
  return {
    id: `S01-${index + 1}`,
    name,
    fileName,
    exe,
    argv0: exe.split("/").at(-1)!,
    version,
    medianMs: minutes * MINUTE_MS,
  };
}

function randomId(random: SeededRandom, length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let id = "";
  for (let i = 0; i < length; i++) id += alphabet[random.int(0, alphabet.length - 1)];
  return id;
}
