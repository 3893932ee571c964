/**
 * Windows language ids (LANGIDs, e.g. 0x0409) to BCP-47 tags ("en-US") and
 * back: version resources and their string tables name languages by
 * LANGID, people and settings by tag.
 *
 * A LANGID is a primary language in its low 10 bits and a sublanguage
 * (region) above; an id missing from the table falls back to its primary
 * language's tag ("en" for an English variant not listed).
 *
 * @module
 */

/**
 * The common LANGIDs. Where two ids share a tag the first listed is the one
 * {@link langIdOf} returns (0x0C0A, modern Spanish, before 0x040A, the
 * traditional sort).
 */
const LANGUAGES: readonly (readonly [number, string])[] = [
  [0x0401, "ar-SA"],
  [0x0801, "ar-IQ"],
  [0x0C01, "ar-EG"],
  [0x1001, "ar-LY"],
  [0x1401, "ar-DZ"],
  [0x1801, "ar-MA"],
  [0x1C01, "ar-TN"],
  [0x2001, "ar-OM"],
  [0x2401, "ar-YE"],
  [0x2801, "ar-SY"],
  [0x2C01, "ar-JO"],
  [0x3001, "ar-LB"],
  [0x3401, "ar-KW"],
  [0x3801, "ar-AE"],
  [0x3C01, "ar-BH"],
  [0x4001, "ar-QA"],
  [0x0402, "bg-BG"],
  [0x0403, "ca-ES"],
  [0x0404, "zh-TW"],
  [0x0804, "zh-CN"],
  [0x0C04, "zh-HK"],
  [0x1004, "zh-SG"],
  [0x1404, "zh-MO"],
  [0x0405, "cs-CZ"],
  [0x0406, "da-DK"],
  [0x0407, "de-DE"],
  [0x0807, "de-CH"],
  [0x0C07, "de-AT"],
  [0x1007, "de-LU"],
  [0x1407, "de-LI"],
  [0x0408, "el-GR"],
  [0x0409, "en-US"],
  [0x0809, "en-GB"],
  [0x0C09, "en-AU"],
  [0x1009, "en-CA"],
  [0x1409, "en-NZ"],
  [0x1809, "en-IE"],
  [0x1C09, "en-ZA"],
  [0x2009, "en-JM"],
  [0x2809, "en-BZ"],
  [0x2C09, "en-TT"],
  [0x3009, "en-ZW"],
  [0x3409, "en-PH"],
  [0x4009, "en-IN"],
  [0x4409, "en-MY"],
  [0x4809, "en-SG"],
  [0x0C0A, "es-ES"],
  [0x040A, "es-ES"],
  [0x080A, "es-MX"],
  [0x100A, "es-GT"],
  [0x140A, "es-CR"],
  [0x180A, "es-PA"],
  [0x1C0A, "es-DO"],
  [0x200A, "es-VE"],
  [0x240A, "es-CO"],
  [0x280A, "es-PE"],
  [0x2C0A, "es-AR"],
  [0x300A, "es-EC"],
  [0x340A, "es-CL"],
  [0x380A, "es-UY"],
  [0x3C0A, "es-PY"],
  [0x400A, "es-BO"],
  [0x440A, "es-SV"],
  [0x480A, "es-HN"],
  [0x4C0A, "es-NI"],
  [0x500A, "es-PR"],
  [0x540A, "es-US"],
  [0x040B, "fi-FI"],
  [0x040C, "fr-FR"],
  [0x080C, "fr-BE"],
  [0x0C0C, "fr-CA"],
  [0x100C, "fr-CH"],
  [0x140C, "fr-LU"],
  [0x180C, "fr-MC"],
  [0x040D, "he-IL"],
  [0x040E, "hu-HU"],
  [0x040F, "is-IS"],
  [0x0410, "it-IT"],
  [0x0810, "it-CH"],
  [0x0411, "ja-JP"],
  [0x0412, "ko-KR"],
  [0x0413, "nl-NL"],
  [0x0813, "nl-BE"],
  [0x0414, "nb-NO"],
  [0x0814, "nn-NO"],
  [0x0415, "pl-PL"],
  [0x0416, "pt-BR"],
  [0x0816, "pt-PT"],
  [0x0417, "rm-CH"],
  [0x0418, "ro-RO"],
  [0x0419, "ru-RU"],
  [0x041A, "hr-HR"],
  [0x101A, "hr-BA"],
  [0x141A, "bs-Latn-BA"],
  [0x241A, "sr-Latn-RS"],
  [0x281A, "sr-Cyrl-RS"],
  [0x081A, "sr-Latn-CS"],
  [0x0C1A, "sr-Cyrl-CS"],
  [0x041B, "sk-SK"],
  [0x041C, "sq-AL"],
  [0x041D, "sv-SE"],
  [0x081D, "sv-FI"],
  [0x041E, "th-TH"],
  [0x041F, "tr-TR"],
  [0x0420, "ur-PK"],
  [0x0421, "id-ID"],
  [0x0422, "uk-UA"],
  [0x0423, "be-BY"],
  [0x0424, "sl-SI"],
  [0x0425, "et-EE"],
  [0x0426, "lv-LV"],
  [0x0427, "lt-LT"],
  [0x0428, "tg-Cyrl-TJ"],
  [0x0429, "fa-IR"],
  [0x042A, "vi-VN"],
  [0x042B, "hy-AM"],
  [0x042C, "az-Latn-AZ"],
  [0x042D, "eu-ES"],
  [0x042F, "mk-MK"],
  [0x0432, "tn-ZA"],
  [0x0434, "xh-ZA"],
  [0x0435, "zu-ZA"],
  [0x0436, "af-ZA"],
  [0x0437, "ka-GE"],
  [0x0438, "fo-FO"],
  [0x0439, "hi-IN"],
  [0x043A, "mt-MT"],
  [0x043B, "se-NO"],
  [0x083C, "ga-IE"],
  [0x043E, "ms-MY"],
  [0x083E, "ms-BN"],
  [0x043F, "kk-KZ"],
  [0x0440, "ky-KG"],
  [0x0441, "sw-KE"],
  [0x0442, "tk-TM"],
  [0x0443, "uz-Latn-UZ"],
  [0x0444, "tt-RU"],
  [0x0445, "bn-IN"],
  [0x0446, "pa-IN"],
  [0x0447, "gu-IN"],
  [0x0448, "or-IN"],
  [0x0449, "ta-IN"],
  [0x044A, "te-IN"],
  [0x044B, "kn-IN"],
  [0x044C, "ml-IN"],
  [0x044D, "as-IN"],
  [0x044E, "mr-IN"],
  [0x0450, "mn-MN"],
  [0x0451, "bo-CN"],
  [0x0452, "cy-GB"],
  [0x0453, "km-KH"],
  [0x0454, "lo-LA"],
  [0x0456, "gl-ES"],
  [0x0457, "kok-IN"],
  [0x045A, "syr-SY"],
  [0x045B, "si-LK"],
  [0x045E, "am-ET"],
  [0x0461, "ne-NP"],
  [0x0462, "fy-NL"],
  [0x0463, "ps-AF"],
  [0x0464, "fil-PH"],
  [0x0465, "dv-MV"],
  [0x0468, "ha-Latn-NG"],
  [0x046A, "yo-NG"],
  [0x046C, "nso-ZA"],
  [0x046E, "lb-LU"],
  [0x0470, "ig-NG"],
  [0x047E, "br-FR"],
  [0x0480, "ug-CN"],
  [0x0481, "mi-NZ"],
  [0x0482, "oc-FR"],
  [0x0483, "co-FR"],
  [0x0484, "gsw-FR"],
  [0x0485, "sah-RU"],
  [0x0487, "rw-RW"],
  [0x0488, "wo-SN"],
  [0x0491, "gd-GB"],
];

