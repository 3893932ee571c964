/** @jsxImportSource hono/jsx */
/**
 * The computers: a list with when each last synced, how far its clock is
 * off and its agent's version; and one computer's page with its facts and
 * its latest sessions.
 *
 * @module
 */
import type { ClientOutput } from "../routes/clients_routes.ts";
import type { SessionOutput } from "../../model/session_output.ts";
import { type Column, DataTable, tableView } from "./data_table.tsx";

const CLIENTS: Column<ClientOutput>[] = [
  { key: "hostName", label: "Computer", href: (r) => `/clients/${r.clientId}` },
  { key: "lastSyncAt", label: "Last sync" },
  { key: "clockOffsetSeconds", label: "Clock offset (s)", numeric: true },
  { key: "agentVersion", label: "Agent" },
  { key: "osName", label: "OS" },
  { key: "timeZone", label: "Time zone" },
  { key: "lastUsageAt", label: "Last usage" },
];

export function ClientsPage({ clients, url }: { clients: ClientOutput[]; url: URL }) {
  return (
    <DataTable
      id="clients"
      caption="Enrolled computers"
      columns={CLIENTS}
      rows={clients}
      view={tableView(url, "clients", "hostName")}
      url={url}
      csvHref="/clients.csv"
      empty="No computer has enrolled yet."
    />
  );
}

const SESSIONS: Column<SessionOutput>[] = [
  { key: "ruleName", label: "Program", href: (r) => `/programs/${r.ruleId}` },
  { key: "user", label: "User" },
  { key: "start", label: "Start" },
  { key: "end", label: "End" },
  { key: "durationSeconds", label: "Seconds", numeric: true },
  { key: "exe", label: "Executable" },
  { key: "pid", label: "PID", numeric: true },
];

/** How many of a computer's latest sessions its page shows (the CSV has them all). */
export const CLIENT_SESSIONS_SHOWN = 500;

export function ClientPage(
  { client, sessions, url }: { client: ClientOutput; sessions: SessionOutput[]; url: URL },
) {
  const facts: [string, unknown][] = [
    ["Client id", client.clientId],
    ["Operating system", `${client.osName} ${client.osVersion}`],
    ["Kernel", client.kernel],
    ["Architecture", client.arch],
    ["Time zone", client.timeZone],
    ["Agent version", client.agentVersion],
    ["Enrolled", client.enrolledAt],
    ["Last sync", client.lastSyncAt ?? "never"],
    [
      "Clock offset",
      client.clockOffsetSeconds === null ? "not measured" : `${client.clockOffsetSeconds} s`,
    ],
  ];
  return (
    <>
      <div class="table-box">
        <table>
          <tbody>
            {facts.map(([k, v]) => (
              <tr>
                <th scope="row">{k}</th>
                <td>{String(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Latest sessions</h2>
      <DataTable
        id="sessions"
        caption={`Latest sessions on ${client.hostName} (at most ${CLIENT_SESSIONS_SHOWN})`}
        columns={SESSIONS}
        rows={sessions}
        view={tableView(url, "sessions", "start", true)}
        url={url}
        csvHref={`/clients/${client.clientId}/sessions.csv`}
        empty="No session recorded yet."
      />
    </>
  );
}
