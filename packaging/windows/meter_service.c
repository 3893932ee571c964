/*
 * meter_service.exe: the Windows service "MeterAgent", which runs the Meter
 * agent (`deno.exe run ... app\main.ts agent ...`) as a child process.
 *
 * Why a host of its own: deno.exe is not a service (it does not talk to the
 * service control manager), and a service that does not answer within 30 s
 * is killed by Windows. This host answers for the agent, keeps its output in
 * %ProgramData%\Meter\agent.log, and stops it cleanly: the agent stops
 * cleanly on Ctrl-C (Deno's SIGINT), so the host gives itself a console,
 * shares it with the agent, and sends Ctrl-C to that console. (Ctrl-Break to
 * the agent's own process group would spare the host, but Wine implements
 * only Ctrl-C, and the host ignores Ctrl-C itself anyway.)
 *
 * The agent's settings come from HKLM\SOFTWARE\Meter\Agent (the MSI writes
 * them from its SITE_URL, FALLBACK_SITE_URLS, ENROLL_TOKEN_FILE and CA_FILE
 * properties) and, when it exists, %ProgramData%\Meter\agent.json, passed as
 * `--config`; flags win over the file.
 *
 * Built by scripts/package/msi.ts with mingw-w64, statically: it needs only
 * Windows' own DLLs.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <shlobj.h>
#include <stdio.h>
#include <wchar.h>

#define SERVICE_NAME L"MeterAgent"
#define SETTINGS_KEY L"SOFTWARE\\Meter\\Agent"
/* How long the agent may take to stop after Ctrl-C before it is ended. */
#define STOP_TIMEOUT_MS 20000
/* agent.log is renamed to agent.log.1 at start once it is this big. */
#define LOG_ROTATE_BYTES (10LL * 1024 * 1024)
/* The longest command line CreateProcessW takes. */
#define COMMAND_LINE_MAX 32768

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static CRITICAL_SECTION status_lock;
static HANDLE stop_requested;
static HANDLE log_file = INVALID_HANDLE_VALUE;

/* Tells the service control manager where the service is; from two threads. */
static void report(DWORD state, DWORD win32_exit, DWORD agent_exit, DWORD wait_hint) {
  EnterCriticalSection(&status_lock);
  status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  status.dwCurrentState = state;
  status.dwWin32ExitCode = win32_exit;
  status.dwServiceSpecificExitCode = agent_exit;
  status.dwWaitHint = wait_hint;
  status.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  /* A pending state must move its checkpoint on, or Windows thinks it hangs. */
  if (state == SERVICE_RUNNING || state == SERVICE_STOPPED) status.dwCheckPoint = 0;
  else status.dwCheckPoint++;
  SetServiceStatus(status_handle, &status);
  LeaveCriticalSection(&status_lock);
}

/*
 * Writes one JSON line to agent.log, in the agent's own log format, so one
 * reader reads both: {"time":...,"level":...,"msg":...,"service":...}.
 */
static void log_line(const char *level, const char *msg, const wchar_t *detail) {
  if (log_file == INVALID_HANDLE_VALUE) return;
  char line[4096];
  SYSTEMTIME t;
  GetSystemTime(&t);
  int n = snprintf(line, sizeof line,
                   "{\"time\":\"%04u-%02u-%02uT%02u:%02u:%02u.%03uZ\",\"level\":\"%s\","
                   "\"msg\":\"%s\",\"service\":\"" "MeterAgent" "\"",
                   t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds,
                   level, msg);
  if (detail) {
    char utf8[2048];
    int len = WideCharToMultiByte(CP_UTF8, 0, detail, -1, utf8, sizeof utf8, NULL, NULL);
    n += snprintf(line + n, sizeof line - n, ",\"detail\":\"");
    /* JSON escapes: paths are full of backslashes. */
    for (int i = 0; len > 0 && utf8[i] && n < (int)sizeof line - 8; i++) {
      unsigned char c = (unsigned char)utf8[i];
      if (c == '"' || c == '\\') n += snprintf(line + n, sizeof line - n, "\\%c", c);
      else if (c < 0x20) n += snprintf(line + n, sizeof line - n, "\\u%04x", c);
      else line[n++] = (char)c;
    }
    n += snprintf(line + n, sizeof line - n, "\"");
  }
  n += snprintf(line + n, sizeof line - n, "}\r\n");
  DWORD written;
  WriteFile(log_file, line, (DWORD)n, &written, NULL);
}

