// Tax ids: a customer's (`/v1/customers/{id}/tax_ids`) and the account's own or any owner's
// (`/v1/tax_ids`). Values are checked against the format of their type, as Stripe does before it
// accepts one; EU VAT, GB VAT and Australian ABNs go to verification (pending in test mode).
import { err } from "./errors.ts";
import { emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, Params, listJson, listQuery, type Ctx } from "./wire.ts";

/** Every type stripe-node 23 knows. */
const TYPES = [
  "ad_nrt", "ae_trn", "al_tin", "am_tin", "ao_tin", "ar_cuit", "au_abn", "au_acn", "au_arn", "au_wpn", "aw_tin", "az_tin", "ba_tin", "bb_tin", "bd_bin",
  "bf_ifu", "bg_uic", "bh_vat", "bj_ifu", "bo_tin", "br_cnpj", "br_cpf", "bs_tin", "bw_vat", "by_tin", "ca_bn", "ca_gst_hst", "ca_pst_bc", "ca_pst_mb",
  "ca_pst_sk", "ca_qst", "cd_nif", "ch_uid", "ch_vat", "ci_vat", "cl_tin", "cm_niu", "cn_tin", "co_nit", "cr_tin", "cv_nif", "cz_dic", "de_stn",
  "do_rcn", "ec_ruc", "eg_tin", "es_cif", "et_tin", "eu_oss_vat", "eu_vat", "fo_vat", "fr_siren", "fr_siret", "fr_spi", "gb_vat", "ge_vat", "gh_tin",
  "gi_tin", "gn_nif", "hk_br", "hr_oib", "hu_tin", "ic_nif", "id_npwp", "il_vat", "in_gst", "is_kt", "is_vat", "it_cf", "jp_cn", "jp_rn", "jp_trn",
  "ke_pin", "kg_tin", "kh_tin", "kr_brn", "kz_bin", "la_tin", "li_uid", "li_vat", "lk_vat", "ma_vat", "md_cf", "md_vat", "me_pib", "mk_vat", "mr_nif",
  "mu_vat", "mx_rfc", "my_frp", "my_itn", "my_sst", "mz_nuit", "ng_tin", "no_vat", "no_voec", "np_pan", "nz_bn", "nz_gst", "om_vat", "pe_ruc", "ph_tin",
  "pl_nip", "pt_nif", "py_ruc", "ro_tin", "rs_pib", "ru_inn", "ru_kpp", "sa_vat", "sg_gst", "sg_uen", "si_tin", "sm_coe", "sn_ninea", "sr_fin",
  "sv_nit", "th_vat", "tj_tin", "tr_tin", "tt_bir", "tt_vat", "tw_vat", "tz_vat", "ua_vat", "ug_tin", "unknown", "us_ein", "uy_ruc", "uz_tin", "uz_vat",
  "ve_rif", "vn_tin", "za_vat", "zm_tin", "zw_tin"
] as const;

/** Each EU member state's VAT number after its prefix (Greece is EL, Northern Ireland XI). */
const EU_VAT: Record<string, string> = {
  AT: "U\\d{8}", BE: "[01]\\d{9}", BG: "\\d{9,10}", CY: "\\d{8}[A-Z]", CZ: "\\d{8,10}", DE: "\\d{9}", DK: "\\d{8}", EE: "\\d{9}", EL: "\\d{9}",
  ES: "[0-9A-Z]\\d{7}[0-9A-Z]", FI: "\\d{8}", FR: "[0-9A-Z]{2}\\d{9}", HR: "\\d{11}", HU: "\\d{8}", IE: "\\d[0-9A-Z+*]\\d{5}[A-Z]{1,2}", IT: "\\d{11}",
  LT: "\\d{9}|\\d{12}", LU: "\\d{8}", LV: "\\d{11}", MT: "\\d{8}", NL: "\\d{9}B\\d{2}", PL: "\\d{10}", PT: "\\d{9}", RO: "\\d{2,10}", SE: "\\d{12}",
  SI: "\\d{8}", SK: "\\d{10}", XI: "\\d{9}|\\d{12}|GD\\d{3}|HA\\d{3}",
};

