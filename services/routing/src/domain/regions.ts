// Sales regions as the sales org uses them. Territories and rules may name a region instead of
// listing dozens of countries; these lists decide what the region covers.

const codes = (list: string): readonly string[] => list.trim().split(/\s+/);

const EUROPE = 'AD AL AM AT AX AZ BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GE GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK';
const MIDDLE_EAST = 'AE BH IL IQ IR JO KW LB OM PS QA SA SY TR YE';
const AFRICA =
  'AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW';

export const REGIONS: Readonly<Record<string, readonly string[]>> = {
  NA: codes('US CA PR VI GU AS MP UM BM PM'),
  LATAM: codes(
    'MX BZ CR SV GT HN NI PA AG AI AW BB BL BQ BS CU CW DM DO GD GP HT JM KN KY LC MF MQ MS SX TC TT VC VG AR BO BR CL CO EC FK GF GY PE PY SR UY VE',
  ),
  EMEA: codes(`${EUROPE} ${MIDDLE_EAST} ${AFRICA}`),
  APAC: codes(
    'AF AU NZ CN HK MO TW JP KR KP MN BN KH ID LA MY MM PH SG TH TL VN BD BT IN MV NP PK LK KZ KG TJ TM UZ FJ PG SB VU NC PF WS TO KI FM MH NR PW TV CK NU',
  ),
};

export const isRegionName = (name: string): boolean => Object.hasOwn(REGIONS, name.toUpperCase());

export const isCountryCode = (code: string): boolean => /^[A-Z]{2}$/.test(code);

// A territory is either an ISO 3166-1 alpha-2 code or a region name.
export function territoryCovers(territory: string, country: string): boolean {
  const t = territory.toUpperCase();
  const c = country.toUpperCase();
  return t === c || (REGIONS[t]?.includes(c) ?? false);
}