static void log_error(const char *level, const char *msg, const wchar_t *what, DWORD error) {
  wchar_t detail[1024];
  swprintf(detail, 1024, L"%ls: Windows error %lu", what, error);
  log_line(level, msg, detail);
}

/* Set when an argument did not fit: the agent is then not started with a part of its flags. */
static BOOL too_long;

/* Appends one argument to a command line, quoted the way CommandLineToArgvW reads it. */
static void append_arg(wchar_t *line, const wchar_t *arg) {
  size_t n = wcslen(line);
  wchar_t quoted[4096];
  size_t q = 0;
  quoted[q++] = L' ';
  quoted[q++] = L'"';
  for (const wchar_t *p = arg;; p++) {
    size_t backslashes = 0;
    while (*p == L'\\') p++, backslashes++;
    /* Backslashes are literal unless a quote (ours, or one in the arg) follows. */
    size_t copies = *p == L'\0' ? backslashes * 2 : *p == L'"' ? backslashes * 2 + 1 : backslashes;
    if (q + copies + 4 >= 4096) {
      too_long = TRUE;
      return;
    }
    while (copies--) quoted[q++] = L'\\';
    if (*p == L'\0') break;
    quoted[q++] = *p;
  }
  quoted[q++] = L'"';
  quoted[q] = L'\0';
  if (n + q >= COMMAND_LINE_MAX) {
    too_long = TRUE;
    return;
  }
  wcscpy(line + n, quoted);
}

/* A string value under HKLM\SOFTWARE\Meter\Agent, or "" when absent or empty. */
static void setting(const wchar_t *name, wchar_t *value, DWORD chars) {
  HKEY key;
  DWORD type, bytes = (chars - 1) * sizeof(wchar_t);
  value[0] = L'\0';
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, SETTINGS_KEY, 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, &key))
    return;
  if (RegQueryValueExW(key, name, NULL, &type, (BYTE *)value, &bytes) == ERROR_SUCCESS &&
      (type == REG_SZ || type == REG_EXPAND_SZ))
    value[bytes / sizeof(wchar_t)] = L'\0'; /* the registry does not promise a terminator */
  else
    value[0] = L'\0';
  RegCloseKey(key);
  if (type == REG_EXPAND_SZ && value[0]) {
    wchar_t expanded[4096];
    DWORD n = ExpandEnvironmentStringsW(value, expanded, 4096);
    if (n > 0 && n <= 4096 && n <= chars) wcscpy(value, expanded);
  }
}

static BOOL file_exists(const wchar_t *path) {
  DWORD attributes = GetFileAttributesW(path);
  return attributes != INVALID_FILE_ATTRIBUTES && !(attributes & FILE_ATTRIBUTE_DIRECTORY);
}

/*
 * Makes %ProgramData%\Meter and gives it to SYSTEM and Administrators only,
 * every time: the agent's database there holds its credential, and a folder
 * made by an earlier run from a command prompt has ProgramData's looser
 * access list (users may read).
 */
static void prepare_data_dir(const wchar_t *dir) {
  CreateDirectoryW(dir, NULL);
  PSECURITY_DESCRIPTOR sd;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", SDDL_REVISION_1, &sd, NULL))
    return;
  BOOL present, defaulted;
  PACL dacl;
  if (GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
    SetNamedSecurityInfoW((wchar_t *)dir, SE_FILE_OBJECT,
                          DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL,
                          NULL, dacl, NULL);
  }
  LocalFree(sd);
}