const PRIMARY_MASK = 0x3ff;
const TAGS = new Map(LANGUAGES);
const IDS = new Map<string, number>();
for (const [id, tag] of LANGUAGES) if (!IDS.has(tag.toLowerCase())) IDS.set(tag.toLowerCase(), id);
/** Primary language id → its language subtag, from the table's entries. */
const PRIMARIES = new Map<number, string>();
for (const [id, tag] of LANGUAGES) {
  if (!PRIMARIES.has(id & PRIMARY_MASK)) PRIMARIES.set(id & PRIMARY_MASK, tag.split("-")[0]);
}
const PRIMARY_IDS = new Map([...PRIMARIES].map(([id, tag]) => [tag, id]));

/**
 * The BCP-47 tag of a Windows LANGID: 0x0409 → "en-US", an unlisted
 * variant → its primary language ("en"); null for the neutral and
 * default ids (primary language 0: 0x0000, 0x0400, 0x0800) and for unknown
 * languages.
 */
export function languageTag(langId: number): string | null {
  if (!Number.isInteger(langId) || langId <= 0 || langId > 0xffff) return null;
  return TAGS.get(langId) ?? PRIMARIES.get(langId & PRIMARY_MASK) ?? null;
}

/**
 * The LANGID a setting names: decimal ("1033"), hex ("0x0409") or a tag
 * ("en-US", "en_us", or a bare language "en" for its neutral id 0x0009),
 * case-insensitive; null when it names none.
 */
export function langIdOf(value: string): number | null {
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) return inRange(Number(text));
  if (/^0x[0-9a-f]+$/.test(text)) return inRange(parseInt(text.slice(2), 16));
  const tag = text.replaceAll("_", "-");
  return IDS.get(tag) ?? PRIMARY_IDS.get(tag) ?? null;
}

function inRange(id: number): number | null {
  return Number.isSafeInteger(id) && id <= 0xffff ? id : null;
}
