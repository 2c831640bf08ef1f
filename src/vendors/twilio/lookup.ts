// Lookup v2, basic validation only (no data packages): parses a number, says whether it is valid.
import type { Kernel } from "../../kernel/types.ts";
import { friendly } from "./numbers.ts";

// Calling codes with their country and the national number lengths they accept.
const COUNTRIES: [string, string, number, number][] = [
  ["1", "US", 10, 10], ["44", "GB", 9, 10], ["33", "FR", 9, 9], ["49", "DE", 6, 13], ["61", "AU", 9, 9], ["91", "IN", 10, 10], ["81", "JP", 9, 10],
  ["34", "ES", 9, 9], ["39", "IT", 6, 11], ["55", "BR", 10, 11], ["52", "MX", 10, 10], ["31", "NL", 9, 9], ["46", "SE", 7, 9], ["86", "CN", 11, 11],
  ["7", "RU", 10, 10], ["27", "ZA", 9, 9], ["353", "IE", 7, 9], ["41", "CH", 9, 9], ["32", "BE", 8, 9], ["48", "PL", 9, 9], ["65", "SG", 8, 8],
];

export function lookup(k: Kernel, raw: string, countryCode: string | undefined) {
  let s = raw.trim().replace(/[\s().-]/g, "");
  const url = `${k.world().urls.twilio}/lookups/v2/PhoneNumbers/${encodeURIComponent(raw)}`;
  if (!s.startsWith("+")) {
    const c = COUNTRIES.find(([, iso]) => iso === (countryCode ?? "US").toUpperCase());
    if (c) s = `+${c[0]}${s.replace(/^0/, "")}`;
  }
  const digits = s.slice(1);
  const c = /^\+\d+$/.test(s) ? COUNTRIES.find(([cc]) => digits.startsWith(cc)) : undefined;
  let errors: string[] = [];
  let national = "";
  if (!c) errors = /^\+\d+$/.test(s) ? ["INVALID_COUNTRY_CODE"] : ["NOT_A_NUMBER"];
  else {
    national = digits.slice(c[0].length);
    if (national.length < c[2]) errors = ["TOO_SHORT"];
    else if (national.length > c[3]) errors = ["TOO_LONG"];
    else if (c[0] === "1" && !/^[2-9]\d{2}[2-9]\d{6}$/.test(national)) errors = ["INVALID_BUT_POSSIBLE"];
  }
  const valid = errors.length === 0;
  return {
    calling_country_code: c ? c[0] : null,
    country_code: c ? c[1] : null,
    phone_number: valid ? s : raw,
    national_format: valid ? (c![0] === "1" ? friendly(s) : national) : null,
    valid,
    validation_errors: valid ? null : errors,
    caller_name: null,
    sim_swap: null,
    call_forwarding: null,
    line_status: null,
    line_type_intelligence: null,
    identity_match: null,
    reassigned_number: null,
    sms_pumping_risk: null,
    phone_number_quality_score: null,
    pre_fill: null,
    url,
  };
}
