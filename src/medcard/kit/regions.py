"""Names for the codes people should never have to read (issue 9): GB/T 2260 administrative
divisions (the provinces, the cities the insurance policy uses and a few districts), and
ISO 3166-1 alpha-3 countries for nationalities.

A small table, not the whole standard: a code it does not know falls back to its city, then its
province, then the code itself, so a page always shows something true.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str
    name_zh: str
    name_en: str

    @property
    def level(self) -> str:
        """``province`` (``xx0000``), ``city`` (``xxxx00``) or ``district``."""
        if self.code.endswith("0000"):
            return "province"
        return "city" if self.code.endswith("00") else "district"

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


_ROWS = """
110000 北京市 Beijing|120000 天津市 Tianjin|130000 河北省 Hebei|140000 山西省 Shanxi|
150000 内蒙古自治区 Inner_Mongolia|210000 辽宁省 Liaoning|220000 吉林省 Jilin|230000 黑龙江省 Heilongjiang|
310000 上海市 Shanghai|320000 江苏省 Jiangsu|330000 浙江省 Zhejiang|340000 安徽省 Anhui|350000 福建省 Fujian|
360000 江西省 Jiangxi|370000 山东省 Shandong|410000 河南省 Henan|420000 湖北省 Hubei|430000 湖南省 Hunan|
440000 广东省 Guangdong|450000 广西壮族自治区 Guangxi|460000 海南省 Hainan|500000 重庆市 Chongqing|
510000 四川省 Sichuan|520000 贵州省 Guizhou|530000 云南省 Yunnan|540000 西藏自治区 Tibet|
610000 陕西省 Shaanxi|620000 甘肃省 Gansu|630000 青海省 Qinghai|640000 宁夏回族自治区 Ningxia|
650000 新疆维吾尔自治区 Xinjiang|710000 台湾省 Taiwan|810000 香港特别行政区 Hong_Kong|820000 澳门特别行政区 Macao|
110100 北京市 Beijing|110101 东城区 Dongcheng|110102 西城区 Xicheng|110105 朝阳区 Chaoyang|110106 丰台区 Fengtai|
110108 海淀区 Haidian|110118 密云区 Miyun|120100 天津市 Tianjin|120101 和平区 Heping|
130100 石家庄市 Shijiazhuang|130102 长安区 Chang'an|310100 上海市 Shanghai|310101 黄浦区 Huangpu|
310104 徐汇区 Xuhui|310115 浦东新区 Pudong|440100 广州市 Guangzhou|440103 荔湾区 Liwan|440106 天河区 Tianhe|
440300 深圳市 Shenzhen|440303 罗湖区 Luohu|440305 南山区 Nanshan|510100 成都市 Chengdu|510104 锦江区 Jinjiang|
510107 武侯区 Wuhou|650100 乌鲁木齐市 Urumqi|650102 天山区 Tianshan|230100 哈尔滨市 Harbin|230102 道里区 Daoli
"""

REGIONS: dict[str, Region] = {}
for _row in _ROWS.replace("\n", "").split("|"):
    _code, _zh, *_en = _row.split(" ")
    if _zh != "-":
        REGIONS[_code] = Region(_code, _zh, " ".join(_en).replace("_", " "))

# The capital-city level of the four municipalities (1101, 1201, 3101, 5001) reads as the city.
MUNICIPALITIES = {"11", "12", "31", "50"}


def region(code: str | None) -> Region | None:
    """The most precise known division for ``code``: itself, its city, then its province."""
    if not code or len(code) != 6 or not code.isdigit():
        return None
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        if candidate in REGIONS:
            return REGIONS[candidate]
    return None


def region_name(code: str | None, lang: str = "zh", *, full: bool = False) -> str:
    """``北京市`` for 110000; ``北京市朝阳区`` with ``full`` for 110105; the code when unknown."""
    found = region(code)
    if found is None or code is None:
        return code or ""
    if not full or found.level == "province":
        return found.name(lang)
    parts = [found]
    province = REGIONS.get(found.code[:2] + "0000")
    city = REGIONS.get(found.code[:4] + "00")
    if city is not None and city is not found and found.code[:2] not in MUNICIPALITIES:
        parts.insert(0, city)
    if province is not None and province is not found:
        parts.insert(0, province)
    return ("" if lang == "zh" else ", ").join(p.name(lang) for p in (parts if lang == "zh" else reversed(parts)))


def provinces() -> list[Region]:
    return [r for r in REGIONS.values() if r.level == "province"]


def children(code: str) -> list[Region]:
    """Cities of a province (``xx0000``) or districts of a city (``xxxx00``) in the table."""
    if code.endswith("0000"):
        return [r for r in REGIONS.values() if r.level == "city" and r.code[:2] == code[:2] and r.code != code]
    return [r for r in REGIONS.values() if r.level == "district" and r.code[:4] == code[:4]]


COUNTRIES: dict[str, tuple[str, str]] = {
    "CHN": ("中国", "China"),
    "HKG": ("中国香港", "Hong Kong, China"),
    "MAC": ("中国澳门", "Macao, China"),
    "TWN": ("中国台湾", "Taiwan, China"),
    "USA": ("美国", "United States"),
    "GBR": ("英国", "United Kingdom"),
    "JPN": ("日本", "Japan"),
    "KOR": ("韩国", "Republic of Korea"),
    "DEU": ("德国", "Germany"),
    "FRA": ("法国", "France"),
    "CAN": ("加拿大", "Canada"),
    "AUS": ("澳大利亚", "Australia"),
    "RUS": ("俄罗斯", "Russia"),
    "SGP": ("新加坡", "Singapore"),
    "MYS": ("马来西亚", "Malaysia"),
    "THA": ("泰国", "Thailand"),
    "VNM": ("越南", "Viet Nam"),
    "IND": ("印度", "India"),
    "PAK": ("巴基斯坦", "Pakistan"),
    "ITA": ("意大利", "Italy"),
    "ESP": ("西班牙", "Spain"),
    "BRA": ("巴西", "Brazil"),
}


def country_name(code: str | None, lang: str = "zh") -> str:
    """``中国`` for CHN; the code itself for a country the table does not know."""
    names = COUNTRIES.get((code or "").upper())
    return (names[0] if lang == "zh" else names[1]) if names else (code or "")
