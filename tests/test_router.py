"""The router: which texts are for the bot, which command, in which language, with which arguments."""
import pytest

from bot.router import nearest_command, route


@pytest.mark.parametrize(
    "text, name, lang, rest",
    [
        ("下单 A12 2", "buy", "zh", "A12 2"),
        ("buy a12 2", "buy", "en", "a12 2"),
        ("BUY A12", "buy", "en", "A12"),
        ("/下单 A12 2", "buy", "zh", "A12 2"),
        ("#buy A12", "buy", "en", "A12"),
        ("下单 Ａ１２ ２", "buy", "zh", "A12 2"),  # full-width letters and digits
        ("下单A12 2", "buy", "zh", "A12 2"),  # a Chinese word glued to an ASCII argument
        ("商品", "browse", "zh", ""),
        ("商品 鞋", "browse", "zh", "鞋"),
        ("更多", "more", "zh", ""),
        ("我的订单", "orders", "zh", ""),
        ("  help  ", "help", "en", ""),
    ],
)
def test_command_words(text, name, lang, rest):
    r = route(text)
    assert (r.command.name, r.lang, r.rest) == (name, lang, rest)


@pytest.mark.parametrize("text", ["大家好", "商品很好看", "hello everyone", "buyer beware", "12345", ""])
def test_group_talk_is_not_for_the_bot(text):
    assert route(text) is None


def test_a_mention_addresses_the_bot_and_is_dropped():
    r = route("@tuanbot 下单 A12", mentions_bot=True)
    assert (r.command.name, r.rest) == ("buy", "A12")
    unknown = route("@tuanbot 你好", mentions_bot=True)
    assert unknown.command is None and unknown.word == "你好"


def test_private_chat_every_text_is_for_the_bot():
    r = route("hello", is_private=True)
    assert r is not None and r.command is None and r.lang == "en"
    assert route("hello") is None


def test_prefixed_unknown_word_is_for_the_bot_with_its_language():
    assert route("/xiadan").lang == "en"
    r = route("#帮组")
    assert r.command is None and r.lang == "zh" and r.word == "帮组"


def test_nearest_command_stays_in_the_language_typed():
    assert nearest_command("帮组", "zh") == "帮助"
    assert nearest_command("hepl", "en") == "help"
    assert nearest_command("ordres", "en") == "orders"


def test_only_the_forms_spec_names_are_read_as_half_width():
    r = route("推送 明天 ０９：００ 早安，今天上新！")
    assert r.rest == "明天 09:00 早安，今天上新！"  # the Chinese comma and exclamation mark are content
    assert r.raw_rest == "明天 ０９：００ 早安，今天上新！"
    assert route("＋２").rest == "2" and route("／buy Ａ１２").rest == "A12"
    assert route("＃下单 Ａ１２ ２").rest == "A12 2"


def test_a_push_keeps_its_text_exactly_as_typed(chat):
    chat.send("推送 明天 ０９：００ 早安，今天上新！", role="owner")
    assert "早安，今天上新！" in chat.send("推送 列表", role="owner")