/** Formats of the common types (others are only checked for being plausible). */
const FORMATS: Record<string, RegExp> = {
  eu_vat: new RegExp(`^(?:${Object.entries(EU_VAT).map(([c, f]) => `${c}(?:${f})`).join("|")})$`),
  gb_vat: /^GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})$/,
  us_ein: /^\d{2}-?\d{7}$/,
  au_abn: /^\d{11}$/,
  au_arn: /^\d{12}$/,
  ca_bn: /^\d{9}$/,
  ca_gst_hst: /^\d{9}RT\d{4}$/,
  ca_qst: /^\d{10}TQ\d{4}$/,
  in_gst: /^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/,
  ch_vat: /^CHE-?\d{3}\.?\d{3}\.?\d{3} ?(?:MWST|TVA|IVA)$/,
  ch_uid: /^CHE-?\d{3}\.?\d{3}\.?\d{3}$/,
  no_vat: /^\d{9}MVA$/,
  nz_gst: /^\d{8,9}$/,
  jp_cn: /^\d{13}$/,
  jp_rn: /^\d{5}$/,
  jp_trn: /^T\d{13}$/,
  br_cnpj: /^\d{2}\.?\d{3}\.?\d{3}\/?\d{4}-?\d{2}$/,
  br_cpf: /^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$/,
  mx_rfc: /^[A-Z&Ñ]{3,4}\d{6}[A-Z0-9]{3}$/,
  sg_uen: /^[0-9A-Z]{9,10}$/,
  sg_gst: /^[A-Z]\d{8}[A-Z]$|^\d{9}[A-Z]$|^[A-Z]{2}\d{7}[A-Z]$/,
  za_vat: /^4\d{9}$/,
  kr_brn: /^\d{3}-?\d{2}-?\d{5}$/,
  es_cif: /^[A-Z]\d{8}$/,
  de_stn: /^\d{10,11}$|^\d{2,3}\/\d{3,4}\/\d{4,5}$/,
};

/** Types whose values Stripe sends to a government registry to verify. */
const VERIFIED = new Set(["eu_vat", "gb_vat", "au_abn"]);

function countryOf(type: string, value: string): string | null {
  if (type === "eu_vat") {
    const prefix = value.slice(0, 2);
    return prefix === "EL" ? "GR" : prefix === "XI" ? "GB" : prefix;
  }
  if (type === "eu_oss_vat" || type === "unknown") return null;
  return type.slice(0, 2).toUpperCase();
}

/** A new customer's `tax_id_data[]`: each entry becomes one of its tax ids. */
export function taxIdData(s: Ctx, p: Params, customerId: string): void {
  const raw = p.raw.tax_id_data;
  if (raw === undefined || raw === "") return;
  const list = Array.isArray(raw) ? raw : typeof raw === "object" && raw !== null ? Object.values(raw) : null;
  if (!list) throw err.invalidArray("tax_id_data");
  list.forEach((entry, i) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw err.invalidObject(`tax_id_data[${i}]`);
    const ep = new Params(entry as Record<string, unknown>, `tax_id_data[${i}]`);
    ep.allow("type", "value");
    const { type, value } = validated(ep);
    insert(s, type, value, { customer: customerId, customer_account: null, type: "customer" });
  });
}

function validated(p: Params): { type: string; value: string } {
  const type = p.oneOf("type", TYPES, { required: true })!;
  const value = p.reqStr("value").trim();
  const format = FORMATS[type];
  const plausible = format ? format.test(value) : /^[0-9A-Za-z][0-9A-Za-z .\-\/]{1,38}$/.test(value);
  if (!plausible) throw err.invalid(`Invalid value for ${type}.`, { code: "tax_id_invalid", param: p.name("value") });
  return { type, value };
}

type Owner = { type: string; customer?: string; account?: string; application?: string; customer_account: string | null };