/* Opens agent.log for appending, by this host and (inherited) by the agent. */
static void open_log(const wchar_t *dir) {
  wchar_t path[MAX_PATH], old[MAX_PATH];
  swprintf(path, MAX_PATH, L"%ls\\agent.log", dir);
  swprintf(old, MAX_PATH, L"%ls\\agent.log.1", dir);
  WIN32_FILE_ATTRIBUTE_DATA info;
  if (GetFileAttributesExW(path, GetFileExInfoStandard, &info) &&
      ((LONGLONG)info.nFileSizeHigh << 32 | info.nFileSizeLow) > LOG_ROTATE_BYTES)
    MoveFileExW(path, old, MOVEFILE_REPLACE_EXISTING);
  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  log_file = CreateFileW(path, FILE_APPEND_DATA | SYNCHRONIZE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &inherit,
                         OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
}

/* The host ignores the Ctrl-C it sends the agent, and logoff and the like. */
static BOOL WINAPI ignore_console_events(DWORD event) {
  (void)event;
  return TRUE;
}

/*
 * Builds the agent's command line into `line`: the flags from the registry
 * that are set, then --config when agent.json exists, else --db.
 */
static BOOL agent_command_line(const wchar_t *install_dir, const wchar_t *data_dir,
                               wchar_t *line) {
  wchar_t path[MAX_PATH], value[4096];
  swprintf(path, MAX_PATH, L"%ls\\deno.exe", install_dir);
  line[0] = L'\0';
  append_arg(line, path);
  wmemmove(line, line + 1, wcslen(line)); /* no space before the program */
  append_arg(line, L"run");
  append_arg(line, L"-A");
  append_arg(line, L"--no-prompt");
  swprintf(path, MAX_PATH, L"%ls\\app\\main.ts", install_dir);
  append_arg(line, path);
  append_arg(line, L"agent");

  setting(L"SiteUrl", value, 4096);
  if (value[0]) append_arg(line, L"--site"), append_arg(line, value);
  /* Fallback sites: one value, the URLs separated by spaces, commas or semicolons. */
  setting(L"FallbackSiteUrls", value, 4096);
  for (wchar_t *url = value; *url;) {
    size_t skip = wcsspn(url, L" ,;"), size = wcscspn(url + skip, L" ,;");
    url += skip;
    if (size == 0) break;
    wchar_t end = url[size];
    url[size] = L'\0';
    append_arg(line, L"--site"), append_arg(line, url);
    url[size] = end;
    url += size;
  }
  setting(L"EnrollTokenFile", value, 4096);
  if (value[0]) {
    /*
     * The token is needed on the first run only, and an administrator may
     * well delete it once the agent enrolled; the agent refuses to start
     * with a missing --enroll-token-file, so leave it out then.
     */
    if (file_exists(value)) append_arg(line, L"--enroll-token-file"), append_arg(line, value);
    else log_line("warn", "enroll token file not found; starting without it", value);
  }
  setting(L"CaFile", value, 4096);
  if (value[0]) append_arg(line, L"--ca"), append_arg(line, value);

  swprintf(path, MAX_PATH, L"%ls\\agent.json", data_dir);
  if (file_exists(path)) {
    /* The file may name its own database; flags would win over it. */
    append_arg(line, L"--config");
    append_arg(line, path);
  } else {
    swprintf(path, MAX_PATH, L"%ls\\agent.db", data_dir);
    append_arg(line, L"--db");
    append_arg(line, path);
  }
  return !too_long;
}

/*
 * If the service has no recovery actions yet, gives it some: restart the
 * agent after 10 s, 1 min, then 5 min, also when it stopped with an error
 * rather than crashed. wixl cannot write MSI's failure actions, and an
 * administrator's own choice is left alone.
 */
static void default_recovery(void) {
  SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  SC_HANDLE service = manager ? OpenServiceW(manager, SERVICE_NAME,
                                             SERVICE_QUERY_CONFIG | SERVICE_CHANGE_CONFIG |
                                                 SERVICE_START)
                              : NULL;
  BYTE buffer[8192];
  DWORD needed;
  SERVICE_FAILURE_ACTIONSW *current = (SERVICE_FAILURE_ACTIONSW *)buffer;
  SC_ACTION actions[3] = {
      {SC_ACTION_RESTART, 10000}, {SC_ACTION_RESTART, 60000}, {SC_ACTION_RESTART, 300000}};
  SERVICE_FAILURE_ACTIONSW failure = {86400, NULL, NULL, 3, actions};
  SERVICE_FAILURE_ACTIONS_FLAG on_errors = {TRUE};
  if (!service)
    log_error("warn", "recovery not set", L"OpenService", GetLastError());
  else if (!QueryServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, buffer, sizeof buffer,
                                 &needed))
    log_error("warn", "recovery not set", L"QueryServiceConfig2", GetLastError());
  else if (current->cActions > 0)
    ; /* the administrator's */
  else if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure) ||
           !ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &on_errors))
    log_error("warn", "recovery not set", L"ChangeServiceConfig2", GetLastError());
  else
    log_line("info", "recovery set: restart the agent after 10 s, 1 min, then 5 min", NULL);
  if (service) CloseServiceHandle(service);
  if (manager) CloseServiceHandle(manager);
}

