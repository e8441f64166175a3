"""Invented names for the demo county: places and people, each with a pinyin spelling.

Every name here is made up from common syllables; any likeness to a real place or person is
chance. Pure: the caller passes the seeded `random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

# (hanzi, pinyin) pairs.
Syllable = tuple[str, str]

SURNAMES_TEXT = (
    "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 赵:zhao 黄:huang 周:zhou 吴:wu 徐:xu 孙:sun "
    "马:ma 朱:zhu 胡:hu 郭:guo 何:he 高:gao 罗:luo 郑:zheng 梁:liang 谢:xie 宋:song 唐:tang "
    "韩:han 冯:feng 邓:deng 曹:cao 彭:peng 田:tian 董:dong 袁:yuan 潘:pan 蒋:jiang 蔡:cai 余:yu "
    "杜:du 苏:su 魏:wei 程:cheng 吕:lv 丁:ding 任:ren 姚:yao 卢:lu 姜:jiang 崔:cui 汪:wang 范:fan "
    "石:shi 贾:jia 白:bai 孟:meng 秦:qin 邱:qiu 尹:yin 薛:xue 段:duan 雷:lei 侯:hou 龙:long "
    "史:shi 陶:tao 贺:he 毛:mao 郝:hao 邵:shao 严:yan 武:wu "
)
WOMEN = (
    "秀英:xiuying 桂英:guiying 秀兰:xiulan 玉兰:yulan 桂兰:guilan 淑珍:shuzhen 丽:li 静:jing "
    "敏:min 燕:yan 娟:juan 霞:xia 艳:yan 芳:fang 红梅:hongmei 丽娟:lijuan 海燕:haiyan "
    "晓燕:xiaoyan 春梅:chunmei 雪梅:xuemei 小红:xiaohong 玉梅:yumei 凤英:fengying 巧玲:qiaoling "
    "巧云:qiaoyun 彩霞:caixia 亚琴:yaqin 永红:yonghong 文娟:wenjuan 慧:hui"
)
MEN = (
    "建国:jianguo 建军:jianjun 志强:zhiqiang 海军:haijun 国强:guoqiang 振华:zhenhua 文斌:wenbin "
    "立新:lixin 德明:deming 新民:xinmin 伟:wei 军:jun 强:qiang 勇:yong 杰:jie 涛:tao 斌:bin "
    "永平:yongping 进才:jincai 明亮:mingliang 鹏:peng 晓东:xiaodong 治国:zhiguo 学文:xuewen"
)
YOUNG = (
    "婷:ting 雪:xue 佳:jia 悦:yue 欣怡:xinyi 梦瑶:mengyao 雨欣:yuxin 思雨:siyu 晨:chen "
    "浩:hao 宇:yu 博文:bowen 一鸣:yiming 子涵:zihan 嘉怡:jiayi 佳琪:jiaqi"
)


def _pairs(text: str) -> tuple[Syllable, ...]:
    return tuple((item.split(":")[0], item.split(":")[1]) for item in text.split())


SURNAMES = _pairs(SURNAMES_TEXT)
GIVEN = {"woman": _pairs(WOMEN), "man": _pairs(MEN), "young": _pairs(YOUNG)}

PLACE_HEADS: tuple[str, ...] = tuple(
    "清石柳云金杨白龙马红青安兴太大平新卢何苏洛晒姜蒿西东南北上下高黄"
)
TOWN_TAILS: tuple[str, ...] = tuple("川坪峪岭湾堡源河桥关滩寨店台")
VILLAGE_TAILS: tuple[str, ...] = (
    "家庄", "家湾", "家沟", "家坪", "家山", "沟", "坪", "岭", "山", "川", "河", "台", "坝",
    "湾", "寨", "堡", "咀", "峪", "洼", "庄",
)  # fmt: skip
COMMUNITY_NAMES: tuple[str, ...] = (
    "东街", "西街", "南关", "北关", "新城", "城关", "河滨", "文化", "建设", "朝阳",
    "团结", "和平", "幸福", "光明",
)  # fmt: skip
CRAFTS: tuple[str, ...] = (
    "香包刺绣", "手工编织", "服装加工", "食用菌种植", "花椒分拣", "中药材加工", "布鞋制作",
    "工艺品加工",
)  # fmt: skip
COUNTY_TAILS: tuple[str, ...] = tuple("和宁川阳山源原平安昌")


def place(rng: random.Random, tails: Sequence[str], taken: set[str], suffix: str) -> str:
    """A new invented place name ``head + tail + suffix`` not in ``taken`` (then added)."""
    for attempt in range(200):
        name = rng.choice(PLACE_HEADS) + rng.choice(tails) + suffix
        if attempt > 100:
            name = rng.choice(PLACE_HEADS) + name
        if name not in taken:
            taken.add(name)
            return name
    name = f"{rng.choice(PLACE_HEADS)}{len(taken)}{suffix}"
    taken.add(name)
    return name


def person(rng: random.Random, kind: str) -> tuple[str, str]:
    """An invented (name, pinyin) for a person of ``kind``: woman, man or young."""
    surname, surname_py = rng.choice(SURNAMES)
    given, given_py = rng.choice(GIVEN[kind])
    return surname + given, surname_py + given_py