function insert(s: Ctx, type: string, value: string, owner: Owner): Obj {
  const customer = owner.type === "customer" ? (owner.customer ?? null) : null;
  const tax: Obj = {
    id: newId(s.k, "tax_id"),
    object: "tax_id",
    country: countryOf(type, value),
    created: unixNow(s.k),
    customer,
    customer_account: null,
    livemode: false,
    owner,
    type,
    value,
    // Only a customer's tax id is verified; the account's own carry none, as Stripe shows them.
    verification: !customer ? null : { status: VERIFIED.has(type) ? "pending" : "unavailable", verified_address: null, verified_name: null },
  };
  s.store.insert("tax_id", tax);
  emit(s, customer ? "customer.tax_id.created" : "tax_id.created", tax);
  return tax;
}

function remove(s: Ctx, tax: Obj): Obj {
  s.store.remove("tax_id", tax.id);
  emit(s, tax.customer ? "customer.tax_id.deleted" : "tax_id.deleted", tax);
  return { id: tax.id, object: "tax_id", deleted: true };
}

// ---- a customer's tax ids --------------------------------------------------------------------

/** Stripe keeps at most 25 tax ids a customer. */
const MAX_PER_CUSTOMER = 25;

const liveCustomer = (s: Ctx, id: string) => s.store.get("customer", id, "customer");

export function createCustomerTaxId(s: Ctx, customerId: string, p: Params): Obj {
  p.allow("type", "value");
  const customer = liveCustomer(s, customerId);
  const { type, value } = validated(p);
  const held = s.store.list("tax_id", { limit: MAX_PER_CUSTOMER }, { customer: customer.id }).data.length;
  if (held >= MAX_PER_CUSTOMER) throw err.invalid(`A customer can have at most ${MAX_PER_CUSTOMER} tax IDs.`, { code: "tax_id_prohibited", param: "value" });
  return insert(s, type, value, { customer: customer.id, customer_account: null, type: "customer" });
}

function customerTaxId(s: Ctx, customerId: string, id: string): Obj {
  liveCustomer(s, customerId);
  const tax = s.store.find("tax_id", id);
  if (!tax || tax.customer !== customerId) throw err.missing("tax id", id);
  return tax;
}

export const retrieveCustomerTaxId = (s: Ctx, customerId: string, id: string) => customerTaxId(s, customerId, id);
export const deleteCustomerTaxId = (s: Ctx, customerId: string, id: string) => remove(s, customerTaxId(s, customerId, id));

export function listCustomerTaxIds(s: Ctx, customerId: string, p: Params) {
  p.allow(...LIST_PARAMS);
  liveCustomer(s, customerId);
  return listJson(`/v1/customers/${customerId}/tax_ids`, s.store.list("tax_id", listQuery(p), { customer: customerId }));
}

// ---- /v1/tax_ids ------------------------------------------------------------------------------

function ownerOf(s: Ctx, p: Params): Owner {
  const o = p.obj("owner");
  if (!o) return { type: "self", customer_account: null };
  o.allow("type", "customer", "account", "customer_account");
  const type = o.oneOf("type", ["account", "application", "customer", "self"], { required: true })!;
  if (type === "customer") {
    const customer = liveCustomer(s, o.str("customer", { required: true })!).id;
    return { customer, customer_account: null, type };
  }
  if (type === "account") return { account: o.str("account", { required: true })!, customer_account: null, type };
  return { customer_account: null, type };
}

export function createTaxId(s: Ctx, p: Params): Obj {
  p.allow("type", "value", "owner");
  const owner = ownerOf(s, p);
  const { type, value } = validated(p);
  return insert(s, type, value, owner);
}

export const retrieveTaxId = (s: Ctx, id: string) => s.store.get("tax_id", id);
export const deleteTaxId = (s: Ctx, id: string) => remove(s, s.store.get("tax_id", id));

export function listTaxIds(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "owner");
  const owner = ownerOf(s, p);
  const where: Record<string, unknown> = { "owner.type": owner.type };
  if (owner.customer) where["owner.customer"] = owner.customer;
  if (owner.account) where["owner.account"] = owner.account;
  return listJson("/v1/tax_ids", s.store.list("tax_id", listQuery(p), where));
}
