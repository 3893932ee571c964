/**
 * Who runs a Windows process, and from where: the account of its token as
 * `DOMAIN\user`, and whether its session is a Remote Desktop session (the
 * session's client protocol is RDP) rather than the console.
 *
 * @module
 */
import { pointerIn, pointerOut, readWide, u32Out, type Win32 } from "./api/win32.ts";

const TOKEN_QUERY = 0x0008;
const TOKEN_USER = 1;
const WTS_CLIENT_PROTOCOL_TYPE = 16;
const WTS_PROTOCOL_RDP = 2;
const NAME_CHARS = 256;

/** `DOMAIN\user` of the process's token; `null` when it cannot be read. */
export function userOfProcess(api: Win32, process: Deno.PointerValue): string | null {
  const tokenOut = pointerOut();
  if (!api.advapi32.OpenProcessToken(process, TOKEN_QUERY, new Uint8Array(tokenOut.buffer))) {
    return null;
  }
  const token = pointerIn(tokenOut);
  try {
    const info = new Uint8Array(256);
    const length = u32Out();
    if (!api.advapi32.GetTokenInformation(token, TOKEN_USER, info, info.length, length)) {
      return null;
    }
    // TOKEN_USER starts with a pointer to the SID, which lies inside `info`.
    const sid = Deno.UnsafePointer.create(new BigUint64Array(info.buffer, 0, 1)[0]);
    return accountName(api, sid);
  } finally {
    api.kernel32.CloseHandle(token);
  }
}

function accountName(api: Win32, sid: Deno.PointerValue): string | null {
  const name = new Uint8Array(NAME_CHARS * 2);
  const domain = new Uint8Array(NAME_CHARS * 2);
  const nameChars = u32Out(NAME_CHARS);
  const domainChars = u32Out(NAME_CHARS);
  const use = u32Out();
  const ok = api.advapi32.LookupAccountSidW(null, sid, name, nameChars, domain, domainChars, use);
  if (!ok) return null;
  const user = readWide(name, 0, nameChars[0]);
  const domainName = readWide(domain, 0, domainChars[0]);
  return domainName ? `${domainName}\\${user}` : user;
}

/** Whether session `id` is a Remote Desktop session; `false` when it cannot be told. */
export function sessionIsRemote(api: Win32, id: number): boolean {
  if (!api.wtsapi32) return false;
  const bufferOut = pointerOut();
  const bytes = u32Out();
  const ok = api.wtsapi32.WTSQuerySessionInformationW(
    null,
    id,
    WTS_CLIENT_PROTOCOL_TYPE,
    new Uint8Array(bufferOut.buffer),
    bytes,
  );
  const buffer = pointerIn(bufferOut);
  if (!ok || buffer === null) return false;
  try {
    return bytes[0] >= 2 && new Deno.UnsafePointerView(buffer).getUint16(0) === WTS_PROTOCOL_RDP;
  } finally {
    api.wtsapi32.WTSFreeMemory(buffer);
  }
}