/* Asks the agent to stop with Ctrl-C, waits, and ends it only if it does not. */
static DWORD stop_agent(HANDLE agent) {
  DWORD exit_code = 0;
  log_line("info", "stopping the agent with Ctrl-C", NULL);
  if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0))
    log_error("error", "could not send Ctrl-C", L"GenerateConsoleCtrlEvent", GetLastError());
  for (DWORD waited = 0; waited < STOP_TIMEOUT_MS; waited += 1000) {
    if (WaitForSingleObject(agent, 1000) == WAIT_OBJECT_0) break;
    report(SERVICE_STOP_PENDING, NO_ERROR, 0, 2000);
  }
  if (WaitForSingleObject(agent, 0) != WAIT_OBJECT_0) {
    log_line("error", "the agent did not stop in time; ending it", NULL);
    TerminateProcess(agent, ERROR_TIMEOUT);
    WaitForSingleObject(agent, 5000);
  }
  GetExitCodeProcess(agent, &exit_code);
  return exit_code;
}

static DWORD WINAPI control(DWORD code, DWORD type, void *data, void *context) {
  (void)type, (void)data, (void)context;
  switch (code) {
  case SERVICE_CONTROL_STOP:
  case SERVICE_CONTROL_SHUTDOWN:
    report(SERVICE_STOP_PENDING, NO_ERROR, 0, STOP_TIMEOUT_MS + 5000);
    SetEvent(stop_requested);
    return NO_ERROR;
  case SERVICE_CONTROL_INTERROGATE:
    return NO_ERROR;
  default:
    return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

static void WINAPI service_main(DWORD argc, wchar_t **argv) {
  (void)argc, (void)argv;
  status_handle = RegisterServiceCtrlHandlerExW(SERVICE_NAME, control, NULL);
  if (!status_handle) return;
  report(SERVICE_START_PENDING, NO_ERROR, 0, 10000);
  stop_requested = CreateEventW(NULL, TRUE, FALSE, NULL);

  /* Where this host is: deno.exe and app\ are beside it. */
  wchar_t install_dir[MAX_PATH], data_dir[MAX_PATH];
  DWORD length = GetModuleFileNameW(NULL, install_dir, MAX_PATH);
  if (length == 0 || length == MAX_PATH) {
    report(SERVICE_STOPPED, GetLastError(), 0, 0);
    return;
  }
  *wcsrchr(install_dir, L'\\') = L'\0';
  /*
   * ProgramData from the shell, not from the environment: Wine gives
   * services another one. The agent gets the same in its environment, so
   * its own default (%ProgramData%\Meter\agent.db) agrees with --db.
   */
  wchar_t *program_data;
  if (SHGetKnownFolderPath(&FOLDERID_ProgramData, 0, NULL, &program_data) == S_OK) {
    SetEnvironmentVariableW(L"ProgramData", program_data);
    swprintf(data_dir, MAX_PATH, L"%ls\\Meter", program_data);
    CoTaskMemFree(program_data);
  } else {
    wcscpy(data_dir, L"C:\\ProgramData\\Meter");
  }
  prepare_data_dir(data_dir);
  open_log(data_dir);
  log_line("info", "service starting", install_dir);
  default_recovery();

  static wchar_t line[COMMAND_LINE_MAX];
  if (!agent_command_line(install_dir, data_dir, line)) {
    log_line("error", "the agent's command line is too long", NULL);
    report(SERVICE_STOPPED, ERROR_INVALID_PARAMETER, 0, 0);
    return;
  }
  log_line("info", "starting the agent", line);

  /* A console for the agent to share, so that Ctrl-C can stop it cleanly. */
  AllocConsole();
  SetConsoleCtrlHandler(ignore_console_events, TRUE);
  /*
   * The agent's own settings: no update check from a service, and Deno's
   * cache of compiled modules beside the agent's data, not in SYSTEM's profile.
   */
  wchar_t cache[MAX_PATH];
  swprintf(cache, MAX_PATH, L"%ls\\deno-cache", data_dir);
  SetEnvironmentVariableW(L"DENO_DIR", cache);
  SetEnvironmentVariableW(L"DENO_NO_UPDATE_CHECK", L"1");
  SetEnvironmentVariableW(L"NO_COLOR", L"1");

  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  HANDLE nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                           OPEN_EXISTING, 0, NULL);
  STARTUPINFOW startup = {0};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = nul;
  startup.hStdOutput = log_file;
  startup.hStdError = log_file;
  PROCESS_INFORMATION agent;
  wchar_t app_dir[MAX_PATH];
  swprintf(app_dir, MAX_PATH, L"%ls\\app", install_dir);
  /* Run in app\, where Deno finds deno.json, the import map and node_modules. */
  if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, CREATE_UNICODE_ENVIRONMENT, NULL, app_dir,
                      &startup, &agent)) {
    DWORD error = GetLastError();
    log_error("error", "could not start the agent", line, error);
    report(SERVICE_STOPPED, error, 0, 0);
    return;
  }
  CloseHandle(agent.hThread);
  CloseHandle(nul);
  /* Should this host die, the job ends the agent with it, so a restart never runs two. */
  HANDLE job = CreateJobObjectW(NULL, NULL);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (job) {
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
    AssignProcessToJobObject(job, agent.hProcess);
  }
  report(SERVICE_RUNNING, NO_ERROR, 0, 0);

  HANDLE waits[2] = {agent.hProcess, stop_requested};
  DWORD exit_code = 0;
  if (WaitForMultipleObjects(2, waits, FALSE, INFINITE) == WAIT_OBJECT_0) {
    /* The agent ended by itself: a failure, so that recovery restarts it. */
    GetExitCodeProcess(agent.hProcess, &exit_code);
    wchar_t detail[64];
    swprintf(detail, 64, L"exit code %lu", exit_code);
    log_line("error", "the agent exited by itself", detail);
    report(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR, exit_code, 0);
    return;
  }
  exit_code = stop_agent(agent.hProcess);
  wchar_t detail[64];
  swprintf(detail, 64, L"exit code %lu", exit_code);
  log_line(exit_code == 0 ? "info" : "error", "service stopped", detail);
  if (exit_code == 0) report(SERVICE_STOPPED, NO_ERROR, 0, 0);
  else report(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR, exit_code, 0);
}

int wmain(void) {
  InitializeCriticalSection(&status_lock);
  SERVICE_TABLE_ENTRYW services[] = {{SERVICE_NAME, service_main}, {NULL, NULL}};
  if (StartServiceCtrlDispatcherW(services)) return 0;
  DWORD error = GetLastError();
  if (error == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
    fwprintf(stderr, L"meter_service.exe runs the Meter agent as the Windows service %ls; "
                     L"start it with: net start %ls\n",
             SERVICE_NAME, SERVICE_NAME);
  return (int)error;
}
